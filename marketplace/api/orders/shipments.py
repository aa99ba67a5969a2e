"""Shipments: list, read, dispatch, and name the customs broker."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from marketplace.api import context
from marketplace.api.openapi import raises
from marketplace.api.orders import blp
from marketplace.api.orders.schemas import ShipmentPageSchema, ShipmentSchema
from marketplace.api.schemas import Country, PageArgsSchema, StrictSchema, choices, text
from marketplace.db import utcnow
from marketplace.errors import Forbidden, Invalid
from marketplace.orders import lifecycle, queries
from marketplace.orders.errors import InvalidTransition
from marketplace.orders.models import ShipmentStatus


class ShipmentQuerySchema(PageArgsSchema):
    status = fields.String(load_default=None, validate=validate.OneOf(choices(ShipmentStatus)))
    to_country = Country(load_default=None)


class DispatchSchema(StrictSchema):
    carrier = text(100)
    tracking_number = text(100)


class BrokerSchema(StrictSchema):
    brokerage_id = fields.String(required=True, validate=validate.Length(min=1, max=36))


@blp.route("/shipments", methods=["GET"])
@context.user_required
@blp.arguments(ShipmentQuerySchema, location="query")
@blp.response(200, ShipmentPageSchema)
def list_shipments(query: dict[str, Any]) -> queries.Page:
    """Shipments of the caller's orders and sellers, and those designated to the caller's brokerages."""
    return queries.list_shipments(
        context.db(),
        context.require_user(),
        status=query["status"],
        to_country=query["to_country"],
        limit=query["limit"],
        cursor=query["cursor"],
        now=utcnow(),
    )


@blp.route("/shipments/<shipment_id>", methods=["GET"])
@context.user_required
@blp.response(200, ShipmentSchema)
def get_shipment(shipment_id: str) -> queries.ShipmentView:
    """One shipment, for its buyer, its seller or its designated customs broker."""
    return queries.get_shipment(context.db(), context.require_user(), shipment_id, now=utcnow())


@blp.route("/shipments/<shipment_id>/dispatch", methods=["POST"])
@context.user_required
@blp.arguments(DispatchSchema)
@blp.response(200, ShipmentSchema)
@blp.alt_response(
    404,
    response="NOT_FOUND",
    description="No such shipment, or the caller is not a member of its seller",
)
@raises(InvalidTransition)
def dispatch(body: dict[str, Any], shipment_id: str) -> queries.ShipmentView:
    """The seller hands a paid shipment to the carrier."""
    return lifecycle.dispatch(
        context.db(), context.require_user(), shipment_id, now=utcnow(), **body
    )


@blp.route("/shipments/<shipment_id>/broker", methods=["PUT"])
@context.user_required
@blp.arguments(BrokerSchema)
@blp.response(200, ShipmentSchema)
@blp.alt_response(
    404, response="NOT_FOUND", description="No such shipment, or not visible to the caller"
)
@raises(
    (Forbidden, "broker_forbidden"),
    (Invalid, "brokerage_unknown"),
    (Invalid, "brokerage_not_serving"),
)
def designate_broker(body: dict[str, Any], shipment_id: str) -> queries.ShipmentView:
    """Name the customs brokerage for a shipment (buyer or seller); its members may then read it."""
    return lifecycle.designate_broker(
        context.db(), context.require_user(), shipment_id, body["brokerage_id"], now=utcnow()
    )
