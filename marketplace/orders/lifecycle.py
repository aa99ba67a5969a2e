"""An order's life after it is placed: paid, refunded, cancelled, dispatched, a broker named.

State changes are guarded in the database, not only in Python: the order row is locked before
it moves, so a webhook, a sweep and a buyer acting at once cannot both win.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from marketplace.accounts import services as accounts
from marketplace.accounts.models import OrganisationKind, User
from marketplace.errors import Forbidden, NotFound
from marketplace.i18n import _
from marketplace.money import Money
from marketplace.orders.errors import InvalidTransition, RefundUnavailable
from marketplace.orders.expiry import release_stock, set_shipment_status
from marketplace.orders.models import Order, OrderStatus, Shipment, ShipmentStatus
from marketplace.orders.placing import brokerage_for
from marketplace.orders.queries import OrderView, ShipmentView, get_order, get_shipment
from marketplace.outbox import EventType, record

# Issues the refund of a paid order being cancelled (the payments package provides it).
RefundIssuer = Callable[[Session, Order], None]


def mark_paid(
    session: Session, order_id: str, *, now: dt.datetime, payment_reference: str | None = None
) -> Order:
    """The payments package calls this when the money arrived (webhook or manual capture).

    An unpaid order still holding its stock becomes paid, even a little past its reservation
    time if the sweep has not reached it. Paying again with the same reference is a no-op;
    anything else (expired, cancelled, already paid otherwise) is a 409.
    """
    order = _locked(session, order_id)
    if (
        order.status == OrderStatus.PAID
        and payment_reference is not None
        and (order.payment_reference == payment_reference)
    ):
        return order
    _require_status(order, "pay", OrderStatus.PENDING_PAYMENT)
    order.status = OrderStatus.PAID
    order.paid_at = now
    order.updated_at = now
    order.payment_reference = payment_reference
    set_shipment_status(session, [order.id], ShipmentStatus.READY)
    record(session, EventType.ORDER_PAID, order_id=order.id)
    session.flush()
    return order


def hold_until(session: Session, order_id: str, until: dt.datetime) -> None:
    """Keep an unpaid order's reservation at least until `until` (a bank transfer's due date)."""
    session.execute(
        update(Order)
        .where(
            Order.id == order_id,
            Order.status == OrderStatus.PENDING_PAYMENT,
            Order.expires_at < until,
        )
        .values(expires_at=until)
        .execution_options(synchronize_session="fetch")
    )


def payable_order(
    session: Session, user: User, order_id: str, *, now: dt.datetime
) -> tuple[Order, Money]:
    """The buyer's own unpaid order and the amount to charge (its grand total), for payments.

    Someone else's order is a 404; an order that is not awaiting payment (paid, expired, ...)
    is a 409 `invalid_transition`.
    """
    view = get_order(session, user, order_id, now=now)
    if view.order.buyer_id != user.id:
        raise NotFound()
    _require_status(view.order, "pay", OrderStatus.PENDING_PAYMENT)
    return view.order, view.totals.grand_total


def takes_payment(session: Session, order_id: str, payment_reference: str) -> bool:
    """Whether money that arrived for the order is wanted: yes while the order awaits payment,
    or when this very payment already paid it (a replayed event); no once another payment paid
    it, or it expired or was cancelled.

    The order row stays locked until the transaction ends, so two payments succeeding at once are
    decided one after the other.
    """
    order = _locked(session, order_id)
    if order.status == OrderStatus.PENDING_PAYMENT:
        return True
    return order.status == OrderStatus.PAID and order.payment_reference == payment_reference


def mark_refunded(session: Session, order_id: str, *, now: dt.datetime, partially: bool) -> Order:
    """The payments package records a refund of a paid or shipped order."""
    order = _locked(session, order_id)
    _require_status(
        order,
        "refund",
        OrderStatus.PAID,
        OrderStatus.PARTIALLY_SHIPPED,
        OrderStatus.SHIPPED,
        OrderStatus.PARTIALLY_REFUNDED,
        OrderStatus.CANCELLED,
    )
    if order.status != OrderStatus.CANCELLED:
        order.status = OrderStatus.PARTIALLY_REFUNDED if partially else OrderStatus.REFUNDED
    order.updated_at = now
    session.flush()
    return order


def cancel_order(
    session: Session,
    user: User,
    order_id: str,
    *,
    now: dt.datetime,
    refund: RefundIssuer | None = None,
) -> OrderView:
    """Buyer or operator, before anything is dispatched: stock comes back; a paid order is refunded
    through `refund` (the payments package), and without one it stays as it is (409)."""
    view = get_order(session, user, order_id, now=now)
    if not (view.whole and (user.is_operator or view.order.buyer_id == user.id)):
        raise Forbidden(
            _("Only the buyer or an operator may cancel an order."), code="cancel_forbidden"
        )
    order = _locked(session, order_id)
    _require_status(order, "cancel", OrderStatus.PENDING_PAYMENT, OrderStatus.PAID)
    if order.status == OrderStatus.PAID:
        if refund is None:
            raise RefundUnavailable()
        refund(session, order)
    order.status = OrderStatus.CANCELLED
    order.cancelled_at = now
    order.updated_at = now
    set_shipment_status(session, [order.id], ShipmentStatus.CANCELLED)
    release_stock(session, [order.id])
    record(session, EventType.ORDER_CANCELLED, order_id=order.id)
    session.flush()
    return view


def dispatch(
    session: Session,
    user: User,
    shipment_id: str,
    *,
    carrier: str,
    tracking_number: str,
    now: dt.datetime,
) -> ShipmentView:
    """A seller member hands a paid shipment to the carrier; the order follows (partially) shipped."""
    shipment = session.get(Shipment, shipment_id)
    if shipment is None:
        raise NotFound()
    accounts.require_member(session, user, shipment.seller_id, OrganisationKind.SELLER)
    order = _locked(session, shipment.order_id)
    session.refresh(shipment)
    if shipment.status != ShipmentStatus.READY:
        raise InvalidTransition(
            _("A shipment that is %(status)s cannot be dispatched.", status=shipment.status),
            extra={"shipment_status": shipment.status, "action": "dispatch"},
        )
    _require_status(order, "dispatch", OrderStatus.PAID, OrderStatus.PARTIALLY_SHIPPED)
    shipment.status = ShipmentStatus.DISPATCHED
    shipment.carrier = carrier
    shipment.tracking_number = tracking_number
    shipment.dispatched_at = now
    session.flush()
    waiting = session.scalar(
        select(func.count())
        .select_from(Shipment)
        .where(Shipment.order_id == order.id, Shipment.status == ShipmentStatus.READY)
    )
    order.status = OrderStatus.PARTIALLY_SHIPPED if waiting else OrderStatus.SHIPPED
    order.updated_at = now
    record(session, EventType.SHIPMENT_DISPATCHED, order_id=order.id, shipment_id=shipment.id)
    session.flush()
    return get_shipment(session, user, shipment.id, now=now)


def designate_broker(
    session: Session, user: User, shipment_id: str, brokerage_id: str, *, now: dt.datetime
) -> ShipmentView:
    """The buyer or the seller names the customs brokerage that may now read the shipment."""
    view = get_shipment(session, user, shipment_id, now=now)
    sellers = accounts.organisation_ids(session, user.id, OrganisationKind.SELLER)
    if view.order.buyer_id != user.id and view.shipment.seller_id not in sellers:
        raise Forbidden(
            _("Only the buyer or the seller may choose the customs broker."),
            code="broker_forbidden",
        )
    if view.shipment.status == ShipmentStatus.CANCELLED:
        raise InvalidTransition(
            _("A shipment that is %(status)s cannot be changed.", status=view.shipment.status),
            extra={"shipment_status": view.shipment.status, "action": "designate_broker"},
        )
    view.shipment.brokerage_id = brokerage_for(session, brokerage_id, view.shipment.to_country)
    session.flush()
    return view


def _locked(session: Session, order_id: str) -> Order:
    order = session.scalar(
        select(Order)
        .where(Order.id == order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if order is None:
        raise NotFound()
    return order


def _require_status(order: Order, action: str, *allowed: OrderStatus) -> None:
    if order.status not in allowed:
        raise InvalidTransition(
            _("An order that is %(status)s cannot be changed this way.", status=order.status),
            extra={"order_status": order.status, "action": action},
        )
