"""Orders, shipments and seller shipping rates."""

from __future__ import annotations

import datetime as dt
from typing import Any

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from marketplace.api import context
from marketplace.api.catalogue import content_locales
from marketplace.api.idempotency import idempotent
from marketplace.api.money_fields import MoneyField, MoneyOutputSchema
from marketplace.api.schemas import (
    AddressSchema,
    Country,
    CurrencyCode,
    PageArgsSchema,
    StrictSchema,
    page_schema,
    text,
)
from marketplace.checkout import placing
from marketplace.countries import is_country
from marketplace.customs.declaration import ServiceClass
from marketplace.db import utcnow
from marketplace.i18n import N_
from marketplace.money import Money
from marketplace.orders import services, shipping
from marketplace.orders.models import Incoterm, OrderLine, OrderStatus, Shipment, ShipmentStatus

blp = Blueprint("orders", __name__, description="Orders, shipments and shipping rates")


def _destination(value: str) -> None:
    if value != shipping.EVERYWHERE and not is_country(value):
        raise ma.ValidationError(N_("Not a valid country code."))


class ShippingRateRowSchema(StrictSchema):
    countries = fields.List(
        fields.String(validate=_destination),
        required=True,
        validate=validate.Length(min=1, max=250),
        metadata={"example": ["KZ", "UZ"]},
    )
    base = MoneyField(required=True)
    per_kg = MoneyField(required=True)
    service_class = fields.Enum(
        ServiceClass,
        by_value=True,
        load_default=ServiceClass.LETTER_POST,
        metadata={"description": "How parcels travel; it decides the customs form (CN 22, CN 23)"},
    )

    @ma.post_load
    def to_row(self, data: dict[str, Any], **_kwargs: Any) -> shipping.RateRow:
        return shipping.RateRow(
            tuple(data["countries"]), data["base"], data["per_kg"], data["service_class"]
        )


class ShippingRateOutSchema(ma.Schema):
    countries = fields.List(fields.String(), required=True)
    base = fields.Nested(MoneyOutputSchema, required=True)
    per_kg = fields.Nested(MoneyOutputSchema, required=True)
    service_class = fields.Enum(ServiceClass, by_value=True, required=True)


def _rows_out(rows: list[shipping.RateRow]) -> list[dict[str, Any]]:
    return [
        {
            "countries": list(row.countries),
            "base": row.base.to_api(),
            "per_kg": row.per_kg.to_api(),
            "service_class": row.service_class,
        }
        for row in rows
    ]


@blp.route("/sellers/<seller_id>/shipping-rates")
class ShippingRates(MethodView):
    @blp.response(200, ShippingRateOutSchema(many=True))
    def get(self, seller_id: str) -> list[dict[str, Any]]:
        """A seller's shipping price list: base plus per kg, by destination ("*" = elsewhere)."""
        return _rows_out(shipping.get_rates(context.db(), seller_id))

    @context.user_required
    @blp.arguments(ShippingRateRowSchema(many=True))
    @blp.response(200, ShippingRateOutSchema(many=True))
    @blp.alt_response(403, response="FORBIDDEN", description="A member who is not an owner")
    @blp.alt_response(404, response="NOT_FOUND", description="No such seller, or not the caller's")
    @blp.alt_response(
        422,
        response="UNPROCESSABLE_ENTITY",
        description="Invalid rows: bad country, amount or currency, a country in two rows",
    )
    def put(self, rows: list[shipping.RateRow], seller_id: str) -> list[dict[str, Any]]:
        """Replace the price list (owners); each country in one row only, amounts in the seller's currency."""
        return _rows_out(
            shipping.replace_rates(context.db(), context.require_user(), seller_id, rows)
        )


# ---------------------------------------------------------------------------------------------
# Orders


class ShipToSchema(AddressSchema):
    """Where the parcels go; which fields a destination needs is data (`address_incomplete`)."""


class OrderLineInSchema(StrictSchema):
    listing_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    quantity = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=10_000)
    )


class OrderCreateSchema(StrictSchema):
    currency = CurrencyCode(required=True)
    lines = fields.List(
        fields.Nested(OrderLineInSchema), required=True, validate=validate.Length(min=1, max=100)
    )
    ship_to = fields.Nested(ShipToSchema, required=True)
    incoterm = fields.String(required=True, validate=validate.OneOf([i.value for i in Incoterm]))
    broker_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=36))

    @ma.post_load
    def to_request(self, data: dict[str, Any], **_kwargs: Any) -> services.OrderRequest:
        return services.OrderRequest(
            currency=data["currency"],
            lines=[services.LineRequest(**line) for line in data["lines"]],
            ship_to=data["ship_to"],
            incoterm=data["incoterm"],
            broker_id=data["broker_id"],
        )


