"""Expiry: an unpaid order past its reservation is expired and its stock comes back.

The sweep (`flask orders expire`) expires them in bulk; between sweeps every read of an order or
shipment passes through `expire_lapsed` first, so nobody sees an order holding stock it no
longer may. Both go through `expire_due`, whose conditional UPDATE names the state it expects,
so a sweep and a payment arriving at once cannot both win.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session

from marketplace.catalogue import stock
from marketplace.orders.models import Order, OrderLine, OrderStatus, Shipment, ShipmentStatus
from marketplace.outbox import EventType, record


def expire_due(
    session: Session, now: dt.datetime, order_ids: Sequence[str] | None = None
) -> list[str]:
    """Expire unpaid orders past their reservation (all, or among `order_ids`); stock comes back.

    A conditional UPDATE: an order being paid or cancelled at the same moment is left to whoever
    locked it first.
    """
    condition = and_(Order.status == OrderStatus.PENDING_PAYMENT, Order.expires_at <= now)
    if order_ids is not None:
        if not order_ids:
            return []
        condition = and_(condition, Order.id.in_(order_ids))
    expired = list(
        session.scalars(
            update(Order)
            .where(condition)
            .values(status=OrderStatus.EXPIRED, updated_at=now)
            .returning(Order.id)
            .execution_options(synchronize_session="fetch")
        )
    )
    if expired:
        set_shipment_status(session, expired, ShipmentStatus.CANCELLED)
        release_stock(session, sorted(expired))
        for order_id in sorted(expired):
            record(session, EventType.ORDER_EXPIRED, order_id=order_id)
    session.flush()
    return expired


def expire_lapsed(session: Session, orders: Iterable[Order], now: dt.datetime) -> None:
    """Expire, before they are read, those of `orders` unpaid past their reservation."""
    due = sorted(
        {o.id for o in orders if o.status == OrderStatus.PENDING_PAYMENT and o.expires_at <= now}
    )
    if due:
        expire_due(session, now, due)


def set_shipment_status(session: Session, order_ids: Sequence[str], status: ShipmentStatus) -> None:
    """Every shipment of the orders moves with them (paid: ready; expired or cancelled)."""
    session.execute(
        update(Shipment)
        .where(Shipment.order_id.in_(order_ids))
        .values(status=status)
        .execution_options(synchronize_session="fetch")
    )


def release_stock(session: Session, order_ids: Sequence[str]) -> None:
    """Give back what the orders reserved."""
    if not order_ids:
        return
    # A line without a variant was recorded before variants: its listing's default variant
    # carries the listing's id (migration 0160).
    variant = func.coalesce(OrderLine.variant_id, OrderLine.listing_id)
    rows = session.execute(
        select(variant, func.sum(OrderLine.quantity))
        .where(OrderLine.order_id.in_(order_ids))
        .group_by(variant)
    )
    stock.release(session, {variant_id: int(quantity) for variant_id, quantity in rows.all()})
