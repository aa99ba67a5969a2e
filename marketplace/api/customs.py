"""Customs: HS code lookup, destination rules (operators), landed-cost estimates."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from marketplace.accounts.services import OperatorRequired
from marketplace.api import context
from marketplace.api.money_fields import MoneyOutputSchema
from marketplace.api.openapi import raises
from marketplace.api.schemas import Country, CurrencyCode, LocaleTag, StrictSchema
from marketplace.checkout import pricing
from marketplace.checkout.pricing import QuoteLine
from marketplace.customs import hs, rule_records, rules
from marketplace.customs.hs import HsCodeInvalid
from marketplace.customs.landed_cost import Incoterm
from marketplace.customs.models import CustomsRule
from marketplace.customs.quotes import BasketQuote
from marketplace.customs.rule_records import NoCustomsRule
from marketplace.db import utcnow
from marketplace.errors import Conflict, Invalid, NotFound
from marketplace.i18n import N_, current_locale
from marketplace.money import services as money
from marketplace.money.services import RatesUnavailable
from marketplace.orders.errors import ListingUnavailable

blp = Blueprint("customs", __name__, description="HS codes, destination rules and landed cost")


class HsCodeQuerySchema(StrictSchema):
    locale = LocaleTag(load_default=None)


class HsCodeSchema(StrictSchema):
    code = fields.String(
        required=True,
        metadata={
            "description": "The code as normalized: digits only, never padded",
            "example": "09021000",
        },
    )
    valid = fields.Boolean(
        required=True,
        metadata={"description": "Whether the first six digits are an HS 2022 subheading"},
    )
    level = fields.Integer(
        allow_none=True,
        required=True,
        metadata={"description": "Digits given (6-10) when valid, else null"},
    )
    description = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "The subheading's description (HS 2022); null when not valid"},
    )
    description_locale = fields.String(
        required=True,
        metadata={
            "description": "The language of `description`: always `en`, the nomenclature is shipped in English only",
            "example": "en",
        },
    )
    edition = fields.String(required=True, metadata={"example": "HS2022"})


@blp.route("/hs-codes/<code>", methods=["GET"])
@blp.arguments(HsCodeQuerySchema, location="query")
@blp.response(200, HsCodeSchema)
@raises(HsCodeInvalid)
def get_hs_code(query: dict[str, Any], code: str) -> dict[str, Any]:
    """Check and describe an HS code.

    6 to 10 digits; dots and spaces are accepted and removed. A well-formed code whose first six
    digits are not an HS 2022 subheading answers 200 with `valid: false` (so a form can say so
    as the seller types); a malformed one (letters, too short or long) is a 422 problem with code
    `hs_code_invalid`. Descriptions are in English whatever the locale: `description_locale` says so.
    """
    found = hs.lookup(context.db(), code)
    return {**dataclasses.asdict(found), "description_locale": "en", "edition": hs.EDITION}


# Operators: the destination rules.


class RuleRecordSchema(rules.RuleSchema):
    """Dumps a `CustomsRule` row: the record's own columns, and its rule (parsed once, cached)."""

    id = fields.String(required=True, dump_only=True)
    edited_by = fields.String(
        allow_none=True,
        dump_only=True,
        metadata={
            "description": "The operator who last changed the record; null while it is as shipped in the data files"
        },
    )
    updated_at = fields.DateTime(dump_only=True)

    def get_attribute(self, obj: CustomsRule, attr: str, default: Any) -> Any:
        if attr in ("id", "edited_by", "updated_at"):
            return getattr(obj, attr)
        return getattr(rule_records.rule_for(obj), attr, default)


class RuleListSchema(StrictSchema):
    items = fields.List(fields.Nested(RuleRecordSchema), required=True)
    next_cursor = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "Always null: every record fits one page"},
    )


class RuleQuerySchema(StrictSchema):
    destination = fields.String(load_default=None, validate=validate.Regexp(r"^[A-Z0-9]{2,8}$"))
    country = Country(load_default=None)


