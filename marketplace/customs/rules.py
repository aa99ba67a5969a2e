"""Destination rules as types: import taxes, thresholds and duty regimes, each valid for a period.

The shipped records live in data/rules/*.json (one file per country or customs union, see
data/rules/SOURCE.md). This module says what a record is (the `Rule` dataclasses and the one
schema that validates data files, stored bodies and operators' edits); `rule_records` stores them,
finds the one in force and lets operators edit them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

import marshmallow as ma
from marshmallow import fields, post_load, validate, validates_schema

from marketplace.i18n import N_
from marketplace.money import Money, is_known

DATA_DIR = Path(__file__).resolve().parent / "data" / "rules"


class ValueBasis(StrEnum):
    """What the customs value includes: CIF adds transport to the border, FOB does not."""

    CIF = "CIF"
    FOB = "FOB"


class ThresholdBasis(StrEnum):
    """What a threshold is compared with: the goods alone or the customs value."""

    GOODS = "goods"
    CUSTOMS_VALUE = "customs_value"


class FlatDutyUnit(StrEnum):
    SUBHEADING = "subheading"
    ITEM = "item"
    LINE = "line"


@dataclass(frozen=True)
class CountryTax:
    currency: str
    vat_rate: Decimal


@dataclass(frozen=True)
class SaleRegime:
    """Tax collected by the seller or platform at the sale (EU IOSS, UK, Australian GST, ...)."""

    name: str
    threshold: Money
    duty_rate: Decimal | None
    tax_rate_factor: Decimal


@dataclass(frozen=True)
class SingleRate:
    """A flat rate on the whole value that replaces duty and taxes below a threshold."""

    name: str
    threshold: Money
    rate: Decimal
    origin_rates: Mapping[str, Decimal]


@dataclass(frozen=True)
class FlatDuty:
    """A fixed duty per distinct subheading, item or line, for consignments up to max_value."""

    amount: Money
    per: FlatDutyUnit
    max_value: Money | None


@dataclass(frozen=True)
class Rule:
    destination: str
    name: str
    valid_from: dt.date
    valid_to: dt.date | None
    source: str
    checked_on: dt.date
    notes: str
    countries: Mapping[str, CountryTax]
    customs_value_basis: ValueBasis
    threshold_basis: ThresholdBasis
    duty_de_minimis: Money | None
    duty_de_minimis_excluded_origins: Sequence[str]
    duty_on_excess_only: bool
    weight_allowance_grams: int | None
    min_duty_per_excess_kg: Money | None
    tax_de_minimis: Money | None
    taxes_included_in_duty: bool
    collected_at_sale: SaleRegime | None
    single_rate: SingleRate | None
    flat_duty: FlatDuty | None
    default_duty_rate: Decimal
    duty_rates_by_chapter: Mapping[str, Decimal] = field(default_factory=dict)
    tax_base_includes_shipping: bool = True

    def duty_rate(self, hs_code: str) -> Decimal:
        """The chapter's override, else the default rate (percent)."""
        return self.duty_rates_by_chapter.get(hs_code[:2], self.default_duty_rate)


# Schemas: the one definition of a rule record, shared by the data files, the database body and
# the operators' API (which documents them in OpenAPI).

_COUNTRY = validate.Regexp(r"^[A-Z]{2}$", error=N_("Not a valid country code."))


def _decimal(low: Decimal, high: Decimal | None, example: str, **kwargs: Any) -> fields.Decimal:
    """A decimal string in [low, high]; documented as a string, which is what travels."""

    def check(value: Decimal) -> None:
        if not value.is_finite() or value < low or (high is not None and value > high):
            raise ma.ValidationError(N_("Invalid value."))

    return fields.Decimal(
        as_string=True,
        validate=check,
        metadata={"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$", "example": example},
        **kwargs,
    )


def _percent(**kwargs: Any) -> fields.Decimal:
    return _decimal(Decimal(0), Decimal(1000), "19", **kwargs)


def _known_currency(value: str) -> None:
    if not is_known(value):
        raise ma.ValidationError(N_("Not a valid currency code."))


class _Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE
        ordered = True


class RuleMoneySchema(_Strict):
    amount = _decimal(Decimal(0), None, "150", required=True)
    currency = fields.String(required=True, validate=_known_currency, metadata={"example": "EUR"})

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Money:
        return Money(data["amount"], data["currency"])


class CountryTaxSchema(_Strict):
    currency = fields.String(required=True, validate=_known_currency)
    vat_rate = _percent(required=True)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> CountryTax:
        return CountryTax(**data)


