"""Customs: HS code lookup, destination rules (operators), landed-cost estimates."""

from __future__ import annotations

import dataclasses
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from marketplace.api import context
from marketplace.api.money_fields import MoneyOutputSchema
from marketplace.api.schemas import Country, LocaleTag, StrictSchema
from marketplace.customs import hs, rules
from marketplace.customs.landed_cost import LandedCostEstimate
from marketplace.customs.models import CustomsRule
from marketplace.i18n import current_locale

blp = Blueprint("customs", __name__, description="HS codes, destination rules and landed cost")


class HsCodeQuerySchema(StrictSchema):
    locale = LocaleTag(load_default=None)


class HsCodeSchema(StrictSchema):
    code = fields.String(required=True, metadata={"description": "The code as normalized: digits only, never padded", "example": "09021000"})
    valid = fields.Boolean(required=True, metadata={"description": "Whether the first six digits are an HS 2022 subheading"})
    level = fields.Integer(allow_none=True, required=True, metadata={"description": "Digits given (6-10) when valid, else null"})
    description = fields.String(allow_none=True, required=True, metadata={"description": "The subheading's description (HS 2022); null when not valid"})
    description_locale = fields.String(required=True, metadata={"description": "The language of `description`: always `en`, the nomenclature is shipped in English only", "example": "en"})
    edition = fields.String(required=True, metadata={"example": "HS2022"})


@blp.route("/hs-codes/<code>", methods=["GET"])
@blp.arguments(HsCodeQuerySchema, location="query")
@blp.response(200, HsCodeSchema)
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
    id = fields.String(required=True, dump_only=True)
    edited_by = fields.String(
        allow_none=True, dump_only=True,
        metadata={"description": "The operator who last changed the record; null while it is as shipped in the data files"},
    )
    updated_at = fields.DateTime(dump_only=True)


class RuleListSchema(StrictSchema):
    items = fields.List(fields.Nested(RuleRecordSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True, metadata={"description": "Always null: every record fits one page"})


class RuleQuerySchema(StrictSchema):
    destination = fields.String(load_default=None, validate=validate.Regexp(r"^[A-Z0-9]{2,8}$"))
    country = Country(load_default=None)


def _record(row: CustomsRule) -> dict[str, Any]:
    return {**vars(rules.rule_for(row)), "id": row.id, "edited_by": row.edited_by, "updated_at": row.updated_at}


@blp.route("/customs/rules")
class Rules(MethodView):
    @context.user_required
    @blp.arguments(RuleQuerySchema, location="query")
    @blp.response(200, RuleListSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """List destination rule records (operators only), by destination and start date."""
        found = rules.list_rules(context.db(), context.require_user(), **query)
        return {"items": [_record(row) for row in found], "next_cursor": None}

    @context.user_required
    @blp.arguments(rules.RuleSchema)
    @blp.response(201, RuleRecordSchema)
    def post(self, rule: rules.Rule) -> dict[str, Any]:
        """Add a rule record, e.g. a new validity period after a change in the law (operators only).

        A record may not overlap another one covering the same country: end the current record
        first (PUT with `valid_to`), then add the new one. An overlap is a 409 `customs_rule_overlap`.
        """
        return _record(rules.create_rule(context.db(), context.require_user(), rule))


@blp.route("/customs/rules/<rule_id>")
class RuleRecord(MethodView):
    @context.user_required
    @blp.response(200, RuleRecordSchema)
    def get(self, rule_id: str) -> dict[str, Any]:
        """One rule record (operators only)."""
        return _record(rules.get_rule(context.db(), context.require_user(), rule_id))

    @context.user_required
    @blp.arguments(rules.RuleSchema)
    @blp.response(200, RuleRecordSchema)
    def put(self, rule: rules.Rule, rule_id: str) -> dict[str, Any]:
        """Replace a rule record (operators only).

        The whole record is sent, including `source` and `checked_on`. Once edited, the record
        belongs to the operators: `flask reference load` no longer overwrites it.
        """
        return _record(rules.replace_rule(context.db(), context.require_user(), rule_id, rule))


# Landed cost: the response shape, also for other resources that embed an estimate.


class AmountsSchema(StrictSchema):
    local = fields.Nested(MoneyOutputSchema(formatted=True), required=True, metadata={"description": "In the destination's currency"})
    requested = fields.Nested(MoneyOutputSchema(formatted=True), required=True, metadata={"description": "In the requested currency"})


class ThresholdSchema(StrictSchema):
    amount = fields.Nested(MoneyOutputSchema, required=True)
    applied = fields.Boolean(required=True, metadata={"description": "True when the parcel stayed at or below it and was relieved"})


class DeMinimisSchema(StrictSchema):
    duty = fields.Nested(ThresholdSchema, allow_none=True, required=True)
    tax = fields.Nested(ThresholdSchema, allow_none=True, required=True)


class AppliedRuleSchema(StrictSchema):
    id = fields.String(required=True)
    destination = fields.String(required=True, metadata={"example": "EU"})
    name = fields.String(required=True)
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(allow_none=True, required=True)
    source = fields.String(required=True, metadata={"description": "The official source of the rule"})
    checked_on = fields.Date(required=True)


class LineEstimateSchema(StrictSchema):
    hs_code = fields.String(required=True)
    origin_country = fields.String(required=True)
    quantity = fields.Integer(required=True)
    value = fields.Nested(MoneyOutputSchema, required=True)
    duty_rate = fields.Decimal(as_string=True, allow_none=True, required=True, metadata={"type": "string", "example": "12", "description": "Percent; null when no ad valorem duty applied"})
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
    locale = fields.String(required=True, metadata={"description": "The locale of the explanation texts"})
    rule = fields.Nested(AppliedRuleSchema, allow_none=True, required=True)
    goods = fields.Nested(AmountsSchema, required=True)
    shipping = fields.Nested(AmountsSchema, required=True)
    customs_value = fields.Nested(AmountsSchema, required=True)
    duties = fields.Nested(AmountsSchema, required=True)
    taxes = fields.Nested(AmountsSchema, required=True)
    duties_and_taxes = fields.Nested(AmountsSchema, required=True)
    payable_at_checkout = fields.Nested(AmountsSchema, required=True, metadata={"description": "DDP: duties and taxes; DAP: only taxes collected at sale"})
    due_on_delivery = fields.Nested(AmountsSchema, required=True, metadata={"description": "DAP: what the carrier collects on delivery"})
    landed_cost = fields.Nested(AmountsSchema, required=True, metadata={"description": "Goods, shipping, duties and taxes"})
    de_minimis = fields.Nested(DeMinimisSchema, required=True)
    collected_at_sale = fields.String(allow_none=True, required=True, metadata={"description": "The low-value regime under which tax is collected at checkout, if any"})
    lines = fields.List(fields.Nested(LineEstimateSchema), required=True)
    explanations = fields.List(fields.Nested(ExplanationSchema), required=True)
    fx = fields.Nested(FxSchema, required=True)


def landed_cost_to_api(estimate: LandedCostEstimate) -> dict[str, Any]:
    """What LandedCostSchema dumps, with explanations rendered in the request's locale."""
    data = {field.name: getattr(estimate, field.name) for field in dataclasses.fields(estimate)}
    data["incoterm"] = estimate.incoterm.value
    data["locale"] = current_locale()
    data["de_minimis"] = {"duty": estimate.duty_de_minimis, "tax": estimate.tax_de_minimis}
    data["explanations"] = [{"code": note.code, "text": str(note.text)} for note in estimate.explanations]
    return data
