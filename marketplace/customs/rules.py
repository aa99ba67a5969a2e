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
    """What a threshold is compared with.

    `goods`: the goods alone (intrinsic value). `customs_value`: the taxable value, after any
    personal-use valuation, with transport under CIF. `goods_shipping_insurance`: what the buyer
    pays for goods, shipping and insurance, whatever the customs value basis (China's "duty-paid
    price", Saudi Arabia's "including shipping").
    """

    GOODS = "goods"
    CUSTOMS_VALUE = "customs_value"
    GOODS_SHIPPING_INSURANCE = "goods_shipping_insurance"


class AllowancePeriod(StrEnum):
    """Over what a personal allowance is counted: each consignment alone, or per recipient and
    calendar month or quarter (earlier parcels of the period use it up)."""

    CONSIGNMENT = "consignment"
    CALENDAR_MONTH = "calendar_month"
    CALENDAR_QUARTER = "calendar_quarter"

    def bounds(self, on: dt.date) -> tuple[dt.date, dt.date] | None:
        """The first and last day of the period that contains `on` (None: per consignment)."""
        if self is AllowancePeriod.CONSIGNMENT:
            return None
        months = 1 if self is AllowancePeriod.CALENDAR_MONTH else 3
        first_month = (on.month - 1) // months * months + 1
        start = dt.date(on.year, first_month, 1)
        following = first_month + months
        end = (
            dt.date(on.year + 1, 1, 1) if following > 12 else dt.date(on.year, following, 1)
        ) - dt.timedelta(days=1)
        return start, end


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
class AdditionalDuty:
    """A duty on top of the tariff rate for goods of some origins (US Section 301, IEEPA, 122...).

    Dated on its own: it applies on the days from `valid_from` to `valid_to` inside the rule's
    period. `origins` may be ["*"] (every origin but `excluded_origins`); `hs_prefixes` empty
    means every good (but `excluded_hs_prefixes`). `certain` false: its state on those days
    could not be confirmed, and the estimate says so while still charging it.
    """

    name: str
    legal_basis: str
    rate: Decimal
    origins: Sequence[str]
    valid_from: dt.date
    valid_to: dt.date | None
    source: str
    checked_on: dt.date
    notes: str
    excluded_origins: Sequence[str] = ()
    hs_prefixes: Sequence[str] = ()
    excluded_hs_prefixes: Sequence[str] = ()
    certain: bool = True

    def applies(self, origin: str, hs_code: str, on: dt.date) -> bool:
        if on < self.valid_from or (self.valid_to is not None and on > self.valid_to):
            return False
        if origin in self.excluded_origins or not ("*" in self.origins or origin in self.origins):
            return False
        if any(hs_code.startswith(prefix) for prefix in self.excluded_hs_prefixes):
            return False
        return not self.hs_prefixes or any(hs_code.startswith(p) for p in self.hs_prefixes)


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
    thresholds_inclusive: bool = True
    min_duty_per_kg: Money | None = None
    allowance_period: AllowancePeriod = AllowancePeriod.CONSIGNMENT
    personal_use_value_factor: Decimal | None = None
    duty_de_minimis_excluded_hs: Sequence[str] = ()
    additional_duties: Sequence[AdditionalDuty] = ()

    def duty_rate(self, hs_code: str) -> Decimal:
        """The chapter's override, else the default rate (percent)."""
        return self.duty_rates_by_chapter.get(hs_code[:2], self.default_duty_rate)

    def within(self, value: Money, threshold: Money) -> bool:
        """Whether `value` is inside a threshold in the same currency: "up to" or "less than"."""
        return value <= threshold if self.thresholds_inclusive else value < threshold


# Schemas: the one definition of a rule record, shared by the data files, the database body and
# the operators' API (which documents them in OpenAPI).

_COUNTRY = validate.Regexp(r"^[A-Z]{2}$", error=N_("Not a valid country code."))


def _decimal(
    low: Decimal, high: Decimal | None, example: str, description: str | None = None, **kwargs: Any
) -> fields.Decimal:
    """A decimal string in [low, high]; documented as a string, which is what travels."""

    def check(value: Decimal) -> None:
        if not value.is_finite() or value < low or (high is not None and value > high):
            raise ma.ValidationError(N_("Invalid value."))

    metadata: dict[str, Any] = {
        "type": "string",
        "pattern": r"^[0-9]+(\.[0-9]+)?$",
        "example": example,
    }
    if description is not None:
        metadata["description"] = description
    return fields.Decimal(as_string=True, validate=check, metadata=metadata, **kwargs)


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


_HS_PREFIX = validate.Regexp(r"^\d{2,10}$", error=N_("Invalid value."))


class AdditionalDutySchema(_Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    legal_basis = fields.String(required=True, validate=validate.Length(min=1, max=300))
    rate = _percent(required=True)
    origins = fields.List(
        fields.String(validate=validate.Regexp(r"^([A-Z]{2}|\*)$")),
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": 'Countries of origin, or ["*"] for every origin'},
    )
    excluded_origins = fields.List(fields.String(validate=_COUNTRY), load_default=list)
    hs_prefixes = fields.List(
        fields.String(validate=_HS_PREFIX),
        load_default=list,
        metadata={"description": "HS chapters or headings it covers; empty: every good"},
    )
    excluded_hs_prefixes = fields.List(fields.String(validate=_HS_PREFIX), load_default=list)
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(required=True, allow_none=True)
    source = fields.Url(required=True, validate=validate.Length(max=500))
    checked_on = fields.Date(required=True)
    notes = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    certain = fields.Boolean(
        load_default=True,
        metadata={"description": "False: its state on these days could not be confirmed"},
    )

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> AdditionalDuty:
        return AdditionalDuty(**data)


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
    thresholds_inclusive = fields.Boolean(
        load_default=True,
        metadata={"description": 'True: thresholds are "up to" (<=); false: "less than" (<)'},
    )
    min_duty_per_kg = fields.Nested(
        RuleMoneySchema,
        load_default=None,
        allow_none=True,
        metadata={"description": "Above the duty threshold, at least this much per kg of parcel"},
    )
    allowance_period = fields.Enum(
        AllowancePeriod,
        by_value=True,
        load_default=AllowancePeriod.CONSIGNMENT,
        metadata={"description": "Over what a personal allowance is counted, per recipient"},
    )
    personal_use_value_factor = _decimal(
        Decimal(0),
        Decimal(1),
        "0.6",
        load_default=None,
        allow_none=True,
        description="Share of the retail price taken as the goods' customs value",
    )
    duty_de_minimis_excluded_hs = fields.List(
        fields.String(validate=_HS_PREFIX),
        load_default=list,
        metadata={"description": "HS chapters or headings the duty/tax exemption never covers"},
    )
    additional_duties = fields.List(fields.Nested(AdditionalDutySchema), load_default=list)

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
