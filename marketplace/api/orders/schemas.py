"""The shapes of orders and shipments in responses, shared by the orders and shipments views."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from marketplace.api.money_fields import MoneyOutputSchema
from marketplace.api.schemas import AddressSchema, page_schema, text
from marketplace.money import Money
from marketplace.orders import queries
from marketplace.orders.models import OrderLine, OrderStatus, Shipment, ShipmentStatus


class ShipToSchema(AddressSchema):
    """Where the parcels go; `name` and `phone` are for the carrier and the customs declaration."""

    name = text(200, required=False)
    phone = fields.String(validate=validate.Regexp(r"^\+?[0-9 ()-]{5,30}$"))


class OrderLineSchema(ma.Schema):
    id = fields.String(required=True)
    shipment_id = fields.String(required=True)
    listing_id = fields.String(required=True)
    sku = fields.String(required=True)
    title = fields.String(required=True)
    hs_code = fields.String(required=True)
    origin_country = fields.String(required=True)
    weight_grams = fields.Integer(required=True)
    quantity = fields.Integer(required=True)
    unit_price = fields.Nested(
        MoneyOutputSchema, required=True, metadata={"description": "In the order currency"}
    )
    unit_price_seller = fields.Nested(
        MoneyOutputSchema, required=True, metadata={"description": "In the seller's currency"}
    )
    total = fields.Nested(MoneyOutputSchema, required=True)


class ShipmentSummarySchema(ma.Schema):
    id = fields.String(required=True)
    number = fields.String(required=True)
    seller_id = fields.String(required=True)
    brokerage_id = fields.String(allow_none=True, required=True)
    status = fields.String(required=True, metadata={"enum": [s.value for s in ShipmentStatus]})
    incoterm = fields.String(required=True)
    from_country = fields.String(required=True)
    to_country = fields.String(required=True)
    weight_grams = fields.Integer(required=True)
    goods = fields.Nested(MoneyOutputSchema, required=True)
    shipping = fields.Nested(MoneyOutputSchema, required=True)
    duties = fields.Nested(MoneyOutputSchema, required=True)
    taxes = fields.Nested(MoneyOutputSchema, required=True)
    goods_seller = fields.Nested(
        MoneyOutputSchema, required=True, metadata={"description": "In the seller's currency"}
    )
    shipping_seller = fields.Nested(
        MoneyOutputSchema, required=True, metadata={"description": "In the seller's currency"}
    )
    de_minimis = fields.Boolean(required=True)
    carrier = fields.String(allow_none=True, required=True)
    tracking_number = fields.String(allow_none=True, required=True)
    dispatched_at = fields.DateTime(allow_none=True, required=True)


class TotalsSchema(ma.Schema):
    goods = fields.Nested(MoneyOutputSchema, required=True)
    shipping = fields.Nested(MoneyOutputSchema, required=True)
    duties = fields.Nested(MoneyOutputSchema, required=True)
    taxes = fields.Nested(MoneyOutputSchema, required=True)
    grand_total = fields.Nested(
        MoneyOutputSchema,
        required=True,
        metadata={
            "description": "What the buyer pays now: goods + shipping, plus duties and taxes under DDP"
        },
    )
    due_on_delivery = fields.Nested(
        MoneyOutputSchema,
        required=True,
        metadata={"description": "Duties and taxes the buyer pays on delivery (DAP)"},
    )


class OrderFxSchema(ma.Schema):
    from_ = fields.String(required=True, data_key="from")
    to = fields.String(required=True)
    rate = fields.String(required=True, metadata={"example": "512.34"})
    as_of = fields.Date(required=True)
    source = fields.String(required=True)


class OrderSchema(ma.Schema):
    id = fields.String(required=True)
    number = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": [s.value for s in OrderStatus]})
    currency = fields.String(required=True)
    incoterm = fields.String(required=True)
    buyer_id = fields.String(required=True)
    ship_to = fields.Nested(ShipToSchema, required=True)
    expires_at = fields.DateTime(required=True)
    created_at = fields.DateTime(required=True)
    paid_at = fields.DateTime(allow_none=True, required=True)
    rate_set_id = fields.String(allow_none=True, required=True)
    lines = fields.List(fields.Nested(OrderLineSchema), required=True)
    shipments = fields.List(fields.Nested(ShipmentSummarySchema), required=True)
    totals = fields.Nested(TotalsSchema, required=True)
    fx = fields.List(fields.Nested(OrderFxSchema), required=True)


class ShipmentSchema(ShipmentSummarySchema):
    order_id = fields.String(required=True)
    order_number = fields.String(required=True)
    order_status = fields.String(required=True)
    currency = fields.String(required=True)
    ship_to = fields.Nested(ShipToSchema, required=True)
    created_at = fields.DateTime(required=True)
    lines = fields.List(fields.Nested(OrderLineSchema), required=True)


OrderPageSchema = page_schema(OrderSchema, "OrderPage")
ShipmentPageSchema = page_schema(ShipmentSchema, "ShipmentPage")


def line_out(line: OrderLine) -> dict[str, Any]:
    return {
        "id": line.id,
        "shipment_id": line.shipment_id,
        "listing_id": line.listing_id,
        "sku": line.sku,
        "title": line.title,
        "hs_code": line.hs_code,
        "origin_country": line.origin_country,
        "weight_grams": line.weight_grams,
        "quantity": line.quantity,
        "unit_price": Money.from_minor(line.unit_price_minor, line.currency).to_api(),
        "unit_price_seller": Money.from_minor(
            line.unit_price_seller_minor, line.seller_currency
        ).to_api(),
        "total": Money.from_minor(line.total_minor, line.currency).to_api(),
    }


def shipment_out(shipment: Shipment) -> dict[str, Any]:
    def money(units: int) -> dict[str, str]:
        return Money.from_minor(units, shipment.currency).to_api()

    return {
        "id": shipment.id,
        "number": shipment.number,
        "seller_id": shipment.seller_id,
        "brokerage_id": shipment.brokerage_id,
        "status": shipment.status,
        "incoterm": shipment.incoterm,
        "from_country": shipment.from_country,
        "to_country": shipment.to_country,
        "weight_grams": shipment.weight_grams,
        "currency": shipment.currency,
        "goods": money(shipment.goods_minor),
        "shipping": money(shipment.shipping_minor),
        "duties": money(shipment.duties_minor),
        "taxes": money(shipment.taxes_minor),
        "goods_seller": Money.from_minor(
            shipment.goods_seller_minor, shipment.seller_currency
        ).to_api(),
        "shipping_seller": Money.from_minor(
            shipment.shipping_seller_minor, shipment.seller_currency
        ).to_api(),
        "de_minimis": shipment.de_minimis,
        "carrier": shipment.carrier,
        "tracking_number": shipment.tracking_number,
        "dispatched_at": shipment.dispatched_at,
        "created_at": shipment.created_at,
    }


def order_out(view: queries.OrderView) -> dict[str, Any]:
    order = view.order
    return {
        "id": order.id,
        "number": order.number,
        "status": order.status,
        "currency": order.currency,
        "incoterm": order.incoterm,
        "buyer_id": order.buyer_id,
        "ship_to": order.ship_to,
        "expires_at": order.expires_at,
        "created_at": order.created_at,
        "paid_at": order.paid_at,
        "rate_set_id": order.rate_set_id,
        "lines": [line_out(line) for line in view.lines],
        "shipments": [shipment_out(shipment) for shipment in view.shipments],
        "totals": {name: amount.to_api() for name, amount in view.totals.as_dict().items()},
        "fx": [
            {
                "from_": fx.from_currency,
                "to": fx.to_currency,
                "rate": format(fx.rate, "f"),
                "as_of": fx.as_of,
                "source": fx.source,
            }
            for fx in view.fx
        ],
    }


def shipment_view_out(view: queries.ShipmentView) -> dict[str, Any]:
    return {
        **shipment_out(view.shipment),
        "order_id": view.order.id,
        "order_number": view.order.number,
        "order_status": view.order.status,
        "ship_to": view.order.ship_to,
        "lines": [line_out(line) for line in view.lines],
    }