@blp.route("/customs/rules")
class Rules(MethodView):
    @context.user_required
    @blp.arguments(RuleQuerySchema, location="query")
    @blp.response(200, RuleListSchema)
    @blp.alt_response(401, "UNAUTHORIZED")
    @raises(OperatorRequired)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """List destination rule records (operators only), by destination and start date."""
        found = rule_records.list_rules(context.db(), context.require_user(), **query)
        return {"items": found, "next_cursor": None}

    @context.user_required
    @blp.arguments(rules.RuleSchema)
    @blp.response(201, RuleRecordSchema)
    @blp.alt_response(401, "UNAUTHORIZED")
    @raises(OperatorRequired, (Conflict, "customs_rule_overlap"))
    def post(self, rule: rules.Rule) -> CustomsRule:
        """Add a rule record, e.g. a new validity period after a change in the law (operators only).

        A record may not overlap another one covering the same country: end the current record
        first (PUT with `valid_to`), then add the new one. An overlap is a 409 `customs_rule_overlap`.
        """
        return rule_records.create_rule(context.db(), context.require_user(), rule)


@blp.route("/customs/rules/<rule_id>")
class RuleRecord(MethodView):
    @context.user_required
    @blp.response(200, RuleRecordSchema)
    @blp.alt_response(401, "UNAUTHORIZED")
    @blp.alt_response(404, "NOT_FOUND")
    @raises(OperatorRequired)
    def get(self, rule_id: str) -> CustomsRule:
        """One rule record (operators only)."""
        return rule_records.get_rule(context.db(), context.require_user(), rule_id)

    @context.user_required
    @blp.arguments(rules.RuleSchema)
    @blp.response(200, RuleRecordSchema)
    @blp.alt_response(401, "UNAUTHORIZED")
    @blp.alt_response(404, "NOT_FOUND")
    @raises(OperatorRequired, (Conflict, "customs_rule_overlap"))
    def put(self, rule: rules.Rule, rule_id: str) -> CustomsRule:
        """Replace a rule record (operators only).

        The whole record is sent, including `source` and `checked_on`. Once edited, the record
        belongs to the operators: `flask reference load` no longer overwrites it.
        """
        return rule_records.replace_rule(context.db(), context.require_user(), rule_id, rule)


# Landed cost: the response shape, also for other resources that embed an estimate.


class AmountsSchema(StrictSchema):
    local = fields.Nested(
        MoneyOutputSchema(formatted=True),
        required=True,
        metadata={"description": "In the destination's currency"},
    )
    requested = fields.Nested(
        MoneyOutputSchema(formatted=True),
        required=True,
        metadata={"description": "In the requested currency"},
    )


class ThresholdSchema(StrictSchema):
    amount = fields.Nested(MoneyOutputSchema, required=True)
    applied = fields.Boolean(
        required=True,
        metadata={"description": "True when the parcel stayed at or below it and was relieved"},
    )


class DeMinimisSchema(StrictSchema):
    duty = fields.Nested(ThresholdSchema, allow_none=True, required=True)
    tax = fields.Nested(ThresholdSchema, allow_none=True, required=True)


class AppliedRuleSchema(StrictSchema):
    id = fields.String(required=True)
    destination = fields.String(required=True, metadata={"example": "EU"})
    name = fields.String(required=True)
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(allow_none=True, required=True)
    source = fields.String(
        required=True, metadata={"description": "The official source of the rule"}
    )
    checked_on = fields.Date(required=True)


class LineEstimateSchema(StrictSchema):
    hs_code = fields.String(required=True)
    origin_country = fields.String(required=True)
    quantity = fields.Integer(required=True)
    value = fields.Nested(MoneyOutputSchema, required=True)
    duty_rate = fields.Decimal(
        as_string=True,
        allow_none=True,
        required=True,
        metadata={
            "type": "string",
            "example": "12",
            "description": "Percent; null when no ad valorem duty applied",
        },
    )
    duty = fields.Nested(MoneyOutputSchema, required=True)


class ExplanationSchema(StrictSchema):
    code = fields.String(required=True, metadata={"example": "duty_de_minimis_below"})
    text = fields.String(required=True, metadata={"description": "In the response locale"})


class FxSchema(StrictSchema):
    base = fields.String(required=True)
    as_of = fields.Date(required=True)
    source = fields.String(required=True)


