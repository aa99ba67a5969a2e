"""Carts and checkout for storefronts: a cart priced like an order, then completed into one."""

from __future__ import annotations

import datetime as dt
from typing import Any

import marshmallow as ma
import orjson
from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from marketplace.api import context
from marketplace.api.catalogue import content_locales
from marketplace.api.idempotency import idempotent
from marketplace.api.money_fields import MoneyOutputSchema
from marketplace.api.openapi import raises
from marketplace.api.orders.orders import hoarding_limits
from marketplace.api.orders.schemas import OrderSchema, ShipToSchema
from marketplace.api.schemas import (
    CurrencyCode,
    LocaleTag,
    StrictSchema,
    choices,
    variant_options,
)
from marketplace.checkout import carts
from marketplace.checkout.carts import CartCompleted, CartNotOrderable
from marketplace.db import utcnow
from marketplace.errors import Invalid
from marketplace.money import Money
from marketplace.money.services import RatesUnavailable
from marketplace.orders.errors import (
    ListingUnavailable,
    NotShippedTo,
    ReservationLimit,
    TooManyUnpaidOrders,
)
from marketplace.orders.models import Incoterm

blp = Blueprint("carts", __name__, description="Carts and checkout (storefront side)")


class CartInSchema(StrictSchema):
    currency = CurrencyCode(allow_none=True)
    locale = LocaleTag(allow_none=True)
    ship_to = fields.Nested(ShipToSchema, allow_none=True)
    incoterm = fields.String(validate=validate.OneOf(choices(Incoterm)))
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))


class CartPatchSchema(CartInSchema):
    broker_id = fields.String(allow_none=True, validate=validate.Length(min=1, max=36))


class CartLineInSchema(StrictSchema):
    listing_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    variant_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=36))
    quantity = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=carts.MAX_QUANTITY)
    )


class CartLinePatchSchema(StrictSchema):
    quantity = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=carts.MAX_QUANTITY)
    )


class CartLineSchema(ma.Schema):
    id = fields.String(required=True)
    listing_id = fields.String(required=True)
    variant_id = fields.String(required=True, allow_none=True)
    quantity = fields.Integer(required=True)
    title = fields.String(required=True, metadata={"description": "In the cart's locale"})
    options = variant_options("The variant's options in the cart's locale ({} for none)")
    unit_price = fields.Nested(
        MoneyOutputSchema,
        required=True,
        allow_none=True,
        metadata={"description": "None when it cannot be priced"},
    )
    line_total = fields.Nested(MoneyOutputSchema, required=True, allow_none=True)
    available = fields.Integer(
        required=True, metadata={"description": "Units that can be ordered now"}
    )


class CartSellerSchema(ma.Schema):
    id = fields.String(required=True)
    country = fields.String(required=True)


class ParcelNoteSchema(ma.Schema):
    """What the customs engine applied to a parcel; `text` in the response locale."""

    code = fields.String(required=True)
    text = fields.String(required=True)


class CartShipmentSchema(ma.Schema):
    seller = fields.Nested(CartSellerSchema, required=True)
    lines = fields.List(fields.String(), required=True, metadata={"description": "Cart line ids"})
    goods = fields.Nested(MoneyOutputSchema, required=True)
    shipping = fields.Nested(MoneyOutputSchema, required=True)
    duties = fields.Nested(MoneyOutputSchema, required=True)
    taxes = fields.Nested(MoneyOutputSchema, required=True)
    explanations = fields.List(fields.Nested(ParcelNoteSchema), required=True)


class CartTotalsSchema(ma.Schema):
    goods = fields.Nested(MoneyOutputSchema, required=True)
    shipping = fields.Nested(MoneyOutputSchema, required=True)
    duties = fields.Nested(MoneyOutputSchema, required=True)
    taxes = fields.Nested(MoneyOutputSchema, required=True)
    grand_total = fields.Nested(MoneyOutputSchema, required=True)
    payable_at_checkout = fields.Nested(
        MoneyOutputSchema,
        required=True,
        metadata={"description": "What completing the cart charges"},
    )
    due_on_delivery = fields.Nested(MoneyOutputSchema, required=True)


class CartProblemSchema(ma.Schema):
    code = fields.String(required=True)
    line_id = fields.String()
    detail = fields.String(required=True)