class SaleRegimeSchema(_Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    threshold = fields.Nested(RuleMoneySchema, required=True)
    duty_rate = _percent(required=True, allow_none=True)
    tax_rate_factor = _decimal(Decimal(0), Decimal(1), "0.7", required=True)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> SaleRegime:
        return SaleRegime(**data)


class SingleRateSchema(_Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    threshold = fields.Nested(RuleMoneySchema, required=True)
    rate = _percent(required=True)
    origin_rates = fields.Dict(
        keys=fields.String(validate=_COUNTRY), values=_percent(), required=True
    )

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> SingleRate:
        return SingleRate(**data)


class FlatDutySchema(_Strict):
    amount = fields.Nested(RuleMoneySchema, required=True)
    per = fields.Enum(FlatDutyUnit, by_value=True, required=True)
    max_value = fields.Nested(RuleMoneySchema, required=True, allow_none=True)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> FlatDuty:
        return FlatDuty(**data)


def _nullable(schema: type[ma.Schema]) -> fields.Nested:
    return fields.Nested(schema, required=True, allow_none=True)


class RuleSchema(_Strict):
    """A rule record as written in the data files, stored in the database and edited by operators."""

    destination = fields.String(
        required=True,
        validate=validate.Regexp(r"^[A-Z0-9]{2,8}$"),
        metadata={
            "description": "Country or customs union code (EU, EAEU, GB, ...)",
            "example": "EU",
        },
    )
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(
        required=True,
        allow_none=True,
        metadata={"description": "Last day in force; null: open-ended"},
    )
    source = fields.Url(
        required=True,
        validate=validate.Length(max=500),
        metadata={"description": "The official source of the figures"},
    )
    checked_on = fields.Date(
        required=True,
        metadata={"description": "When the figures were last checked against the source"},
    )
    notes = fields.String(load_default="", validate=validate.Length(max=4000))
    countries = fields.Dict(
        keys=fields.String(validate=_COUNTRY),
        values=fields.Nested(CountryTaxSchema),
        required=True,
        validate=validate.Length(min=1),
        metadata={
            "description": "Each covered country's currency and import VAT/GST rate (percent)"
        },
    )
    customs_value_basis = fields.Enum(ValueBasis, by_value=True, required=True)
    threshold_basis = fields.Enum(ThresholdBasis, by_value=True, required=True)
    duty_de_minimis = _nullable(RuleMoneySchema)
    duty_de_minimis_excluded_origins = fields.List(fields.String(validate=_COUNTRY), required=True)
    duty_on_excess_only = fields.Boolean(
        required=True,
        metadata={
            "description": "Duty on the value above the de minimis only (a personal allowance)"
        },
    )
    weight_allowance_grams = fields.Integer(
        required=True, allow_none=True, validate=validate.Range(min=1)
    )
    min_duty_per_excess_kg = _nullable(RuleMoneySchema)
    tax_de_minimis = _nullable(RuleMoneySchema)
    taxes_included_in_duty = fields.Boolean(
        required=True,
        metadata={"description": "The duty is a single payment that replaces import taxes"},
    )
    collected_at_sale = _nullable(SaleRegimeSchema)
    single_rate = _nullable(SingleRateSchema)
    flat_duty = _nullable(FlatDutySchema)
    default_duty_rate = _percent(required=True)
    duty_rates_by_chapter = fields.Dict(
        keys=fields.String(validate=validate.Regexp(r"^\d{2}$")), values=_percent(), required=True
    )
    tax_base_includes_shipping = fields.Boolean(required=True)

    @validates_schema
    def _period(self, data: dict[str, Any], **_: Any) -> None:
        if (
            data.get("valid_to")
            and data.get("valid_from")
            and data["valid_to"] < data["valid_from"]
        ):
            raise ma.ValidationError(N_("The end of validity is before its start."), "valid_to")

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Rule:
        return Rule(**data)


def parse(body: Mapping[str, Any]) -> Rule:
    """A stored or shipped record as a Rule; raises marshmallow.ValidationError when malformed."""
    rule: Rule = RuleSchema().load(body)
    return rule


def serialize(rule: Rule) -> dict[str, Any]:
    data: dict[str, Any] = RuleSchema().dump(rule)
    return data


def shipped_records() -> list[Rule]:
    """Every record of the data files, validated."""
    records = []
    for path in sorted(DATA_DIR.glob("*.json")):
        with path.open(encoding="utf-8") as handle:
            for index, body in enumerate(json.load(handle)):
                try:
                    records.append(parse(body))
                except ma.ValidationError as exc:
                    raise ValueError(f"{path.name} record {index}: {exc.messages}") from exc
    return records
