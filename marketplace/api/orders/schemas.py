"""The shapes of orders and shipments in responses, shared by the orders and shipments views."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields

from marketplace.api.money_fields import MoneyOutputSchema
from marketplace.api.schemas import AddressSchema, choices, page_schema, variant_options
from marketplace.orders.models import Incoterm, OrderStatus, ShipmentStatus

ORDER_STATUS = {"enum": choices(OrderStatus)}


class ShipToSchema(AddressSchema):
    """Where the parcels go; which fields a destination needs is data (`address_incomplete`)."""


class OrderLineSchema(ma.Schema):
    id = fields.String(required=True)
    shipment_id = fields.String(required=True)
    listing_id = fields.String(required=True)
    variant_id = fields.String(
        required=True, allow_none=True, metadata={"description": "The variant bought"}
    )
    sku = fields.String(required=True, metadata={"description": "The variant's SKU"})
    options = variant_options(
        "The variant's options as the buyer read them ({} for none)", attribute="buyer_variant"
    )
    seller_options = variant_options(
        "The variant's options as the seller named them", attribute="seller_variant"
    )
    title = fields.String(
        required=True,
        attribute="buyer_text",
        metadata={"description": "In the buyer's language at order time, else the seller's own"},
    )
    title_locale = fields.String(
        required=True, attribute="buyer_text_locale", metadata={"description": "That of `title`"}
    )
    seller_title = fields.String(
        required=True,
        attribute="title",
        metadata={"description": "The seller's own title, in `seller_language`"},
    )
    seller_language = fields.String(required=True, attribute="language")
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
    status = fields.String(required=True, metadata={"enum": choices(ShipmentStatus)})
    incoterm = fields.String(required=True, metadata={"enum": choices(Incoterm)})
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


class DecimalText(fields.String):
    """A Decimal written out in full ("0.000000123", never "1.23E-7")."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else format(value, "f")


class OrderFxSchema(ma.Schema):
    from_ = fields.String(required=True, data_key="from", attribute="from_currency")
    to = fields.String(required=True, attribute="to_currency")
    rate = DecimalText(required=True, metadata={"example": "512.34"})
    as_of = fields.Date(required=True)
    source = fields.String(required=True)


class OrderSchema(ma.Schema):
    """Dumps an OrderView: lines, shipments and fx as the caller may see them, the rest from the
    order itself."""

    id = fields.String(required=True)
    number = fields.String(required=True)
    status = fields.String(required=True, metadata=ORDER_STATUS)
    currency = fields.String(required=True)
    incoterm = fields.String(required=True, metadata={"enum": choices(Incoterm)})
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

    def get_attribute(self, obj: Any, attr: str, default: Any) -> Any:
        source = obj if attr in _ORDER_VIEW_FIELDS else obj.order
        return super().get_attribute(source, attr, default)


_ORDER_VIEW_FIELDS = frozenset({"lines", "shipments", "totals", "fx"})


class ShipmentSchema(ShipmentSummarySchema):
    """Dumps a ShipmentView: the shipment's fields, its order's, and the lines it holds."""

    order_id = fields.String(required=True, attribute="order.id")
    order_number = fields.String(required=True, attribute="order.number")
    order_status = fields.String(required=True, attribute="order.status")
    currency = fields.String(required=True)
    ship_to = fields.Nested(ShipToSchema, required=True, attribute="order.ship_to")
    created_at = fields.DateTime(required=True)
    lines = fields.List(fields.Nested(OrderLineSchema), required=True)

    def get_attribute(self, obj: Any, attr: str, default: Any) -> Any:
        source = obj if attr == "lines" or attr.startswith("order.") else obj.shipment
        return super().get_attribute(source, attr, default)


OrderPageSchema = page_schema(OrderSchema, "OrderPage")
ShipmentPageSchema = page_schema(ShipmentSchema, "ShipmentPage")