class LandedCostSchema(StrictSchema):
    destination = fields.String(required=True)
    date = fields.Date(required=True)
    incoterm = fields.String(required=True, metadata={"enum": ["DAP", "DDP"]})
    currency = fields.String(required=True, metadata={"description": "The destination's currency"})
    requested_currency = fields.String(required=True)
    locale = fields.String(
        required=True,
        dump_default=current_locale,
        metadata={"description": "The locale of the explanation texts"},
    )
    rule = fields.Nested(AppliedRuleSchema, allow_none=True, required=True)
    goods = fields.Nested(AmountsSchema, required=True)
    shipping = fields.Nested(AmountsSchema, required=True)
    customs_value = fields.Nested(AmountsSchema, required=True)
    duties = fields.Nested(AmountsSchema, required=True)
    taxes = fields.Nested(AmountsSchema, required=True)
    duties_and_taxes = fields.Nested(AmountsSchema, required=True)
    payable_at_checkout = fields.Nested(
        AmountsSchema,
        required=True,
        metadata={"description": "DDP: duties and taxes; DAP: only taxes collected at sale"},
    )
    due_on_delivery = fields.Nested(
        AmountsSchema,
        required=True,
        metadata={"description": "DAP: what the carrier collects on delivery"},
    )
    landed_cost = fields.Nested(
        AmountsSchema, required=True, metadata={"description": "Goods, shipping, duties and taxes"}
    )
    de_minimis = fields.Nested(DeMinimisSchema, required=True)
    collected_at_sale = fields.String(
        allow_none=True,
        required=True,
        metadata={
            "description": "The low-value regime under which tax is collected at checkout, if any"
        },
    )
    lines = fields.List(fields.Nested(LineEstimateSchema), required=True)
    explanations = fields.List(fields.Nested(ExplanationSchema), required=True)
    fx = fields.Nested(FxSchema, required=True)


# GET /landed-cost: a basket of listings to a destination.

MAX_BASKET_LINES = 50
MAX_QUANTITY = 1000


# Listing ids are UUIDs: the class is spelt out, since `\s` differs between Python and JSON
# Schema's ECMA regexes (U+001C-U+001F), and a fuzzer generates from the document's.
_ID = "[A-Za-z0-9_-]{1,36}"
_BASKET_LINE = rf"{_ID}(?:\.{_ID})?:(?:1000|[1-9][0-9]{{0,2}})"
BASKET_LINES_PATTERN = rf"^{_BASKET_LINE}(?:,{_BASKET_LINE}){{0,{MAX_BASKET_LINES - 1}}}$"


class BasketLines(fields.Field):
    """`listing_id[.variant_id]:quantity,...` as quote lines, repeated lines added together."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            metadata={
                "type": "string",
                "pattern": BASKET_LINES_PATTERN,
                "example": "6f1c...:2,91ab....77c0...:1",
                "description": f"listing_id:quantity pairs (quantity 1 to {MAX_QUANTITY}), "
                f"comma-separated, at most {MAX_BASKET_LINES}; `listing_id.variant_id:quantity` "
                "quotes one variant of a listing (without it, a listing of several variants is "
                "quoted as its first)",
            },
            **kwargs,
        )

    def _deserialize(
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> list[QuoteLine]:
        if not isinstance(value, str):
            raise ma.ValidationError(N_("Not a valid string."))
        if not re.fullmatch(BASKET_LINES_PATTERN, value):
            raise ma.ValidationError(N_("Each line is listing_id:quantity, e.g. abc:2."))
        wanted: dict[tuple[str, str | None], int] = {}
        for pair in value.split(","):
            item, _sep, quantity = pair.partition(":")
            listing_id, _dot, variant_id = item.partition(".")
            key = (listing_id, variant_id or None)
            wanted[key] = wanted.get(key, 0) + int(quantity)
        if any(quantity > MAX_QUANTITY for quantity in wanted.values()):
            raise ma.ValidationError(N_("Quantities are 1 to 1000."))
        return [
            QuoteLine(listing, quantity, variant) for (listing, variant), quantity in wanted.items()
        ]


class LandedCostQuerySchema(StrictSchema):
    to = Country(required=True)
    lines = BasketLines(required=True)
    currency = CurrencyCode(load_default=None)
    incoterm = fields.Enum(Incoterm, by_value=True, load_default=Incoterm.DDP)
    date = fields.Date(
        load_default=None,
        metadata={"description": "The day whose rules apply; default today (UTC)"},
    )
    locale = LocaleTag(load_default=None)


class ShipmentQuoteSchema(LandedCostSchema):
    seller_id = fields.String(required=True)
    ship_from = fields.String(required=True)

    def get_attribute(self, obj: Any, attr: str, default: Any) -> Any:
        """A shipment's own seller and origin, and the rest from its estimate."""
        source = obj if attr in ("seller_id", "ship_from") else obj.estimate
        return super().get_attribute(source, attr, default)


