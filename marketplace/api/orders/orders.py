"""Orders: list, place, read and cancel."""

from __future__ import annotations

import datetime as dt
from typing import Any

import marshmallow as ma
from flask.views import MethodView
from marshmallow import fields, validate

from marketplace.api import context
from marketplace.api.idempotency import idempotent
from marketplace.api.orders import blp
from marketplace.api.orders.schemas import OrderPageSchema, OrderSchema, ShipToSchema
from marketplace.api.schemas import CurrencyCode, PageArgsSchema, StrictSchema
from marketplace.checkout import placing as checkout
from marketplace.db import utcnow
from marketplace.orders import placing, queries
from marketplace.orders.models import Incoterm


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
    def to_request(self, data: dict[str, Any], **_kwargs: Any) -> placing.OrderRequest:
        return placing.OrderRequest(
            currency=data["currency"],
            lines=[placing.LineRequest(**line) for line in data["lines"]],
            ship_to=data["ship_to"],
            incoterm=data["incoterm"],
            broker_id=data["broker_id"],
        )


def _reservation() -> dt.timedelta:
    return dt.timedelta(minutes=context.settings()["ORDER_RESERVATION_MINUTES"])


@blp.route("/orders")
class Orders(MethodView):
    @context.user_required
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, OrderPageSchema)
    def get(self, query: dict[str, Any]) -> queries.Page:
        """Orders the caller bought, or holding shipments of the caller's sellers (operators: all)."""
        return queries.list_orders(
            context.db(),
            context.require_user(),
            now=utcnow(),
            limit=query["limit"],
            cursor=query["cursor"],
        )

    @context.user_required
    @idempotent
    @blp.arguments(OrderCreateSchema)
    @blp.response(201, OrderSchema)
    @blp.alt_response(
        409,
        response="CONFLICT",
        description="`insufficient_stock` (with `lines`), `rate_stale`, `idempotency_key_reused`, `too_many_unpaid_orders` (with `limit`), `reservation_limit` (with `lines` and `limit`)",
    )
    @blp.alt_response(
        422,
        response="UNPROCESSABLE_ENTITY",
        description="`listing_unavailable`, `not_shipped_to`, `no_shipping_rate`, `rate_missing`, `no_customs_rule`, `brokerage_unknown`, invalid fields",
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
            limits=placing.HoardingLimits(
                unpaid_orders=context.settings()["MAX_UNPAID_ORDERS_PER_BUYER"],
                units_per_listing=context.settings()["MAX_RESERVED_UNITS_PER_BUYER_LISTING"],
            ),
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
