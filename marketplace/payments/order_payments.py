"""Paying for orders and refunding them: where payments meets the orders package.

The orders package decides who may pay or see an order and what each shipment is worth
(`payable_order`, `get_order`, `seller_shares`); this module charges the order through a gateway,
refunds it per shipment, and writes the sellers' ledger at the order's locked rates.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from marketplace.accounts import services as accounts
from marketplace.accounts.models import OrganisationKind, User
from marketplace.errors import Conflict, Forbidden, Invalid, NotFound
from marketplace.i18n import _
from marketplace.money import Money, allocate
from marketplace.money import services as money
from marketplace.orders import errors, lifecycle, queries
from marketplace.orders.models import Order, OrderStatus
from marketplace.payments import ledger, services
from marketplace.payments.adapters import TRANSFER_GATEWAYS
from marketplace.payments.gateway import (
    PaymentGateway,
    PaymentStatus,
    TransferAccounts,
    TransferInstructions,
)
from marketplace.payments.models import Payment, PaymentRefund
from marketplace.payments.services import Listeners, PaymentChange, StartedPayment

log = logging.getLogger("marketplace.payments")

_REFUNDABLE = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED)


def gateway_key(kind: str, order_id: str, caller: str, key: str | None) -> str:
    """The key sent to the gateway: derived from the caller's Idempotency-Key when there is one,
    so a retry after a lost answer finds the same remote object; otherwise unique per attempt."""
    if key is None:
        return f"{kind}:{order_id}:{uuid.uuid4().hex}"
    digest = hashlib.sha256(f"{caller}\0{key}".encode()).hexdigest()[:32]
    return f"{kind}:{order_id}:{digest}"


def pay_order(
    session: Session,
    user: User,
    order_id: str,
    *,
    gateways: Mapping[str, PaymentGateway],
    gateway_name: str,
    idempotency_key: str | None,
    now: dt.datetime,
    countries: Mapping[str, frozenset[str]] | None = None,
) -> StartedPayment:
    """The buyer starts paying their unpaid order's grand total, in the order currency.

    A bank transfer is due by a date; the order holds its stock until then, so a buyer who pays
    on time is never refunded for being slower than a card. A gateway PAYMENT_COUNTRIES does not
    offer for the order's destination is refused (422 `payment_method_not_offered`).
    """
    order, amount = lifecycle.payable_order(session, user, order_id, now=now)
    gateway = services.choose_gateway(
        gateways,
        gateway_name,
        amount.currency,
        country=order.ship_to_country,
        countries=countries,
    )
    started = services.start_payment(
        session,
        gateway,
        order_id=order.id,
        amount=amount,
        idempotency_key=gateway_key("pay", order.id, user.id, idempotency_key),
        metadata={"order_number": order.number},
        reference=order.number,
        now=now,
    )
    if started.payment.due_at is not None:
        lifecycle.hold_until(session, order.id, started.payment.due_at)
    return started


@dataclass(frozen=True, slots=True)
class VisiblePayment:
    """A payment as one caller may see it: a seller sees only its own shipments' part of it;
    a bank transfer still awaited says where to pay (its buyer's and the operators' view)."""

    payment: Payment
    amount: Money
    refunded: Money
    instructions: TransferInstructions | None = None

    @property
    def id(self) -> str:
        return self.payment.id

    @property
    def order_id(self) -> str | None:
        return self.payment.order_id

    @property
    def gateway(self) -> str:
        return self.payment.gateway

    @property
    def status(self) -> str:
        return self.payment.status

    @property
    def created_at(self) -> dt.datetime:
        return self.payment.created_at


def transfer_instructions(
    session: Session, gateways: Mapping[str, PaymentGateway], payment: Payment
) -> TransferInstructions | None:
    """Where and by when to wire a bank transfer still awaited, as its creation answered: the
    configured account for its currency, the order number to quote, its amount and due date."""
    gateway = gateways.get(payment.gateway)
    if (
        payment.status != PaymentStatus.PENDING
        or payment.due_at is None
        or not isinstance(gateway, TransferAccounts)
        or not gateway.supports_currency(payment.currency)
    ):
        return None
    order = session.get(Order, payment.order_id)
    assert order is not None  # payments restrict deleting their order
    return gateway.instructions(payment.amount, order.number, payment.due_at)


def cancel_abandoned_transfers(session: Session) -> list[str]:
    """Cancel every bank transfer still awaited by an order that expired or was cancelled (the
    expiry job's; an order also expires as it is read, outside the job)."""
    order_ids = session.scalars(
        select(Payment.order_id)
        .join(Order, Order.id == Payment.order_id)
        .where(
            Payment.status == PaymentStatus.PENDING,
            Payment.gateway.in_(TRANSFER_GATEWAYS),
            Order.status.in_([OrderStatus.EXPIRED, OrderStatus.CANCELLED]),
        )
        .distinct()
    ).all()
    return services.cancel_pending_transfers(session, list(order_ids))


def whole_payment(
    session: Session, gateways: Mapping[str, PaymentGateway], payment: Payment
) -> VisiblePayment:
    """A payment as its buyer and the operators see it."""
    return VisiblePayment(
        payment, payment.amount, payment.refunded, transfer_instructions(session, gateways, payment)
    )


def order_payments(
    session: Session,
    user: User,
    order_id: str,
    *,
    gateways: Mapping[str, PaymentGateway],
    now: dt.datetime,
) -> list[VisiblePayment]:
    """The payments of an order its buyer, one of its sellers or an operator may see (else 404).

    A seller of one shipment of several is shown its shipments' share of each payment and of
    what was refunded for them, never the whole: the difference would be the other sellers'.
    An order that expired or was cancelled (even just now, as it was read) awaits no transfer.
    """
    view = queries.get_order(session, user, order_id, now=now)
    if view.order.status in (OrderStatus.EXPIRED, OrderStatus.CANCELLED):
        services.cancel_pending_transfers(session, [order_id])
    payments = services.payments_of_order(session, order_id)
    if view.whole:
        return [whole_payment(session, gateways, payment) for payment in payments]
    mine = {shipment.id for shipment in view.shipments}
    share = sum(
        s.paid.minor for s in queries.seller_shares(session, order_id) if s.shipment_id in mine
    )
    refunded: dict[str, int] = {
        payment_id: int(total)
        for payment_id, total in session.execute(
            select(PaymentRefund.payment_id, func.sum(PaymentRefund.amount_minor))
            .where(
                PaymentRefund.payment_id.in_([p.id for p in payments]),
                PaymentRefund.shipment_id.in_(mine),
                PaymentRefund.status == PaymentStatus.SUCCEEDED,
            )
            .group_by(PaymentRefund.payment_id)
        )
    }
    return [
        VisiblePayment(
            payment,
            Money.from_minor(min(share, payment.amount_minor), payment.currency),
            Money.from_minor(refunded.get(payment.id, 0), payment.currency),
        )
        for payment in payments
    ]


# ---------------------------------------------------------------------------------------------
# Refunds


@dataclass(frozen=True, slots=True)
class OrderRefund:
    payment: Payment
    refunds: list[PaymentRefund]


def refund_order(
    session: Session,
    user: User,
    order_id: str,
    *,
    gateways: Mapping[str, PaymentGateway],
    listeners: Listeners,
    amount: Money | None,
    shipment_id: str | None,
    reason: str,
    idempotency_key: str | None,
    now: dt.datetime,
) -> OrderRefund:
    """Refund all or part of a paid order, per shipment, in the payment's currency.

    A seller's members refund their own shipment; an operator any shipment or the whole order
    (split over the shipments by what each still holds). Never more than was paid: a shipment is
    capped at what it contributed, the order at what remains of the payment (409 otherwise).
    """
    view = queries.get_order(session, user, order_id, now=now)
    if not user.is_operator:
        own = set(accounts.organisation_ids(session, user.id, OrganisationKind.SELLER))
        mine = [s.id for s in view.shipments if s.seller_id in own]
        if shipment_id is None:
            if not mine:
                raise Forbidden(
                    _("Only the shipment's seller or an operator may refund."),
                    code="refund_forbidden",
                )
            if len(mine) > 1:
                message = _("Name the shipment to refund.")
                raise Invalid(message, code="shipment_required", errors={"shipment_id": [message]})
            shipment_id = mine[0]
        elif shipment_id not in mine:
            # Another seller's shipment (or the buyer's order): it does not exist for this caller.
            raise NotFound()
    elif shipment_id is not None and shipment_id not in {s.id for s in view.shipments}:
        raise NotFound()
    payment = _paid_payment(session, order_id)
    key = gateway_key("refund", order_id, user.id, idempotency_key)
    return OrderRefund(
        payment,
        _refund(
            session,
            payment,
            gateways,
            listeners,
            amount=amount,
            shipment_id=shipment_id,
            reason=reason,
            key=key,
        ),
    )


def refund_cancelled_order(
    gateways: Mapping[str, PaymentGateway], listeners: Listeners
) -> lifecycle.RefundIssuer:
    """How a paid order being cancelled gets its money back: all that remains is refunded."""

    def issue(session: Session, order: Order) -> None:
        payment = session.scalar(_paid_query(order.id))
        if payment is None:
            raise errors.RefundUnavailable()
        _refund(
            session,
            payment,
            gateways,
            listeners,
            amount=None,
            shipment_id=None,
            reason="order cancelled",
            key=f"cancel:{order.id}:{payment.id}",
        )

    return issue


def _paid_query(order_id: str) -> Select[Payment]:
    return (
        select(Payment)
        .where(Payment.order_id == order_id, Payment.status.in_(_REFUNDABLE))
        .order_by(Payment.created_at.desc())
        .limit(1)
    )


def _paid_payment(session: Session, order_id: str) -> Payment:
    payment = session.scalar(_paid_query(order_id))
    if payment is None:
        raise Conflict(
            _("Only a completed payment can be refunded."), code="payment_not_refundable"
        )
    return payment


def _refund(
    session: Session,
    payment: Payment,
    gateways: Mapping[str, PaymentGateway],
    listeners: Listeners,
    *,
    amount: Money | None,
    shipment_id: str | None,
    reason: str,
    key: str,
) -> list[PaymentRefund]:
    gateway = gateways.get(payment.gateway)
    if gateway is None:
        raise Conflict(
            _("This payment method is not available."), code="payment_gateway_unavailable"
        )
    remaining = _remaining_by_shipment(session, payment)
    if shipment_id is not None:
        remaining = {shipment_id: remaining.get(shipment_id, 0)}
    payment_left = payment.amount_minor - payment.refunded_minor
    refundable = min(sum(remaining.values()), payment_left)
    if amount is not None and amount.currency != payment.currency:
        message = _(
            "A refund is made in the currency of the payment (%(currency)s).",
            currency=payment.currency,
        )
        raise Invalid(
            message, code="refund_currency_mismatch", errors={"amount.currency": [message]}
        )
    wanted = amount or Money.from_minor(refundable, payment.currency)
    if wanted.minor > refundable or refundable <= 0:
        raise Conflict(
            _("The refund is larger than what remains of the payment."),
            code="refund_exceeds_payment",
            extra={"refundable": Money.from_minor(max(refundable, 0), payment.currency).to_api()},
        )
    shipments = [sid for sid, units in remaining.items() if units > 0]
    parts = allocate(wanted, [remaining[sid] for sid in shipments])
    return [
        services.refund_payment(
            session,
            gateway,
            payment_id=payment.id,
            amount=part,
            reason=reason,
            idempotency_key=f"{key}:{sid}",
            listeners=listeners,
            shipment_id=sid,
        )
        for sid, part in zip(shipments, parts, strict=True)
        if not part.is_zero()
    ]


def _remaining_by_shipment(session: Session, payment: Payment) -> dict[str, int]:
    """What each shipment still holds of the payment, in its minor units: its share less its refunds."""
    refunded = _refunded_by_shipment(session, payment.order_id)
    return {
        share.shipment_id: share.paid.minor - refunded.get(share.shipment_id, 0)
        for share in queries.seller_shares(session, payment.order_id)
        if share.paid.currency == payment.currency
    }


def _refunded_by_shipment(session: Session, order_id: str) -> dict[str, int]:
    rows = session.execute(
        select(PaymentRefund.shipment_id, func.sum(PaymentRefund.amount_minor))
        .join(Payment, Payment.id == PaymentRefund.payment_id)
        .where(Payment.order_id == order_id, PaymentRefund.shipment_id.is_not(None))
        .group_by(PaymentRefund.shipment_id)
    ).all()
    return {str(shipment): int(total or 0) for shipment, total in rows}


# ---------------------------------------------------------------------------------------------
# The sellers' ledger, written from payment changes


def record_sales(session: Session, change: PaymentChange, commission_bps: int) -> None:
    """A paid order: each shipment's seller is owed its share, converted at the order's locked rates."""
    convert = _converter(session, change.order_id)
    for share in queries.seller_shares(session, change.order_id):
        amount = convert(share.paid, share.goods_seller.currency)
        if amount.is_zero():
            continue
        ledger.record_sale(
            session,
            seller_id=share.seller_id,
            amount=amount,
            commission_bps=commission_bps,
            shipment_id=share.shipment_id,
            order_id=change.order_id,
            payment_id=change.payment_id,
        )


def record_refunds(session: Session, change: PaymentChange, commission_bps: int) -> None:
    """Money went back: out of the balance of the seller whose shipment it was refunded for.

    A refund not tied to a shipment (made at the gateway's dashboard) is split over the shipments
    by what each still holds. A shipment refunded to its last unit gives back exactly its sale.
    """
    shares = {share.shipment_id: share for share in queries.seller_shares(session, change.order_id)}
    refunded = _refunded_by_shipment(session, change.order_id)
    if change.shipment_id is not None:
        parts = {change.shipment_id: change.change}
    else:
        ids = [sid for sid, share in shares.items() if share.paid.minor - refunded.get(sid, 0) > 0]
        if not ids:
            return
        weights = [shares[sid].paid.minor - refunded.get(sid, 0) for sid in ids]
        parts = dict(zip(ids, allocate(change.change, weights), strict=True))
    convert = _converter(session, change.order_id)
    for shipment_id, part in parts.items():
        share = shares.get(shipment_id)
        if share is None or part.is_zero():
            continue
        sold, refunds, _commission = ledger.shipment_totals(session, share.seller_id, shipment_id)
        left = sold + refunds  # in the seller's currency
        if left <= 0:
            continue
        whole = change.shipment_id is not None and refunded.get(shipment_id, 0) >= share.paid.minor
        seller_currency = share.goods_seller.currency
        units = left if whole else min(convert(part, seller_currency).minor, left)
        if units <= 0:
            continue
        ledger.record_refund(
            session,
            seller_id=share.seller_id,
            amount=Money.from_minor(units, seller_currency),
            commission_bps=commission_bps,
            shipment_id=shipment_id,
            order_id=change.order_id,
            payment_id=change.payment_id,
        )


def no_longer_payable(session: Session, change: PaymentChange) -> bool:
    """The order was paid by another payment, expired or was cancelled before this money arrived
    (orders decide, with the order row locked)."""
    return not lifecycle.takes_payment(session, change.order_id, change.payment_id)


def refund_unwanted(
    session: Session, change: PaymentChange, gateways: Mapping[str, PaymentGateway]
) -> None:
    """Give a payment nobody needs back in full (the buyer paid twice, or too late).

    No listener hears it: the order and the ledger never counted this payment.
    """
    gateway = gateways.get(change.gateway)
    if gateway is None:
        raise Conflict(
            _("This payment method is not available."), code="payment_gateway_unavailable"
        )
    log.warning(
        "payment for an order no longer payable refunded", extra={"payment_id": change.payment_id}
    )
    services.refund_payment(
        session,
        gateway,
        payment_id=change.payment_id,
        amount=change.amount,
        reason="order no longer payable",
        idempotency_key=f"unwanted:{change.payment_id}",
        listeners={},
    )


def record_failure(session: Session, change: PaymentChange) -> None:
    """The payments table already holds the failure; the order stays payable for another try."""
    log.info(
        "payment failed",
        extra={
            "payment_id": change.payment_id,
            "order_id": change.order_id,
            "failure_code": change.failure_code,
        },
    )


def _converter(session: Session, order_id: str) -> Callable[[Money, str], Money]:
    """Converts with the rate set the order was priced with, never today's rates."""
    rate_set_id = queries.rate_set_of(session, order_id)
    table = money.get_table(session, rate_set_id) if rate_set_id else None

    def convert(amount: Money, currency: str) -> Money:
        if amount.currency == currency:
            return amount
        if table is None:
            raise Conflict(_("The order has no locked rates."), code="rate_missing")
        return table.convert(amount, currency)

    return convert
