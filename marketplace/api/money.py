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
from marketplace.money.services import RatesUnavailable, table_of

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


class RateSetSchema(StrictSchema):
    id = fields.String(required=True)
    base = fields.String(required=True, metadata={"example": "EUR"})
    as_of = fields.Date(required=True)
    source = fields.String(required=True, metadata={"example": "ecb"})
    created_at = fields.DateTime(required=True)
    rates = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
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


def _rate_set(rate_set: RateSet) -> dict[str, Any]:
    now = utcnow()
    table = table_of(rate_set)
    stale = table.stale_currencies(now, context.settings()["MAX_RATE_AGE"])
    return {
        "id": rate_set.id,
        "base": rate_set.base,
        "as_of": rate_set.as_of,
        "source": rate_set.source,
        "created_at": rate_set.created_at,
        "rates": {code: format(rate.normalize(), "f") for code, rate in table.rates.items()},
        "origins": {
            code: {"as_of": origin.as_of, "source": origin.source, "stale": code in stale}
            for code, origin in table.origins.items()
        },
        "stale": stale,
    }


@blp.route("/currencies", methods=["GET"])
@blp.arguments(CurrencyQuerySchema, location="query")
@blp.response(200, CurrencySchema(many=True))
def list_currencies(_query: dict[str, Any]) -> list[dict[str, object]]:
    """Active ISO 4217 currencies with names and symbols in the response locale."""
    return currency_list(current_locale())


@blp.route("/rates", methods=["GET"])
@blp.response(200, RateSetSchema)
@raises(RatesUnavailable)
def get_rates() -> dict[str, Any]:
    """The exchange rates in force, with each rate's date and source."""
    return _rate_set(services.current_rate_set(context.db()))


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
def put_rates(body: dict[str, Any]) -> dict[str, Any]:
    """Replace the operator-entered rates (operators only); ECB rates are kept."""
    rate_set = services.enter_rates(
        context.db(),
        entered_by=require_operator(context.require_user()).id,
        base=body["base"],
        rates=body["rates"],
        as_of=body["as_of"],
        now=utcnow(),
    )
    return _rate_set(rate_set)


@blp.route("/rates/<rate_set_id>", methods=["GET"])
@blp.response(200, RateSetSchema)
@raises((NotFound, "rate_set_not_found"))
def get_rate_set(rate_set_id: str) -> dict[str, Any]:
    """One stored rate set by id (an order's fx entries name the set they came from)."""
    return _rate_set(services.get_rate_set(context.db(), rate_set_id))
