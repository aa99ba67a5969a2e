"""Payment rules: start a payment, capture, refund, and apply each gateway event exactly once.

What a payment means for an order (paid, refunded) is not decided here: every change is handed
to the listeners registered for its action (the orders package registers its own), so this
package never reads the orders' tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.db import new_id, utcnow
from marketplace.errors import Conflict, Invalid, NotFound
from marketplace.i18n import _
from marketplace.money import Money
from marketplace.outbox import EventType, record
from marketplace.payments.adapters import GATEWAY_NAMES, TRANSFER_GATEWAYS
from marketplace.payments.gateway import (
    CapturePayment,
    CreatePayment,
    CurrencyNotSupported,
    GatewayUnavailable,
    NotOfferedThere,
    PaymentGateway,
    PaymentKind,
    PaymentStatus,
    RefundPayment,
    TransferInstructions,
    UnknownGateway,
    WebhookAction,
    WebhookEvent,
)
from marketplace.payments.models import Payment, PaymentRefund, WebhookEventRecord, WebhookOutcome


@dataclass(frozen=True, slots=True)
class PaymentChange:
    """What a listener is told: plain values, so the orders package needs none of our models."""

    action: WebhookAction
    payment_id: str
    order_id: str
    gateway: str
    status: PaymentStatus
    amount: Money
    refunded: Money
    change: Money  # this event's amount: the payment, or the newly refunded part
    shipment_id: str | None = None
    failure_code: str | None = None


PaymentListener = Callable[[Session, PaymentChange], None]
Listeners = Mapping[WebhookAction, PaymentListener]


@dataclass(frozen=True, slots=True)
class StartedPayment:
    """A payment and what the storefront needs to finish it (the card's secret, or where to wire)."""

    payment: Payment
    client_secret: str | None
    publishable_key: str | None = None
    instructions: TransferInstructions | None = None


def offered(countries: Mapping[str, frozenset[str]], gateway: str, country: str | None) -> bool:
    """Whether the gateway is offered for buyers in `country` (PAYMENT_COUNTRIES)."""
    return country is None or gateway not in countries or country in countries[gateway]


def choose_gateway(
    gateways: Mapping[str, PaymentGateway],
    name: str,
    currency: str,
    *,
    country: str | None = None,
    countries: Mapping[str, frozenset[str]] | None = None,
) -> PaymentGateway:
    """An enabled gateway that takes this currency (and is offered for this destination),
    decided before any call is made: a gateway this deployment has not configured is a 409
    `gateway_unavailable`, anything else a 422."""
    gateway = gateways.get(name)
    if gateway is None and name in GATEWAY_NAMES:
        raise GatewayUnavailable(errors={"gateway": [GatewayUnavailable.default_detail]})
    if gateway is None:
        raise UnknownGateway(errors={"gateway": [_("This payment method is not available.")]})
    if not gateway.supports_currency(currency):
        message = _("This payment method does not accept %(currency)s.", currency=currency)
        raise CurrencyNotSupported(message, errors={"currency": [message]})
    if not offered(countries or {}, name, country):
        message = _("This payment method is not offered for %(country)s.", country=country)
        raise NotOfferedThere(message, errors={"gateway": [message]})
    return gateway


def start_payment(
    session: Session,
    gateway: PaymentGateway,
    *,
    order_id: str,
    amount: Money,
    idempotency_key: str,
    metadata: Mapping[str, str] | None = None,
    reference: str = "",
    now: dt.datetime | None = None,
) -> StartedPayment:
    """Create the payment at the gateway in the order currency and record it as ours.

    The recorded amount is what the gateway takes: for a three-decimal currency at Stripe that is
    the amount rounded half-up to a multiple of 0.010, so it may differ from `amount` by 0.005.

    The gateway call carries the idempotency key, so a retry after a lost answer finds the same
    remote payment instead of charging twice.
    """
    existing = session.scalar(select(Payment).where(Payment.idempotency_key == idempotency_key))
    if existing is not None:
        if existing.order_id != order_id:
            raise Conflict(
                _("This idempotency key was used for another order."), code="idempotency_key_reused"
            )
        return StartedPayment(existing, None)
    if not amount.is_quantized() or amount.is_zero() or amount.is_negative():
        raise Invalid(_("The amount to pay must be positive."), code="amount_invalid")
    result = gateway.create_payment(
        CreatePayment(
            amount=amount,
            idempotency_key=idempotency_key,
            metadata={"order_id": order_id, **(metadata or {})},
            reference=reference,
            requested_at=now,
        )
    )
    # What the gateway will really take: a three-decimal amount at Stripe is rounded to the ten.
    taken = result.amount if result.amount.currency == amount.currency else amount
    payment = Payment(
        order_id=order_id,
        gateway=gateway.name,
        reference=result.reference,
        idempotency_key=idempotency_key,
        status=result.status,
        amount_minor=taken.minor,
        refunded_minor=0,
        currency=taken.currency,
        due_at=result.instructions.due_at if result.instructions else None,
    )
    session.add(payment)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(
            _("This payment is already being created."), code="payment_in_progress"
        ) from exc
    record(session, EventType.PAYMENT_CREATED, order_id=order_id, payment_id=payment.id)
    return StartedPayment(
        payment, result.client_secret, result.publishable_key, result.instructions
    )


@dataclass(frozen=True)
class PaymentMethod:
    """A configured way to pay and the currencies it takes (only the one asked about, if any)."""

    gateway: str
    kind: PaymentKind
    currencies: list[str]


def payment_methods(
    gateways: Mapping[str, PaymentGateway],
    currency: str | None = None,
    country: str | None = None,
    countries: Mapping[str, frozenset[str]] | None = None,
) -> list[PaymentMethod]:
    """The configured gateways; those taking `currency`, and offered for `country`, when given."""
    return [
        PaymentMethod(
            gateway.name, gateway.kind, sorted([currency] if currency else gateway.currencies())
        )
        for gateway in gateways.values()
        if (currency is None or gateway.supports_currency(currency))
        and offered(countries or {}, gateway.name, country)
    ]


def cancel_pending_transfers(session: Session, order_ids: Sequence[str]) -> list[str]:
    """The orders will not be paid (cancelled or expired): the bank transfers they still await
    are cancelled, whatever is configured now. Money that arrives later is handled as any late
    money: an operator's capture records it and refunds it in full at once."""
    if not order_ids:
        return []
    return list(
        session.scalars(
            update(Payment)
            .where(
                Payment.order_id.in_(order_ids),
                Payment.gateway.in_(TRANSFER_GATEWAYS),
                Payment.status == PaymentStatus.PENDING,
            )
            .values(status=PaymentStatus.CANCELLED)
            .returning(Payment.id)
            .execution_options(synchronize_session="fetch")
        )
    )


def get_payment(session: Session, payment_id: str) -> Payment:
    payment = session.get(Payment, payment_id)
    if payment is None:
        raise NotFound()
    return payment


def payments_of_order(session: Session, order_id: str) -> list[Payment]:
    return list(
        session.scalars(
            select(Payment).where(Payment.order_id == order_id).order_by(Payment.created_at)
        )
    )


def capture_payment(
    session: Session, gateway: PaymentGateway, payment_id: str, listeners: Listeners
) -> Payment:
    """The money arrived (an operator saw the bank transfer): the payment succeeds, once.

    A transfer that arrives after its order was cancelled or expired (the payment cancelled with
    it) is captured all the same, so that the money is on record: the listeners then refund it
    in full, as any money that arrives for an order no longer payable.
    """
    payment = _locked(session, payment_id)
    if payment.gateway != gateway.name:
        raise Conflict(_("This payment is not captured this way."), code="payment_not_capturable")
    if payment.status == PaymentStatus.SUCCEEDED:
        return payment
    late_transfer = (
        payment.status == PaymentStatus.CANCELLED and payment.gateway in TRANSFER_GATEWAYS
    )
    if payment.status not in (PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION) and not (
        late_transfer
    ):
        raise Conflict(_("This payment can no longer be captured."), code="payment_not_capturable")
    result = gateway.capture_payment(
        CapturePayment(
            reference=payment.reference,
            amount=payment.amount,
            idempotency_key=f"capture:{payment.id}",
        )
    )
    if result.status is PaymentStatus.SUCCEEDED:
        _succeed(session, payment, listeners)
    return payment


def refund_payment(
    session: Session,
    gateway: PaymentGateway,
    *,
    payment_id: str,
    amount: Money,
    reason: str,
    idempotency_key: str,
    listeners: Listeners,
    shipment_id: str | None = None,
) -> PaymentRefund:
    """Refund part or all of a payment, in its own currency, never more than remains."""
    payment = _locked(session, payment_id)
    if payment.gateway != gateway.name:
        raise Conflict(_("This payment was made another way."), code="payment_gateway_mismatch")
    if amount.currency != payment.currency:
        message = _(
            "A refund is made in the currency of the payment (%(currency)s).",
            currency=payment.currency,
        )
        raise Invalid(
            message, code="refund_currency_mismatch", errors={"amount.currency": [message]}
        )
    if not amount.is_quantized() or amount.is_zero() or amount.is_negative():
        message = _("The amount to refund must be positive.")
        raise Invalid(message, code="refund_amount_invalid", errors={"amount": [message]})
    if payment.status not in (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED):
        raise Conflict(
            _("Only a completed payment can be refunded."), code="payment_not_refundable"
        )
    remaining = payment.amount_minor - payment.refunded_minor
    if amount.minor > remaining:
        raise Conflict(
            _("The refund is larger than what remains of the payment."),
            code="refund_exceeds_payment",
            extra={"refundable": Money.from_minor(remaining, payment.currency).to_api()},
        )
    result = gateway.refund_payment(
        RefundPayment(
            reference=payment.reference,
            amount=amount,
            reason=reason,
            idempotency_key=idempotency_key,
        )
    )
    # Record what the gateway refunded (its rounding), capped by what remains: never more than paid.
    refunded = min(
        result.amount.minor if result.amount.currency == amount.currency else amount.minor,
        remaining,
    )
    refund = PaymentRefund(
        payment_id=payment.id,
        reference=result.reference,
        shipment_id=shipment_id,
        amount_minor=refunded,
        currency=amount.currency,
        reason=reason,
        status=result.status,
    )
    session.add(refund)
    _record_refund(session, payment, refund)
    _add_refunded(session, payment, refunded, listeners, shipment_id=shipment_id)
    return refund


def apply_webhook_event(
    session: Session, gateway_name: str, event: WebhookEvent, listeners: Listeners
) -> WebhookOutcome:
    """Store the event by its id and apply it, once, even when delivered twice at the same time.

    The insert relies on the unique (gateway, event_id) key with ON CONFLICT DO NOTHING: a
    concurrent second delivery waits for the first to commit, then inserts nothing and stops.
    """
    record_id = new_id()
    if not _insert_once(session, record_id, gateway_name, event):
        return WebhookOutcome.DUPLICATE
    outcome, details = _apply(session, gateway_name, event, listeners)
    session.execute(
        update(WebhookEventRecord)
        .where(WebhookEventRecord.id == record_id)
        .values(outcome=outcome, details=details)
    )
    return outcome


def _insert_once(session: Session, record_id: str, gateway_name: str, event: WebhookEvent) -> bool:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    details: dict[str, Any] = {}
    if event.amount is not None:
        details["amount"] = event.amount.to_api()
    if event.failure_code:
        details["failure_code"] = event.failure_code
    statement = (
        insert(WebhookEventRecord)
        .values(
            id=record_id,
            gateway=gateway_name,
            event_id=event.event_id[:255],
            event_type=event.event_type[:100],
            action=event.action,
            payment_reference=event.payment_reference,
            outcome=WebhookOutcome.IGNORED,
            details=details,
            occurred_at=event.occurred_at,
            received_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["gateway", "event_id"])
        .returning(WebhookEventRecord.id)
    )
    return session.execute(statement).scalar() is not None


def _apply(
    session: Session, gateway_name: str, event: WebhookEvent, listeners: Listeners
) -> tuple[WebhookOutcome, dict[str, Any]]:
    details: dict[str, Any] = {}
    if event.amount is not None:
        details["amount"] = event.amount.to_api()
    if event.action is WebhookAction.IGNORED or event.payment_reference is None:
        return WebhookOutcome.IGNORED, details
    payment = session.scalar(
        select(Payment)
        .where(Payment.gateway == gateway_name, Payment.reference == event.payment_reference)
        .with_for_update()
    )
    if payment is None:
        return WebhookOutcome.UNMATCHED, details
    if event.amount is not None and event.amount.currency != payment.currency:
        details["refused"] = "currency_mismatch"
        return WebhookOutcome.IGNORED, details
    if event.action is WebhookAction.PAYMENT_SUCCEEDED and (
        event.amount is None or event.amount.minor != payment.amount_minor
    ):
        # Money received is not what the order charged: never mark it paid on that.
        details["refused"] = "amount_mismatch"
        return WebhookOutcome.IGNORED, details
    if event.action is WebhookAction.PAYMENT_SUCCEEDED:
        if payment.status not in (
            PaymentStatus.PENDING,
            PaymentStatus.REQUIRES_ACTION,
            PaymentStatus.FAILED,
        ):
            # Already succeeded (or refunded since): a late or repeated success changes nothing.
            return WebhookOutcome.IGNORED, {**details, "stale": True}
        # A success after a failed attempt is normal: the buyer retried with another card.
        return _succeed(session, payment, listeners), details
    if event.action is WebhookAction.PAYMENT_FAILED:
        if payment.status not in (PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION):
            # A failure arriving after the success (out of order) must not undo the payment.
            return WebhookOutcome.IGNORED, {**details, "stale": True}
        payment.status = PaymentStatus.FAILED
        payment.failure_code = event.failure_code
        record(session, EventType.PAYMENT_FAILED, order_id=payment.order_id, payment_id=payment.id)
        session.flush()
        return _notify(
            session, listeners, _change(payment, WebhookAction.PAYMENT_FAILED, payment.amount)
        ), details
    # REFUNDED: the gateway reports the total refunded so far; only the part we have not recorded
    # (a refund made at the gateway's dashboard) is new.
    if event.amount is None:
        return WebhookOutcome.IGNORED, details
    new_minor = min(event.amount.minor, payment.amount_minor) - payment.refunded_minor
    if new_minor <= 0:
        return WebhookOutcome.IGNORED, {**details, "already_recorded": True}
    refund = PaymentRefund(
        payment_id=payment.id,
        reference=event.event_id[:255],
        amount_minor=new_minor,
        currency=payment.currency,
        reason="refunded at the payment provider",
        status=PaymentStatus.SUCCEEDED,
    )
    session.add(refund)
    _record_refund(session, payment, refund)
    return _add_refunded(session, payment, new_minor, listeners), details


def _record_refund(session: Session, payment: Payment, refund: PaymentRefund) -> None:
    """`refund.created`; naming the shipment refunded, when there is one, keeps it to its seller."""
    session.flush()  # the refund's id
    shipment = {"shipment_id": refund.shipment_id} if refund.shipment_id else {}
    record(
        session,
        EventType.REFUND_CREATED,
        order_id=payment.order_id,
        payment_id=refund.payment_id,
        refund_id=refund.id,
        **shipment,
    )


def _succeed(session: Session, payment: Payment, listeners: Listeners) -> WebhookOutcome:
    payment.status = PaymentStatus.SUCCEEDED
    payment.failure_code = None
    session.flush()
    return _notify(
        session, listeners, _change(payment, WebhookAction.PAYMENT_SUCCEEDED, payment.amount)
    )


def _add_refunded(
    session: Session,
    payment: Payment,
    minor: int,
    listeners: Listeners,
    *,
    shipment_id: str | None = None,
) -> WebhookOutcome:
    payment.refunded_minor += minor
    payment.status = (
        PaymentStatus.REFUNDED
        if payment.refunded_minor >= payment.amount_minor
        else PaymentStatus.PARTIALLY_REFUNDED
    )
    session.flush()
    change = _change(
        payment,
        WebhookAction.REFUNDED,
        Money.from_minor(minor, payment.currency),
        shipment_id=shipment_id,
    )
    return _notify(session, listeners, change)


def _notify(session: Session, listeners: Listeners, change: PaymentChange) -> WebhookOutcome:
    """Hand the change to its listener; with none registered it stays recorded for a later replay."""
    listener = listeners.get(change.action)
    if listener is None:
        return WebhookOutcome.UNHANDLED
    listener(session, change)
    return WebhookOutcome.APPLIED


def _change(
    payment: Payment, action: WebhookAction, amount: Money, *, shipment_id: str | None = None
) -> PaymentChange:
    return PaymentChange(
        action=action,
        payment_id=payment.id,
        order_id=payment.order_id,
        gateway=payment.gateway,
        status=PaymentStatus(payment.status),
        amount=payment.amount,
        refunded=payment.refunded,
        change=amount,
        shipment_id=shipment_id,
        failure_code=payment.failure_code,
    )


def _locked(session: Session, payment_id: str) -> Payment:
    payment = session.scalar(select(Payment).where(Payment.id == payment_id).with_for_update())
    if payment is None:
        raise NotFound()
    return payment


def unhandled_events(session: Session, gateway_name: str | None = None) -> list[WebhookEventRecord]:
    """Events applied to a payment while no listener was registered for their action, oldest first."""
    query = select(WebhookEventRecord).where(WebhookEventRecord.outcome == WebhookOutcome.UNHANDLED)
    if gateway_name is not None:
        query = query.where(WebhookEventRecord.gateway == gateway_name)
    return list(session.scalars(query.order_by(WebhookEventRecord.received_at)))
