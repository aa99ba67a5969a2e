"""What a recipient's earlier paid orders to a destination were worth: the part of a per-period
personal allowance (Uzbekistan's USD 200 a month) they already used.

The recipient is the buyer. Each counted shipment's goods plus shipping is returned as sold, in
its order's currency: shipping is counted because the allowance is compared with the customs
value, which includes it where transport is part of it (CIF), and counting it never undercharges.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.money import Money
from marketplace.orders.models import Order, OrderStatus, Shipment, ShipmentStatus

COUNTED_ORDERS = (
    OrderStatus.PAID,
    OrderStatus.PARTIALLY_SHIPPED,
    OrderStatus.SHIPPED,
    OrderStatus.PARTIALLY_REFUNDED,
)
COUNTED_SHIPMENTS = (ShipmentStatus.READY, ShipmentStatus.DISPATCHED)


def paid_to(
    session: Session, buyer_id: str, country: str, first_day: dt.date, last_day: dt.date
) -> list[Money]:
    """Goods plus shipping of each paid, uncancelled shipment the buyer had sent to `country`,
    paid between `first_day` and `last_day` (UTC days, both included); one query."""
    start = dt.datetime.combine(first_day, dt.time(), dt.UTC)
    end = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), dt.UTC)
    rows = session.execute(
        select(Shipment.goods_minor, Shipment.shipping_minor, Shipment.currency)
        .join(Order, Order.id == Shipment.order_id)
        .where(
            Order.buyer_id == buyer_id,
            Order.status.in_(COUNTED_ORDERS),
            Order.paid_at >= start,
            Order.paid_at < end,
            Shipment.to_country == country,
            Shipment.status.in_(COUNTED_SHIPMENTS),
        )
    )
    return [Money.from_minor(goods + shipping, currency) for goods, shipping, currency in rows]
