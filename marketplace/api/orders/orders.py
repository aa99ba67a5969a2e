"""Orders: list, place, read and cancel."""

from __future__ import annotations

import datetime as dt
from typing import Any

import marshmallow as ma
from flask.views import MethodView
from marshmallow import fields, validate

from marketplace.api import context
from marketplace.api.catalogue import content_locales
from marketplace.api.idempotency import idempotent
from marketplace.api.openapi import raises
from marketplace.api.orders import blp
from marketplace.api.orders.schemas import OrderPageSchema, OrderSchema, ShipToSchema
from marketplace.api.schemas import CurrencyCode, PageArgsSchema, StrictSchema, choices
from marketplace.catalogue.stock import InsufficientStock
from marketplace.checkout import placing as checkout
from marketplace.customs.addresses import AddressIncomplete
from marketplace.customs.rule_records import NoCustomsRule
from marketplace.db import utcnow
from marketplace.errors import Forbidden, Invalid
from marketplace.i18n import N_
from marketplace.money.rates import MissingRate, StaleRate
from marketplace.money.services import RatesUnavailable
from marketplace.orders import placing, queries
from marketplace.orders.errors import (
    InvalidTransition,
    ListingUnavailable,
    NotShippedTo,
    RefundUnavailable,
    ReservationLimit,
    TooManyUnpaidOrders,
)
from marketplace.orders.models import Incoterm, OrderStatus
from marketplace.orders.shipping import NoShippingRate


class OrderLineInSchema(StrictSchema):
    listing_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    variant_id = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=36),
        metadata={"description": "Needed when the listing offers several variants"},
    )
    quantity = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=10_000)
    )


class OrderCreateSchema(StrictSchema):
    currency = CurrencyCode(required=True)
    lines = fields.List(
        fields.Nested(OrderLineInSchema), required=True, validate=validate.Length(min=1, max=100)
    )
    ship_to = fields.Nested(ShipToSchema, required=True)
    incoterm = fields.String(required=True, validate=validate.OneOf(choices(Incoterm)))
    broker_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=36))

    @ma.post_load
    def to_request(self, data: dict[str, Any], **_kwargs: Any) -> placing.OrderRequest:
        return placing.OrderRequest(
            currency=data["currency"],
            lines=[placing.LineRequest(**line) for line in data["lines"]],
            ship_to=data["ship_to"],
            incoterm=Incoterm(data["incoterm"]),
            broker_id=data["broker_id"],
        )


class OrderQuerySchema(PageArgsSchema):
    status = fields.String(load_default=None, validate=validate.OneOf(choices(OrderStatus)))
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


def hoarding_limits() -> placing.HoardingLimits:
    """How much one buyer may hold unpaid, from the settings (orders and completed carts alike)."""
    return placing.HoardingLimits(
        unpaid_orders=context.settings()["MAX_UNPAID_ORDERS_PER_BUYER"],
        units_per_listing=context.settings()["MAX_RESERVED_UNITS_PER_BUYER_LISTING"],
    )


def _reservation() -> dt.timedelta:
    return dt.timedelta(minutes=context.settings()["ORDER_RESERVATION_MINUTES"])


@blp.route("/orders")
class Orders(MethodView):
    @context.user_required
    @blp.arguments(OrderQuerySchema, location="query")
    @blp.response(200, OrderPageSchema)
    def get(self, query: dict[str, Any]) -> queries.Page:
        """Orders the caller bought, or holding shipments of the caller's sellers (operators: all),
        newest first, by status and creation time; an unknown parameter is a 422."""
        return queries.list_orders(context.db(), context.require_user(), now=utcnow(), **query)

    @context.user_required
    @idempotent
    @blp.arguments(OrderCreateSchema)
    @blp.response(201, OrderSchema)
    @raises(
        InsufficientStock,
        StaleRate,
        RatesUnavailable,
        TooManyUnpaidOrders,
        ReservationLimit,
        ListingUnavailable,
        (ListingUnavailable, "variant_required"),
        NotShippedTo,
        NoShippingRate,
        MissingRate,
        NoCustomsRule,
        (Invalid, "brokerage_unknown"),
        (Invalid, "brokerage_not_serving"),
        AddressIncomplete,
    )
    def post(self, request: placing.OrderRequest) -> queries.OrderView:
        """Place an order: one shipment per seller, rates locked, stock reserved until paid."""
        return checkout.place_order(
            context.db(),
            context.require_user(),
            request,
            now=utcnow(),
            reservation=_reservation(),
            max_rate_age=dt.timedelta(seconds=context.settings()["MAX_RATE_AGE"]),
            locales=content_locales(None),
            limits=hoarding_limits(),
        )


@blp.route("/orders/<order_id>", methods=["GET"])
@context.user_required
@blp.response(200, OrderSchema)
def get_order(order_id: str) -> queries.OrderView:
    """One order as the caller may see it (a seller sees only their own shipments and lines)."""
    return queries.get_order(context.db(), context.require_user(), order_id, now=utcnow())


@blp.route("/orders/<order_id>/cancel", methods=["POST"])
@context.user_required
@blp.response(200, OrderSchema)
@blp.alt_response(
    404, response="NOT_FOUND", description="No such order, or not visible to the caller"
)
@raises((Forbidden, "cancel_forbidden"), InvalidTransition, RefundUnavailable)
def cancel_order(order_id: str) -> queries.OrderView:
    """Cancel before dispatch (buyer or operator): stock comes back; a paid order is refunded."""
    return checkout.cancel_order(
        context.db(),
        context.require_user(),
        order_id,
        now=utcnow(),
        gateways=context.extension("payment_gateways"),
        listeners=context.extension("payment_listeners"),
    )