class OrderLineSchema(ma.Schema):
    id = fields.String(required=True)
    shipment_id = fields.String(required=True)
    listing_id = fields.String(required=True)
    sku = fields.String(required=True)
    title = fields.String(
        required=True,
        metadata={"description": "In the buyer's language at order time, else the seller's own"},
    )
    title_locale = fields.String(required=True, metadata={"description": "The locale of `title`"})
    seller_title = fields.String(
        required=True, metadata={"description": "The seller's own title, in `seller_language`"}
    )
    seller_language = fields.String(required=True)
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


class OrderQuerySchema(PageArgsSchema):
    status = fields.String(
        load_default=None, validate=validate.OneOf([s.value for s in OrderStatus])
    )
    created_from = fields.AwareDateTime(
        load_default=None,
        default_timezone=dt.UTC,
        metadata={"description": "RFC 3339; orders created at or after it"},
    )
    created_to = fields.AwareDateTime(
        load_default=None,
        default_timezone=dt.UTC,
        metadata={"description": "RFC 3339; orders created before it"},
    )

    @ma.validates_schema
    def _range(self, data: dict[str, Any], **_kwargs: Any) -> None:
        start, end = data.get("created_from"), data.get("created_to")
        if start is not None and end is not None and end < start:
            raise ma.ValidationError(
                N_("Must not be before created_from."), field_name="created_to"
            )


class ShipmentQuerySchema(PageArgsSchema):
    status = fields.String(
        load_default=None, validate=validate.OneOf([s.value for s in ShipmentStatus])
    )
    to_country = Country(load_default=None)


class DispatchSchema(StrictSchema):
    carrier = text(100)
    tracking_number = text(100)


class BrokerSchema(StrictSchema):
    brokerage_id = fields.String(required=True, validate=validate.Length(min=1, max=36))