class CartSchema(ma.Schema):
    id = fields.String(required=True)
    currency = fields.String(required=True, allow_none=True)
    locale = fields.String(required=True, allow_none=True)
    incoterm = fields.String(required=True)
    ship_to = fields.Nested(ShipToSchema, required=True, allow_none=True)
    email = fields.String(required=True, allow_none=True)
    broker_id = fields.String(required=True, allow_none=True)
    order_id = fields.String(
        required=True, allow_none=True, metadata={"description": "The order it was completed into"}
    )
    lines = fields.List(fields.Nested(CartLineSchema), required=True)
    shipments = fields.List(fields.Nested(CartShipmentSchema), required=True)
    totals = fields.Nested(CartTotalsSchema, required=True, allow_none=True)
    problems = fields.List(
        fields.Nested(CartProblemSchema),
        required=True,
        metadata={"description": "What stops it from being ordered now; empty when it can be"},
    )


class CompletedSchema(OrderSchema):
    """Dumps a completed cart: its order, and for a guest the token to read it with."""

    access_token = fields.String(
        metadata={"description": "Guests only: a bearer token to read this order later"}
    )

    def get_attribute(self, obj: Any, attr: str, default: Any) -> Any:
        if attr == "access_token":
            return obj.access_token if obj.access_token is not None else ma.missing
        return super().get_attribute(obj.order, attr, default)


def _money(units: int, currency: str) -> dict[str, str]:
    return Money.from_minor(units, currency).to_api()


_SHIP_TO = ShipToSchema()


def _cart_out(priced: carts.PricedCart) -> dict[str, Any]:
    """The cart as `CartSchema` dumps it, key for key and in its order: built directly, as
    marshmallow walking every nested field cost more than pricing a line."""
    cart = priced.cart
    by_position = {entry.priced.position: entry.line.id for entry in priced.lines if entry.priced}
    totals = priced.totals()
    return {
        "id": cart.id,
        "currency": priced.currency,
        "locale": cart.locale,
        "incoterm": cart.incoterm,
        "ship_to": None if cart.ship_to is None else _SHIP_TO.dump(cart.ship_to),
        "email": cart.email,
        "broker_id": cart.broker_id,
        "order_id": cart.order_id,
        "lines": [
            {
                "id": entry.line.id,
                "listing_id": entry.line.listing_id,
                "variant_id": entry.line.variant_id,
                "quantity": entry.line.quantity,
                "title": entry.title,
                "options": entry.priced.buyer_variant if entry.priced else {},
                "unit_price": _money(entry.priced.unit_price_minor, entry.priced.currency)
                if entry.priced
                else None,
                "line_total": _money(entry.priced.total_minor, entry.priced.currency)
                if entry.priced
                else None,
                "available": entry.available,
            }
            for entry in priced.lines
        ],
        "shipments": [
            {
                "seller": {"id": shipment.seller_id, "country": shipment.from_country},
                "lines": [by_position[line.position] for line in shipment.lines],
                "goods": _money(shipment.goods_minor, shipment.currency),
                "shipping": _money(shipment.shipping_minor, shipment.currency),
                "duties": _money(shipment.duties_minor, shipment.currency),
                "taxes": _money(shipment.taxes_minor, shipment.currency),
                "explanations": [
                    {"code": note.code, "text": str(note.text)} for note in landed.explanations
                ],
            }
            for shipment, landed in zip(priced.shipments, priced.landed_costs(), strict=True)
        ],
        "totals": None
        if totals is None
        else {
            "goods": totals.goods.to_api(),
            "shipping": totals.shipping.to_api(),
            "duties": totals.duties.to_api(),
            "taxes": totals.taxes.to_api(),
            "grand_total": totals.grand_total.to_api(),
            "payable_at_checkout": totals.grand_total.to_api(),
            "due_on_delivery": totals.due_on_delivery.to_api(),
        },
        "problems": [_problem_out(problem) for problem in priced.problems],
    }


def _problem_out(problem: carts.Problem) -> dict[str, str]:
    """In `CartProblemSchema`'s order (a 409's `problems` keep `Problem.to_api`'s)."""
    if problem.line_id is None:
        return {"code": problem.code, "detail": problem.detail}
    return {"code": problem.code, "line_id": problem.line_id, "detail": problem.detail}


def _priced(cart_id: str, status: int = 200) -> Response:
    payload = _cart_out(
        carts.price_cart(
            context.db(),
            context.current_user(),
            cart_id,
            now=utcnow(),
            max_rate_age=dt.timedelta(seconds=context.settings()["MAX_RATE_AGE"]),
            locales=content_locales(None),
        )
    )
    # The bytes Flask's JSON provider writes for the same dict (compact, trailing newline).
    return Response(orjson.dumps(payload) + b"\n", status=status, mimetype="application/json")


