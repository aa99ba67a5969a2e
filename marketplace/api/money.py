"""Currencies and exchange rates: GET /currencies, GET and PUT /rates, GET /rates/{id}."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import fields, validate

from marketplace.accounts.services import OperatorRequired, require_operator
from marketplace.api import context
from marketplace.api.openapi import raises
from marketplace.api.schemas import CurrencyCode, LocaleTag, StrictSchema
from marketplace.db import utcnow
from marketplace.errors import Conflict, Invalid, NotFound
from marketplace.i18n import current_locale
from marketplace.money import services
from marketplace.money.formatting import currency_list
from marketplace.money.models import RateSet
from marketplace.money.services import RatesUnavailable

blp = Blueprint("money", __name__, description="Currencies and exchange rates")


class CurrencyQuerySchema(StrictSchema):
    locale = LocaleTag(load_default=None)


class CurrencySchema(StrictSchema):
    code = fields.String(required=True, metadata={"example": "KZT"})
    name = fields.String(required=True, metadata={"example": "Kazakhstani Tenge"})
    minor_units = fields.Integer(required=True, metadata={"example": 2})
    symbol = fields.String(required=True, metadata={"example": "₸"})


class RateOriginSchema(StrictSchema):
    as_of = fields.Date(required=True)
    source = fields.String(required=True, metadata={"example": "ecb"})
    stale = fields.Boolean(required=True, metadata={"description": "Older than MAX_RATE_AGE"})


class PlainDecimal(fields.String):
    """A Decimal as plain digits without trailing zeros: "489.5", never "4.895E+2"."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else format(value.normalize(), "f")


class RateSetSchema(StrictSchema):
    """Dumps a `services.RateSetStatus`: the stored set's columns and its rates in force."""

    id = fields.String(required=True, attribute="rate_set.id")
    base = fields.String(required=True, attribute="rate_set.base", metadata={"example": "EUR"})
    as_of = fields.Date(required=True, attribute="rate_set.as_of")
    source = fields.String(required=True, attribute="rate_set.source", metadata={"example": "ecb"})
    created_at = fields.DateTime(required=True, attribute="rate_set.created_at")
    rates = fields.Dict(
        keys=fields.String(),
        values=PlainDecimal(),
        required=True,
        metadata={
            "example": {"USD": "1.0163", "KZT": "489.5"},
            "description": "Units of each currency per one unit of base",
        },
    )
    origins = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(RateOriginSchema),
        required=True,
        metadata={"description": "Per currency: its own date and source, and whether it is stale"},
    )
    stale = fields.List(
        fields.String(),
        required=True,
        metadata={
            "description": "Currencies whose rate is older than MAX_RATE_AGE: shown, but orders in them are refused"
        },
    )


class RatesPutSchema(StrictSchema):
    base = CurrencyCode(required=True)
    as_of = fields.Date(load_default=None, metadata={"description": "Defaults to today (UTC)"})
    rates = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=3)),
        values=fields.Raw(metadata={"type": "string", "example": "489.50"}),
        required=True,
        metadata={
            "example": {"KZT": "489.50", "UZS": "11650", "RUB": "60.10"},
            "description": "Decimal strings: units of each currency per one unit of base",
        },
    )


def _status(rate_set: RateSet) -> services.RateSetStatus:
    return services.status_of(rate_set, utcnow(), context.settings()["MAX_RATE_AGE"])


@blp.route("/currencies", methods=["GET"])
@blp.arguments(CurrencyQuerySchema, location="query")
@blp.response(200, CurrencySchema(many=True))
def list_currencies(_query: dict[str, Any]) -> list[dict[str, object]]:
    """Active ISO 4217 currencies with names and symbols in the response locale."""
    return currency_list(current_locale())


@blp.route("/rates", methods=["GET"])
@blp.response(200, RateSetSchema)
@raises(RatesUnavailable)
def get_rates() -> services.RateSetStatus:
    """The exchange rates in force, with each rate's date and source."""
    return _status(services.current_rate_set(context.db()))


@blp.route("/rates", methods=["PUT"])
@context.user_required
@blp.arguments(RatesPutSchema)
@blp.response(200, RateSetSchema)
@raises(
    OperatorRequired,
    (Invalid, "rate_invalid"),
    (Invalid, "currency_unknown"),
    (Conflict, "rates_changed"),
)
def put_rates(body: dict[str, Any]) -> services.RateSetStatus:
    """Replace the operator-entered rates (operators only); ECB rates are kept."""
    rate_set = services.enter_rates(
        context.db(),
        entered_by=require_operator(context.require_user()).id,
        base=body["base"],
        rates=body["rates"],
        as_of=body["as_of"],
        now=utcnow(),
    )
    return _status(rate_set)


@blp.route("/rates/<rate_set_id>", methods=["GET"])
@blp.response(200, RateSetSchema)
@raises((NotFound, "rate_set_not_found"))
def get_rate_set(rate_set_id: str) -> services.RateSetStatus:
    """One stored rate set by id (an order's fx entries name the set they came from)."""
    return _status(services.get_rate_set(context.db(), rate_set_id))