class LandedCostTotalsSchema(StrictSchema):
    """What a parcel costs in all: shared by the basket quote and the catalogue's estimate block."""

    goods = fields.Nested(MoneyOutputSchema(formatted=True), required=True)
    shipping = fields.Nested(MoneyOutputSchema(formatted=True), required=True)
    duties = fields.Nested(MoneyOutputSchema(formatted=True), required=True)
    taxes = fields.Nested(MoneyOutputSchema(formatted=True), required=True)
    duties_and_taxes = fields.Nested(MoneyOutputSchema(formatted=True), required=True)
    landed_cost = fields.Nested(MoneyOutputSchema(formatted=True), required=True)


class BasketTotalsSchema(LandedCostTotalsSchema):
    payable_at_checkout = fields.Nested(MoneyOutputSchema(formatted=True), required=True)
    due_on_delivery = fields.Nested(MoneyOutputSchema(formatted=True), required=True)


class BasketQuoteSchema(StrictSchema):
    destination = fields.String(required=True)
    currency = fields.String(required=True)
    incoterm = fields.String(required=True, metadata={"enum": ["DAP", "DDP"]})
    date = fields.Date(required=True)
    locale = fields.String(required=True, dump_default=current_locale)
    shipping_known = fields.Boolean(
        required=True,
        metadata={
            "description": "False: no shipping rates are known yet and shipping is counted as zero"
        },
    )
    shipping_note = fields.String(allow_none=True, required=True)
    shipments = fields.List(
        fields.Nested(ShipmentQuoteSchema),
        required=True,
        metadata={"description": "One per seller: each parcel crosses the border on its own"},
    )
    totals = fields.Nested(
        BasketTotalsSchema,
        required=True,
        metadata={"description": "Sums of the shipments, in the requested currency"},
    )


@blp.route("/landed-cost", methods=["GET"])
@blp.arguments(LandedCostQuerySchema, location="query")
@blp.response(200, BasketQuoteSchema)
@blp.alt_response(404, "NOT_FOUND", description="`listing_not_found`")
@raises(
    (NotFound, "listing_not_found"),
    ListingUnavailable,
    RatesUnavailable,
    NoCustomsRule,
    (Invalid, "not_shipped_to"),
    (Invalid, "hs_code_invalid"),
)
def landed_cost(query: dict[str, Any]) -> BasketQuote:
    """Duties and import taxes for listings shipped to a country, with the rules and thresholds applied.

    One estimate per seller's shipment (thresholds apply per parcel), each with its rule's
    `source` and `checked_on`, explanation lines in the response locale, and amounts in the
    destination's and the requested currency. A destination or date without a known rule is a
    422 `no_customs_rule` (never a guessed zero); unknown listings are a 404 `listing_not_found`;
    listings that do not ship there a 422 `not_shipped_to`; no loaded exchange rates a 409
    `rates_unavailable`. The basket is priced as its order would be: goods converted per unit,
    shipping from the sellers' price lists; a seller with no rate to the destination is counted
    as shipping for nothing (`shipping_known: false`).
    """
    session = context.db()
    return pricing.quote(
        session,
        destination=query["to"],
        lines=query["lines"],
        incoterm=query["incoterm"],
        on=query["date"] or utcnow().date(),
        rates=money.current_table(session),
        currency=query["currency"],
    )
