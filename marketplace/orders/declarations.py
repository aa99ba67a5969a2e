"""What customs declarations and documents need about a shipment, as it was sold.

The documents package reads this; it never reads the orders' tables itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from marketplace.accounts.models import Organisation, User
from marketplace.customs.declaration import DeclarationItem, ServiceClass, described
from marketplace.errors import NotFound
from marketplace.money import Money
from marketplace.orders.expiry import expire_lapsed
from marketplace.orders.models import Order, OrderLine, Shipment, ShipmentStatus


@dataclass(frozen=True)
class DeclarationData:
    """A shipment as it was sold, for the declaration and the documents (docs/api-conventions.md, "Customs paperwork")."""

    shipment_id: str
    shipment_status: str
    order_id: str
    order_status: str
    invoice_number: str
    invoice_date: dt.date
    exporter: Organisation
    importer_name: str
    importer_address: dict[str, Any]
    brokerage_id: str | None
    incoterm: str
    from_country: str
    to_country: str
    currency: str
    seller_currency: str
    items: tuple[DeclarationItem, ...]
    goods: Money
    shipping: Money
    duties: Money
    taxes: Money
    collected: Money
    goods_seller: Money
    shipping_seller: Money
    gross_weight_grams: int
    de_minimis: bool
    landed_cost: dict[str, Any]
    rate_set_id: str | None  # the order's locked rate set
    service_class: ServiceClass
    importer_phone: str | None
    importer_email: str | None
    dispatched_on: dt.date | None


def declaration_data(session: Session, shipment_id: str, *, now: dt.datetime) -> DeclarationData:
    """Everything a declaration needs; callers check access first with `get_shipment`.

    The invoice date is the day the order was paid (or placed, while unpaid); weights are net
    (the listing's weight): packaging is not known here, so gross equals net.
    """
    shipment = session.scalar(
        select(Shipment).where(Shipment.id == shipment_id).options(joinedload(Shipment.order))
    )
    if shipment is None:
        raise NotFound()
    order = shipment.order
    expire_lapsed(session, [order], now)
    exporter = session.get(Organisation, shipment.seller_id)
    buyer = session.get(User, order.buyer_id)
    assert exporter is not None and buyer is not None  # both are RESTRICT foreign keys
    lines = session.scalars(
        select(OrderLine).where(OrderLine.shipment_id == shipment.id).order_by(OrderLine.position)
    )

    items = tuple(
        DeclarationItem(
            description=described(line.title, (line.options or {}).items()),
            description_original=described(line.title, (line.options or {}).items()),
            hs_code=line.hs_code,
            origin_country=line.origin_country,
            quantity=line.quantity,
            net_weight_grams=line.weight_grams * line.quantity,
            unit_value=line.unit_price,
            total_value=line.total,
            line_id=line.id,
            listing_id=line.listing_id,
            variant_id=line.variant_id,
            sku=line.sku,
            options=tuple((line.options or {}).items()),
        )
        for line in lines
    )
    return DeclarationData(
        shipment_id=shipment.id,
        shipment_status=shipment.status,
        order_id=order.id,
        order_status=order.status,
        invoice_number=shipment.number,
        invoice_date=(order.paid_at or order.created_at).date(),
        exporter=exporter,
        importer_name=order.ship_to.get("name") or buyer.name,
        importer_address=dict(order.ship_to),
        brokerage_id=shipment.brokerage_id,
        incoterm=shipment.incoterm,
        from_country=shipment.from_country,
        to_country=shipment.to_country,
        currency=shipment.currency,
        seller_currency=shipment.seller_currency,
        items=items,
        goods=shipment.goods,
        shipping=shipment.shipping,
        duties=shipment.duties,
        taxes=shipment.taxes,
        collected=shipment.collected,
        goods_seller=shipment.goods_seller,
        shipping_seller=shipment.shipping_seller,
        gross_weight_grams=shipment.weight_grams,
        de_minimis=shipment.de_minimis,
        landed_cost=dict(shipment.landed_cost),
        rate_set_id=order.rate_set_id,
        service_class=shipment.service_class,
        importer_phone=order.ship_to.get("phone"),
        importer_email=order.ship_to.get("email") or buyer.email,
        dispatched_on=shipment.dispatched_at.date() if shipment.dispatched_at else None,
    )


def designated_shipment_ids(
    session: Session,
    brokerage_id: str,
    *,
    paid_from: dt.datetime,
    paid_before: dt.datetime,
    limit: int,
) -> list[str]:
    """Paid (ready or dispatched) shipments designated to a brokerage, by payment time, oldest first.

    For the brokers' manifest; callers check that the caller belongs to the brokerage.
    """
    return list(
        session.scalars(
            select(Shipment.id)
            .join(Order, Order.id == Shipment.order_id)
            .where(
                Shipment.brokerage_id == brokerage_id,
                Shipment.status.in_([ShipmentStatus.READY, ShipmentStatus.DISPATCHED]),
                Order.paid_at >= paid_from,
                Order.paid_at < paid_before,
            )
            .order_by(Order.paid_at, Shipment.number)
            .limit(limit)
        )
    )