NOT_FOUND = "No such cart, or one bound to another user"


@blp.route("/carts", methods=["POST"])
@context.user_optional
@blp.arguments(CartInSchema)
@blp.response(201, CartSchema)
@raises(RatesUnavailable)
def create_cart(body: dict[str, Any]) -> Response:
    """A new cart; its id is the capability to read and change it (bound to a signed-in caller)."""
    cart = carts.create_cart(context.db(), context.current_user(), body, now=utcnow())
    return _priced(cart.id, 201)


@blp.route("/carts/<cart_id>")
class CartResource(MethodView):
    @context.user_optional
    @blp.response(200, CartSchema)
    @blp.alt_response(404, response="NOT_FOUND", description=NOT_FOUND)
    @context.without_transaction
    def get(self, cart_id: str) -> Response:
        """The cart priced now: current rates, stock and rules; what stops it in `problems`."""
        return _priced(cart_id)

    @context.user_optional
    @blp.arguments(CartPatchSchema)
    @blp.response(200, CartSchema)
    @blp.alt_response(404, response="NOT_FOUND", description=NOT_FOUND)
    @raises(CartCompleted, NotShippedTo, RatesUnavailable)
    def patch(self, body: dict[str, Any], cart_id: str) -> Response:
        """Change the currency, locale, delivery address, incoterm, email or broker."""
        carts.update_cart(context.db(), context.current_user(), cart_id, body, now=utcnow())
        return _priced(cart_id)


@blp.route("/carts/<cart_id>/lines", methods=["POST"])
@context.user_optional
@blp.arguments(CartLineInSchema)
@blp.response(201, CartSchema)
@blp.alt_response(404, response="NOT_FOUND", description=NOT_FOUND)
@raises(
    CartCompleted,
    ListingUnavailable,
    (ListingUnavailable, "variant_required"),
    NotShippedTo,
    (Invalid, "cart_full"),
    RatesUnavailable,
)
def add_line(body: dict[str, Any], cart_id: str) -> Response:
    """Add a listing; the same listing and variant again adds to its line."""
    carts.add_line(context.db(), context.current_user(), cart_id, now=utcnow(), **body)
    return _priced(cart_id, 201)


@blp.route("/carts/<cart_id>/lines/<line_id>")
class CartLineResource(MethodView):
    @context.user_optional
    @blp.arguments(CartLinePatchSchema)
    @blp.response(200, CartSchema)
    @blp.alt_response(404, response="NOT_FOUND", description="No such cart or line")
    @raises(CartCompleted, RatesUnavailable)
    def patch(self, body: dict[str, Any], cart_id: str, line_id: str) -> Response:
        """Set a line's quantity."""
        carts.update_line(
            context.db(),
            context.current_user(),
            cart_id,
            line_id,
            quantity=body["quantity"],
            now=utcnow(),
        )
        return _priced(cart_id)

    @context.user_optional
    @blp.response(200, CartSchema)
    @blp.alt_response(404, response="NOT_FOUND", description="No such cart or line")
    @raises(CartCompleted, RatesUnavailable)
    def delete(self, cart_id: str, line_id: str) -> Response:
        """Remove a line."""
        carts.delete_line(context.db(), context.current_user(), cart_id, line_id, now=utcnow())
        return _priced(cart_id)


@blp.route("/carts/<cart_id>/complete", methods=["POST"])
@context.user_optional
@idempotent
@blp.response(201, CompletedSchema)
@blp.alt_response(404, response="NOT_FOUND", description=NOT_FOUND)
@raises(CartNotOrderable, CartCompleted, TooManyUnpaidOrders, ReservationLimit)
def complete(cart_id: str) -> carts.Completed:
    """Order the cart as priced now: stock reserved and the order created in one transaction."""
    settings = context.settings()
    return carts.complete_cart(
        context.db(),
        context.current_user(),
        cart_id,
        now=utcnow(),
        reservation=dt.timedelta(minutes=settings["ORDER_RESERVATION_MINUTES"]),
        max_rate_age=dt.timedelta(seconds=settings["MAX_RATE_AGE"]),
        token_ttl=int(settings["TOKEN_TTL"]),
        locales=content_locales(None),
        limits=hoarding_limits(),
    )
