"""A seller's shipping price list: GET and PUT /sellers/{id}/shipping-rates."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView
from marshmallow import fields, validate

from marketplace.api import context
from marketplace.api.money_fields import MoneyField, MoneyOutputSchema
from marketplace.api.openapi import raises
from marketplace.api.orders import blp
from marketplace.api.schemas import DESTINATIONS, StrictSchema
from marketplace.countries import is_country
from marketplace.customs.declaration import ServiceClass
from marketplace.errors import Forbidden
from marketplace.i18n import N_
from marketplace.orders import shipping


def _destination(value: str) -> None:
    if value != shipping.EVERYWHERE and not is_country(value):
        raise ma.ValidationError(N_("Not a valid country code."))


class ShippingRateRowSchema(StrictSchema):
    countries = fields.List(
        fields.String(validate=_destination, metadata={"enum": DESTINATIONS}),
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


@blp.route("/sellers/<seller_id>/shipping-rates")
class ShippingRates(MethodView):
    @blp.response(200, ShippingRateOutSchema(many=True))
    def get(self, seller_id: str) -> list[shipping.RateRow]:
        """A seller's shipping price list: base plus per kg, by destination ("*" = elsewhere)."""
        return shipping.get_rates(context.db(), seller_id)

    @context.user_required
    @blp.arguments(ShippingRateRowSchema(many=True))
    @blp.response(200, ShippingRateOutSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND", description="No such seller, or not the caller's")
    @raises((Forbidden, "owner_required"))
    def put(self, rows: list[shipping.RateRow], seller_id: str) -> list[shipping.RateRow]:
        """Replace the price list (owners); each country in one row only, amounts in the seller's currency."""
        return shipping.replace_rates(context.db(), context.require_user(), seller_id, rows)