def _line_out(line: OrderLine) -> dict[str, Any]:
    return {
        "id": line.id,
        "shipment_id": line.shipment_id,
        "listing_id": line.listing_id,
        "sku": line.sku,
        "title": line.buyer_title or line.title,
        "title_locale": line.buyer_locale or line.language,
        "seller_title": line.title,
        "seller_language": line.language,
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


def _shipment_out(shipment: Shipment) -> dict[str, Any]:
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


def order_out(view: services.OrderView) -> dict[str, Any]:
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
        "lines": [_line_out(line) for line in view.lines],
        "shipments": [_shipment_out(shipment) for shipment in view.shipments],
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


def _shipment_view_out(view: services.ShipmentView) -> dict[str, Any]:
    return {
        **_shipment_out(view.shipment),
        "order_id": view.order.id,
        "order_number": view.order.number,
        "order_status": view.order.status,
        "ship_to": view.order.ship_to,
        "lines": [_line_out(line) for line in view.lines],
    }


def _reservation() -> dt.timedelta:
    return dt.timedelta(minutes=context.settings()["ORDER_RESERVATION_MINUTES"])


@blp.route("/orders")
class Orders(MethodView):
    @context.user_required
    @blp.arguments(OrderQuerySchema, location="query", unknown=ma.RAISE)
    @blp.response(200, OrderPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Orders the caller bought, or holding shipments of the caller's sellers (operators: all),
        newest first, by status and creation time; an unknown parameter is a 422."""
        page = services.list_orders(context.db(), context.require_user(), now=utcnow(), **query)
        return {"items": [order_out(view) for view in page.items], "next_cursor": page.next_cursor}

    @context.user_required
    @idempotent
    @blp.arguments(OrderCreateSchema)
    @blp.response(201, OrderSchema)
    @blp.alt_response(
        409,
        response="CONFLICT",
        description="`insufficient_stock` (with `lines`), `rate_stale`, `idempotency_key_reused`",
    )
    @blp.alt_response(
        422,
        response="UNPROCESSABLE_ENTITY",
        description="`listing_unavailable`, `not_shipped_to`, `no_shipping_rate`, `rate_missing`, `no_customs_rule`, `brokerage_unknown`, invalid fields",
    )
    def post(self, request: services.OrderRequest) -> dict[str, Any]:
        """Place an order: one shipment per seller, rates locked, stock reserved until paid."""
        view = placing.place_order(
            context.db(),
            context.require_user(),
            request,
            now=utcnow(),
            reservation=_reservation(),
            max_rate_age=dt.timedelta(seconds=context.settings()["MAX_RATE_AGE"]),
            locales=content_locales(None),
        )
        return order_out(view)


@blp.route("/orders/<order_id>", methods=["GET"])
@context.user_required
@blp.response(200, OrderSchema)
def get_order(order_id: str) -> dict[str, Any]:
    """One order as the caller may see it (a seller sees only their own shipments and lines)."""
    return order_out(
        services.get_order(context.db(), context.require_user(), order_id, now=utcnow())
    )


@blp.route("/orders/<order_id>/cancel", methods=["POST"])
@context.user_required
@blp.response(200, OrderSchema)
@blp.alt_response(
    403,
    response="FORBIDDEN",
    description="A seller of the order: only the buyer or an operator cancels",
)
@blp.alt_response(
    404, response="NOT_FOUND", description="No such order, or not visible to the caller"
)
@blp.alt_response(
    409,
    response="CONFLICT",
    description="`invalid_transition` (dispatched, expired, cancelled) or `refund_unavailable`",
)
def cancel_order(order_id: str) -> dict[str, Any]:
    """Cancel before dispatch (buyer or operator): stock comes back; a paid order is refunded."""
    return order_out(
        placing.cancel_order(
            context.db(),
            context.require_user(),
            order_id,
            now=utcnow(),
            gateways=context.extension("payment_gateways"),
            listeners=context.extension("payment_listeners"),
        )
    )


@blp.route("/shipments", methods=["GET"])
@context.user_required
@blp.arguments(ShipmentQuerySchema, location="query")
@blp.response(200, ShipmentPageSchema)
def list_shipments(query: dict[str, Any]) -> dict[str, Any]:
    """Shipments of the caller's orders and sellers, and those designated to the caller's brokerages."""
    page = services.list_shipments(
        context.db(),
        context.require_user(),
        status=query["status"],
        to_country=query["to_country"],
        limit=query["limit"],
        cursor=query["cursor"],
        now=utcnow(),
    )
    return {
        "items": [_shipment_view_out(view) for view in page.items],
        "next_cursor": page.next_cursor,
    }


@blp.route("/shipments/<shipment_id>", methods=["GET"])
@context.user_required
@blp.response(200, ShipmentSchema)
def get_shipment(shipment_id: str) -> dict[str, Any]:
    """One shipment, for its buyer, its seller or its designated customs broker."""
    return _shipment_view_out(
        services.get_shipment(context.db(), context.require_user(), shipment_id, now=utcnow())
    )


@blp.route("/shipments/<shipment_id>/dispatch", methods=["POST"])
@context.user_required
@blp.arguments(DispatchSchema)
@blp.response(200, ShipmentSchema)
@blp.alt_response(
    404,
    response="NOT_FOUND",
    description="No such shipment, or the caller is not a member of its seller",
)
@blp.alt_response(
    409,
    response="CONFLICT",
    description="`invalid_transition`: not paid yet, already dispatched or cancelled",
)
def dispatch(body: dict[str, Any], shipment_id: str) -> dict[str, Any]:
    """The seller hands a paid shipment to the carrier."""
    return _shipment_view_out(
        services.dispatch(context.db(), context.require_user(), shipment_id, now=utcnow(), **body)
    )


@blp.route("/shipments/<shipment_id>/broker", methods=["PUT"])
@context.user_required
@blp.arguments(BrokerSchema)
@blp.response(200, ShipmentSchema)
@blp.alt_response(
    404, response="NOT_FOUND", description="No such shipment, or not visible to the caller"
)
@blp.alt_response(
    422,
    response="UNPROCESSABLE_ENTITY",
    description="`brokerage_unknown` or `brokerage_not_serving` the destination",
)
def designate_broker(body: dict[str, Any], shipment_id: str) -> dict[str, Any]:
    """Name the customs brokerage for a shipment (buyer or seller); its members may then read it."""
    return _shipment_view_out(
        services.designate_broker(
            context.db(), context.require_user(), shipment_id, body["brokerage_id"], now=utcnow()
        )
    )
