"""Landed cost: the duties and import taxes a parcel will pay, and why, before the buyer pays.

Pure domain code: a shipment and a rate table in, an estimate out, in the destination's currency
and in the currency the buyer asked for. The rule in force on the day is chosen from the
database (`customs.rules`); every step that changes the amount adds an explanation line the buyer
can read, and the rule's source and checked date travel with the estimate.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from babel.support import LazyProxy
from sqlalchemy.orm import Session

from marketplace.customs import hs
from marketplace.customs.rule_records import RuleFinder, rule_in_force
from marketplace.customs.rules import (
    AdditionalDuty,
    AllowancePeriod,
    FlatDuty,
    FlatDutyUnit,
    Rule,
    SaleRegime,
    SingleRate,
    ThresholdBasis,
    ValueBasis,
)
from marketplace.errors import Invalid
from marketplace.i18n import _, current_locale, parse_tag, use_locale
from marketplace.money import Money, RateTable, is_known

HUNDRED = Decimal(100)


class Incoterm(StrEnum):
    """DDP: the buyer pays duties and taxes at checkout; DAP: they are due on delivery."""

    DAP = "DAP"
    DDP = "DDP"


@dataclass(frozen=True)
class ShipmentLine:
    hs_code: str
    origin_country: str
    unit_value: Money
    quantity: int
    unit_weight_grams: int


@dataclass(frozen=True)
class LandedCostInput:
    """One parcel: lines, the shipping charged, where it goes, on which day, under which incoterm.

    `ship_from` is the seller's country; a parcel that does not leave the customs territory pays
    no import charges. `allowance_used` is what the recipient's earlier paid orders to this
    destination already used of a per-period allowance (see `allowance_period`); None when the
    caller does not know the recipient (a quote), which the explanation then says.
    """

    destination: str
    date: dt.date
    incoterm: Incoterm
    lines: Sequence[ShipmentLine]
    shipping: Money
    currency: str
    ship_from: str | None = None
    insurance: Money | None = None
    allowance_used: Money | None = None


@dataclass(frozen=True)
class Amounts:
    """One amount in the destination's currency and in the requested one."""

    local: Money
    requested: Money


@dataclass(frozen=True)
class Explanation:
    code: str
    text: Any  # a lazy gettext message: rendered in the locale current when it is shown


@dataclass(frozen=True)
class LineEstimate:
    hs_code: str
    origin_country: str
    quantity: int
    value: Money
    duty_rate: Decimal | None
    duty: Money


@dataclass(frozen=True)
class Threshold:
    amount: Money
    applied: bool


@dataclass(frozen=True)
class DeMinimis:
    """The parcel's duty and tax thresholds, where the destination has them."""

    duty: Threshold | None
    tax: Threshold | None

    @property
    def relieved(self) -> bool:
        """A threshold relieved this parcel."""
        return any(t is not None and t.applied for t in (self.duty, self.tax))


@dataclass(frozen=True)
class AppliedRule:
    id: str
    destination: str
    name: str
    valid_from: dt.date
    valid_to: dt.date | None
    source: str
    checked_on: dt.date


@dataclass(frozen=True)
class FxUsed:
    base: str
    as_of: dt.date
    source: str


@dataclass(frozen=True)
class LandedCost:
    """What one parcel costs delivered, and why: the engine's estimate, shown by a quote and a
    cart and kept (its charges and `record()`) by an order's shipment."""

    destination: str
    date: dt.date
    incoterm: Incoterm
    currency: str
    requested_currency: str
    rule: AppliedRule | None
    goods: Amounts
    shipping: Amounts
    customs_value: Amounts
    duties: Amounts
    taxes: Amounts
    duties_and_taxes: Amounts
    payable_at_checkout: Amounts
    due_on_delivery: Amounts
    landed_cost: Amounts
    de_minimis: DeMinimis
    collected_at_sale: str | None
    lines: tuple[LineEstimate, ...]
    explanations: tuple[Explanation, ...]
    fx: FxUsed
    # Set when a per-period allowance applied and `allowance_used` was not given: the first and
    # last day whose earlier orders a caller who knows the recipient should count.
    allowance_window: tuple[dt.date, dt.date] | None = None

    @property
    def collected(self) -> Money:
        """The duties and taxes the buyer pays at checkout, in the requested currency: all of them
        under DDP; under DAP what the destination collects at sale. Converted on its own, the
        checkout part could exceed the sum by a minor unit, so it is bounded by it."""
        charges = self.duties.requested + self.taxes.requested
        if self.incoterm is Incoterm.DDP:
            return charges
        return min(self.payable_at_checkout.requested, charges)

    def record(self) -> dict[str, Any]:
        """What the engine applied, as an order's shipment keeps it (explanations in English)."""
        with use_locale("en"):
            return {
                "rule": None
                if self.rule is None
                else {
                    "id": self.rule.id,
                    "name": self.rule.name,
                    "source": self.rule.source,
                    "valid_from": self.rule.valid_from.isoformat(),
                    "checked_on": self.rule.checked_on.isoformat(),
                },
                "local_currency": self.currency,
                "duties_local": self.duties.local.to_api(),
                "taxes_local": self.taxes.local.to_api(),
                "collected_at_sale": self.collected_at_sale,
                "explanations": [
                    {"code": note.code, "text": str(note.text)} for note in self.explanations
                ],
            }


def estimate_landed_cost(
    session: Session,
    shipment: LandedCostInput,
    rates: RateTable,
    *,
    rules: RuleFinder = rule_in_force,
) -> LandedCost:
    """Validate the shipment, find the destination's rule in force that day and estimate.

    `rules` finds the record (a `RulesInForce` lets an order's parcels read it once)."""
    shipment = dataclasses.replace(shipment, lines=_validated_lines(session, shipment))
    if shipment.ship_from == shipment.destination:
        return _domestic(shipment, rates, None)
    found = rules(session, shipment.destination, shipment.date)
    rule = found.rule
    applied = AppliedRule(
        id=found.id,
        destination=rule.destination,
        name=rule.name,
        valid_from=rule.valid_from,
        valid_to=rule.valid_to,
        source=rule.source,
        checked_on=rule.checked_on,
    )
    if shipment.ship_from in rule.countries:
        return _domestic(shipment, rates, applied)
    return estimate(rule, applied, shipment, rates)


def _validated_lines(session: Session, shipment: LandedCostInput) -> list[ShipmentLine]:
    errors: dict[str, list[Any]] = {}
    if not shipment.lines:
        errors["lines"] = [_("A shipment needs at least one line.")]
    if not is_known(shipment.currency):
        errors["currency"] = [_("Not a valid currency code.")]
    if shipment.shipping.is_negative():
        errors["shipping"] = [_("Must not be negative.")]
    lines = []
    known = hs.subheadings_in(session, [line.hs_code for line in shipment.lines])
    for index, line in enumerate(shipment.lines):
        try:
            code = hs.validate(session, line.hs_code, known)
        except hs.HsCodeInvalid as exc:
            errors[f"lines.{index}.hs_code"] = list(exc.errors.get("hs_code", [exc.detail]))
            code = line.hs_code
        if line.quantity < 1:
            errors[f"lines.{index}.quantity"] = [_("Must be at least 1.")]
        if line.unit_value.is_negative():
            errors[f"lines.{index}.unit_value"] = [_("Must not be negative.")]
        if line.unit_weight_grams < 0:
            errors[f"lines.{index}.unit_weight_grams"] = [_("Must not be negative.")]
        lines.append(
            ShipmentLine(
                code, line.origin_country, line.unit_value, line.quantity, line.unit_weight_grams
            )
        )
    if errors:
        bad_code = any(key.endswith("hs_code") for key in errors)
        raise Invalid(errors=errors, code="hs_code_invalid" if bad_code else None)
    return lines


def _territory_name(codes: tuple[str, ...], fallback: str) -> str:
    """The first of `codes` CLDR names in the reader's locale, else the rule's English name."""
    locale = parse_tag(current_locale())
    for code in codes:
        name = locale.territories.get(code) if locale is not None else None
        if name:
            return str(name)
    return fallback


def _place(*codes: str, fallback: str) -> LazyProxy:
    """Rendered when the explanation is shown, so the name follows the reader's locale.

    A union CLDR does not name (EAEU) falls back to the destination country.
    """
    return LazyProxy(_territory_name, codes, fallback, enable_cache=False)


def _fmt(money: Money) -> str:
    return f"{money.quantize().amount} {money.currency}"


def _pct(rate: Decimal) -> str:
    return format(rate.normalize(), "f")


class _Builder:
    """Collects amounts in the destination currency and the explanation lines."""

    def __init__(self, rates: RateTable, local: str, requested: str) -> None:
        self.rates = rates
        self.local = local
        self.requested = requested
        self.notes: list[Explanation] = []
        self.allowance_window: tuple[dt.date, dt.date] | None = None

    def to_local(self, money: Money) -> Money:
        return self.rates.convert(money, self.local)

    def both(self, money: Money) -> Amounts:
        return Amounts(money.quantize(), self.rates.convert(money, self.requested))

    def threshold_text(self, threshold: Money) -> str:
        if threshold.currency == self.local:
            return _fmt(threshold)
        return f"{_fmt(threshold)} (≈ {_fmt(self.to_local(threshold))})"

    def note(self, code: str, text: Any) -> None:
        self.notes.append(Explanation(code, text))


def _domestic(
    shipment: LandedCostInput, rates: RateTable, applied: AppliedRule | None
) -> LandedCost:
    """No border is crossed: no duties or import taxes."""
    local = shipment.currency
    builder = _Builder(rates, local, shipment.currency)
    goods = Money.total(
        (builder.to_local(line.unit_value * line.quantity) for line in shipment.lines), local
    )
    shipping = builder.to_local(shipment.shipping)
    zero = Money.zero(local)
    builder.note(
        "domestic", _("The parcel does not leave the customs territory: no duties or import taxes.")
    )
    return _assemble(
        builder, shipment, applied, goods, shipping, goods, zero, zero, zero, None, None, None, []
    )


@dataclass
class _Parcel:
    """One parcel seen through one rule: its values in the destination currency, and the notes."""

    rule: Rule
    shipment: LandedCostInput
    b: _Builder
    values: list[Money]
    goods: Money
    shipping: Money
    customs_value: Money
    compared: Money
    weight_grams: int
    cif: bool
    transport: Money
    factor: Decimal

    @property
    def local(self) -> str:
        return self.b.local

    def line_value(self, index: int) -> Money:
        """A line's customs value: its goods (at the personal-use share of the price, if any)
        plus, under CIF, its share of the transport (shipping and insurance)."""
        goods = self.values[index] * self.factor
        if not self.cif or self.goods.is_zero():
            return goods
        return goods + self.transport * (self.values[index].amount / self.goods.amount)

    def within(self, threshold: Money) -> bool:
        """Whether the compared value is inside a threshold, "up to" or "less than" per rule."""
        return self.rule.within(self.compared, self.b.to_local(threshold))

    def excluded_lines(self) -> tuple[int, ...]:
        """Lines whose goods the duty/tax exemption never covers (by HS chapter or heading)."""
        prefixes = self.rule.duty_de_minimis_excluded_hs
        return tuple(
            index
            for index, line in enumerate(self.shipment.lines)
            if any(line.hs_code.startswith(prefix) for prefix in prefixes)
        )


@dataclass
class _Duty:
    """What a duty regime decided: each line's rate and duty, a parcel-level duty, the threshold."""

    lines: list[tuple[Decimal | None, Money]]
    extra: Money
    threshold: Threshold | None = None
    taxes_included: bool = False
    # Below the threshold, the lines the exemption does not cover: they alone pay import tax.
    taxed_lines: tuple[int, ...] = ()

    def total(self, currency: str) -> Money:
        return Money.total((duty for _rate, duty in self.lines), currency) + self.extra


def _no_duty(p: _Parcel) -> _Duty:
    return _Duty([(None, Money.zero(p.local)) for _line in p.shipment.lines], Money.zero(p.local))


def _ad_valorem(
    p: _Parcel,
    duty: _Duty,
    rate_of: Callable[[ShipmentLine], Decimal],
    only: Sequence[int] | None = None,
    *,
    tariff: bool = True,
) -> _Duty:
    """Each line's rate on its customs value, one explanation line per line.

    `tariff`: the rate is the tariff's (MFN), so the rule's additional duties by origin are
    charged on top, each with its legal basis; a single rate or a sale regime's rate is not.
    """
    for index, line in enumerate(p.shipment.lines):
        if only is not None and index not in only:
            continue
        rate = rate_of(line)
        base = p.line_value(index)
        amount = (base * (rate / HUNDRED)).quantize()
        p.b.note(
            "duty_line",
            _(
                "HS %(code)s: duty %(rate)s%% of %(value)s = %(duty)s.",
                code=line.hs_code,
                rate=_pct(rate),
                value=_fmt(base),
                duty=_fmt(amount),
            ),
        )
        if tariff:
            for extra in p.rule.additional_duties:
                if not extra.applies(line.origin_country, line.hs_code, p.shipment.date):
                    continue
                added = (base * (extra.rate / HUNDRED)).quantize()
                rate, amount = rate + extra.rate, amount + added
                _note_additional(p, line, extra, base, added)
        duty.lines[index] = (rate, amount)
    return duty


def _note_additional(
    p: _Parcel, line: ShipmentLine, extra: AdditionalDuty, base: Money, added: Money
) -> None:
    p.b.note(
        "additional_duty",
        _(
            "HS %(code)s from %(origin)s: %(name)s (%(basis)s), additional %(rate)s%% of %(value)s = %(duty)s.",
            code=line.hs_code,
            origin=line.origin_country,
            name=extra.name,
            basis=extra.legal_basis,
            rate=_pct(extra.rate),
            value=_fmt(base),
            duty=_fmt(added),
        ),
    )
    if not extra.certain:
        p.b.note(
            "additional_duty_uncertain",
            _(
                "Whether %(name)s applies on this date, and at what rate, could not be confirmed: it is included so that the estimate is not too low.",
                name=extra.name,
            ),
        )


def _single_rate_duty(p: _Parcel, single: SingleRate) -> _Duty:
    """A flat rate on the whole value that replaces duty and import taxes."""
    p.b.note(
        "single_rate",
        _(
            "Value %(value)s is at or below %(threshold)s: the %(regime)s applies instead of duty and import taxes.",
            value=_fmt(p.compared),
            threshold=p.b.threshold_text(single.threshold),
            regime=single.name,
        ),
    )
    duty = _ad_valorem(
        p,
        _no_duty(p),
        lambda line: single.origin_rates.get(line.origin_country, single.rate),
        tariff=False,
    )
    duty.taxes_included = True
    return duty


def _flat_duty(p: _Parcel, flat: FlatDuty) -> _Duty:
    """A fixed amount per distinct subheading, item or line."""
    lines = p.shipment.lines
    count = {
        FlatDutyUnit.SUBHEADING: len({line.hs_code[:6] for line in lines}),
        FlatDutyUnit.ITEM: sum(line.quantity for line in lines),
        FlatDutyUnit.LINE: len(lines),
    }[flat.per]
    duty = _no_duty(p)
    duty.extra = p.b.to_local(flat.amount * count)
    limit = p.b.threshold_text(flat.max_value) if flat.max_value else ""
    values = {
        "amount": _fmt(flat.amount),
        "threshold": limit,
        "count": count,
        "duty": _fmt(duty.extra),
    }
    texts = {
        FlatDutyUnit.SUBHEADING: _(
            "Flat duty for parcels up to %(threshold)s: %(count)s distinct tariff subheading(s) × %(amount)s = %(duty)s.",
            **values,
        ),
        FlatDutyUnit.ITEM: _(
            "Flat duty for parcels up to %(threshold)s: %(count)s item(s) × %(amount)s = %(duty)s.",
            **values,
        ),
        FlatDutyUnit.LINE: _(
            "Flat duty for parcels up to %(threshold)s: %(count)s line(s) × %(amount)s = %(duty)s.",
            **values,
        ),
    }
    p.b.note("flat_duty", texts[flat.per])
    return duty


def _excluded_origin_duty(p: _Parcel, threshold: Money, excluded: list[str]) -> _Duty:
    """The duty threshold does not apply to goods of some origins: full duty."""
    p.b.note(
        "duty_de_minimis_excluded",
        _(
            "The duty threshold of %(threshold)s does not apply to goods from %(origins)s: duty is due.",
            threshold=p.b.threshold_text(threshold),
            origins=", ".join(excluded),
        ),
    )
    duty = _ad_valorem(p, _no_duty(p), lambda line: p.rule.duty_rate(line.hs_code))
    duty.threshold = Threshold(threshold, applied=False)
    return duty


def _allowance_left(p: _Parcel, threshold: Money) -> Money:
    """What is left of a per-period allowance after the recipient's earlier paid orders."""
    b, period = p.b, p.rule.allowance_period
    threshold_local = b.to_local(threshold)
    if period is AllowancePeriod.CONSIGNMENT:
        return threshold_local
    used = p.shipment.allowance_used
    if used is None:
        b.allowance_window = period.bounds(p.shipment.date)
        b.note(
            "allowance_period_unknown",
            _(
                "The allowance of %(threshold)s is per recipient and period; the recipient's earlier orders are not known here, so none are counted.",
                threshold=b.threshold_text(threshold),
            ),
        )
        return threshold_local
    used_local = b.to_local(used)
    left = threshold_local - used_local if used_local < threshold_local else Money.zero(p.local)
    texts = {
        AllowancePeriod.CALENDAR_MONTH: _(
            "This recipient's earlier parcels this calendar month (paid orders, and this order's other parcels) used %(used)s of the monthly allowance of %(threshold)s: %(left)s is left.",
            used=_fmt(used_local),
            threshold=b.threshold_text(threshold),
            left=_fmt(left),
        ),
        AllowancePeriod.CALENDAR_QUARTER: _(
            "This recipient's earlier parcels this calendar quarter (paid orders, and this order's other parcels) used %(used)s of the quarterly allowance of %(threshold)s: %(left)s is left.",
            used=_fmt(used_local),
            threshold=b.threshold_text(threshold),
            left=_fmt(left),
        ),
    }
    b.note("allowance_used", texts[period])
    return left


def _allowance_duty(p: _Parcel, threshold: Money) -> _Duty:
    """A personal allowance: duty only on the value (and weight) above what is left of it."""
    rule, b = p.rule, p.b
    left = _allowance_left(p, threshold)
    excess = p.compared - left if p.compared > left else Money.zero(p.local)
    allowance = rule.weight_allowance_grams
    over_grams = max(0, p.weight_grams - allowance) if allowance else 0
    duty = _no_duty(p)
    duty.threshold = Threshold(threshold, applied=excess.is_zero() and over_grams == 0)
    if duty.threshold.applied:
        b.note(
            "allowance_within",
            _(
                "Value %(value)s is within the personal allowance of %(threshold)s: no duty or import taxes.",
                value=_fmt(p.compared),
                threshold=b.threshold_text(threshold),
            ),
        )
        return duty
    amount = (excess * (rule.default_duty_rate / HUNDRED)).quantize()
    b.note(
        "allowance_excess",
        _(
            "Duty of %(rate)s%% on the %(excess)s above the personal allowance of %(threshold)s: %(duty)s.",
            rate=_pct(rule.default_duty_rate),
            excess=_fmt(excess),
            threshold=b.threshold_text(threshold),
            duty=_fmt(amount),
        ),
    )
    if over_grams and rule.min_duty_per_excess_kg is not None and allowance:
        minimum = b.to_local(rule.min_duty_per_excess_kg * (Decimal(over_grams) / 1000))
        b.note(
            "allowance_weight",
            _(
                "The parcel weighs %(weight)s kg, more than %(limit)s kg: at least %(per_kg)s per extra kg, %(minimum)s.",
                weight=_pct(Decimal(p.weight_grams) / 1000),
                limit=_pct(Decimal(allowance) / 1000),
                per_kg=_fmt(rule.min_duty_per_excess_kg),
                minimum=_fmt(minimum),
            ),
        )
        amount = max(amount, minimum)
    duty.extra = amount
    return duty


def _threshold_duty(p: _Parcel, threshold: Money) -> _Duty:
    """No duty inside the threshold (but on goods it never covers); the full duty above it."""
    inclusive = p.rule.thresholds_inclusive
    value, limit = _fmt(p.compared), p.b.threshold_text(threshold)
    if p.within(threshold):
        p.b.note(
            "duty_de_minimis_below",
            _(
                "Value %(value)s is at or below the duty threshold of %(threshold)s: no duty.",
                value=value,
                threshold=limit,
            )
            if inclusive
            else _(
                "Value %(value)s is below the duty threshold of %(threshold)s: no duty.",
                value=value,
                threshold=limit,
            ),
        )
        duty = _no_duty(p)
        duty.threshold = Threshold(threshold, applied=True)
        excluded = p.excluded_lines()
        if excluded:
            codes = ", ".join(p.shipment.lines[index].hs_code for index in excluded)
            p.b.note(
                "de_minimis_excluded_goods",
                _(
                    "The exemption does not cover HS %(codes)s: duty and import tax are due on those goods.",
                    codes=codes,
                ),
            )
            _ad_valorem(p, duty, lambda line: p.rule.duty_rate(line.hs_code), excluded)
            duty.taxed_lines = excluded
        return duty
    p.b.note(
        "duty_de_minimis_above",
        _(
            "Value %(value)s is above the duty threshold of %(threshold)s: duty is due.",
            value=value,
            threshold=limit,
        )
        if inclusive
        else _(
            "Value %(value)s is not below the duty threshold of %(threshold)s: duty is due.",
            value=value,
            threshold=limit,
        ),
    )
    duty = _ad_valorem(p, _no_duty(p), lambda line: p.rule.duty_rate(line.hs_code))
    duty.threshold = Threshold(threshold, applied=False)
    _minimum_per_kg(p, duty)
    return duty


def _minimum_per_kg(p: _Parcel, duty: _Duty) -> None:
    """A duty of at least so much per kg of the whole parcel (the EAEU's EUR 1/kg from 2026)."""
    per_kg = p.rule.min_duty_per_kg
    if per_kg is None:
        return
    minimum = p.b.to_local(per_kg * (Decimal(p.weight_grams) / 1000)).quantize()
    charged = duty.total(p.local)
    p.b.note(
        "duty_minimum_per_kg",
        _(
            "The duty is at least %(per_kg)s per kg of the parcel's %(weight)s kg, %(minimum)s; %(charged)s is charged.",
            per_kg=_fmt(per_kg),
            weight=_pct(Decimal(p.weight_grams) / 1000),
            minimum=_fmt(minimum),
            charged=_fmt(max(charged, minimum)),
        ),
    )
    if minimum > charged:
        duty.extra = duty.extra + (minimum - charged)


def _de_minimis_duty(p: _Parcel, threshold: Money) -> _Duty:
    """A duty threshold: an excluded origin, a personal allowance or a plain de minimis."""
    excluded = sorted(
        {line.origin_country for line in p.shipment.lines}
        & set(p.rule.duty_de_minimis_excluded_origins)
    )
    if excluded:
        return _excluded_origin_duty(p, threshold, excluded)
    if p.rule.duty_on_excess_only:
        return _allowance_duty(p, threshold)
    return _threshold_duty(p, threshold)


def _sale_regime_duty(p: _Parcel, sale: SaleRegime, rate: Decimal) -> _Duty:
    """The duty rate of a regime collected at sale (e.g. China's cross-border e-commerce)."""
    p.b.note(
        "sale_regime_duty",
        _(
            "Under the %(regime)s the duty rate is %(rate)s%%.",
            regime=sale.name,
            rate=_pct(rate),
        ),
    )
    return _ad_valorem(p, _no_duty(p), lambda line: rate, tariff=False)


def _full_duty(p: _Parcel) -> _Duty:
    """No duty-free threshold: the tariff's rate on every line."""
    p.b.note(
        "no_duty_de_minimis",
        _(
            "%(destination)s has no duty-free threshold: duty is due on every parcel.",
            destination=_place(p.shipment.destination, fallback=p.rule.name),
        ),
    )
    return _ad_valorem(p, _no_duty(p), lambda line: p.rule.duty_rate(line.hs_code))


def _duty(p: _Parcel, sale: SaleRegime | None) -> _Duty:
    """The one duty regime that applies to the parcel, in the order the law gives them."""
    rule = p.rule
    single, flat = rule.single_rate, rule.flat_duty
    if single and p.within(single.threshold):
        return _single_rate_duty(p, single)
    if flat and (flat.max_value is None or p.within(flat.max_value)):
        return _flat_duty(p, flat)
    if rule.duty_de_minimis is not None:
        return _de_minimis_duty(p, rule.duty_de_minimis)
    if sale and sale.duty_rate is not None:
        return _sale_regime_duty(p, sale, sale.duty_rate)
    return _full_duty(p)


@dataclass(frozen=True)
class _Tax:
    amount: Money
    at_sale: bool
    threshold: Threshold | None


def _import_tax(p: _Parcel, duties: Money, duty: _Duty, sale: SaleRegime | None) -> _Tax:
    """Import VAT/GST on the customs value plus duty: included, none, at sale, exempt or due."""
    rule, b = p.rule, p.b
    vat = rule.countries[p.shipment.destination].vat_rate
    tax_base = p.customs_value + duties
    if not p.cif and rule.tax_base_includes_shipping:
        tax_base = tax_base + p.shipping
    tax_de_minimis = rule.tax_de_minimis
    # A threshold that a single payment or a tax at sale made irrelevant is reported as not applied.
    skipped = Threshold(tax_de_minimis, applied=False) if tax_de_minimis is not None else None
    if duty.taxes_included:
        b.note(
            "taxes_included",
            _("The duty is a single payment that includes import taxes: no separate VAT."),
        )
        return _Tax(Money.zero(p.local), False, skipped)
    if vat.is_zero():
        b.note(
            "no_import_tax",
            _(
                "%(destination)s charges no import VAT or GST (local sales taxes are not included).",
                destination=_place(p.shipment.destination, fallback=rule.name),
            ),
        )
        return _Tax(Money.zero(p.local), False, None)
    if sale:
        rate = vat * sale.tax_rate_factor
        taxes = (tax_base * (rate / HUNDRED)).quantize()
        b.note(
            "tax_at_sale",
            _(
                "Value %(value)s is at or below %(threshold)s (%(regime)s): %(rate)s%% VAT/GST on %(base)s, %(tax)s, is collected at checkout.",
                value=_fmt(p.compared),
                threshold=b.threshold_text(sale.threshold),
                regime=sale.name,
                rate=_pct(rate),
                base=_fmt(tax_base),
                tax=_fmt(taxes),
            ),
        )
        return _Tax(taxes, True, skipped)
    if tax_de_minimis is not None and p.within(tax_de_minimis):
        b.note(
            "tax_de_minimis_below",
            _(
                "Value %(value)s is at or below the tax threshold of %(threshold)s: no import tax.",
                value=_fmt(p.compared),
                threshold=b.threshold_text(tax_de_minimis),
            ),
        )
        taxes = Money.zero(p.local)
        if duty.taxed_lines:
            base = Money.total(
                (p.line_value(index) + duty.lines[index][1] for index in duty.taxed_lines),
                p.local,
            )
            taxes = (base * (vat / HUNDRED)).quantize()
            b.note(
                "import_tax_excluded_goods",
                _(
                    "Import VAT/GST of %(rate)s%% on %(base)s, the goods the exemption does not cover plus their duty: %(tax)s.",
                    rate=_pct(vat),
                    base=_fmt(base),
                    tax=_fmt(taxes),
                ),
            )
        return _Tax(taxes, False, Threshold(tax_de_minimis, applied=True))
    taxes = (tax_base * (vat / HUNDRED)).quantize()
    b.note(
        "import_tax",
        _(
            "Import VAT/GST of %(rate)s%% on %(base)s (customs value plus duty): %(tax)s.",
            rate=_pct(vat),
            base=_fmt(tax_base),
            tax=_fmt(taxes),
        ),
    )
    return _Tax(taxes, False, skipped)


def estimate(
    rule: Rule, applied: AppliedRule, shipment: LandedCostInput, rates: RateTable
) -> LandedCost:
    """The arithmetic of one rule; no database access (unit-testable with any Rule)."""
    country = rule.countries[shipment.destination]
    b = _Builder(rates, country.currency, shipment.currency)
    b.note(
        "rule",
        _(
            "Rules for %(destination)s in force from %(valid_from)s (source: %(source)s, checked on %(checked_on)s).",
            destination=_place(rule.destination, shipment.destination, fallback=rule.name),
            valid_from=rule.valid_from.isoformat(),
            source=rule.source,
            checked_on=rule.checked_on.isoformat(),
        ),
    )
    p = _parcel(rule, shipment, b)
    sale = rule.collected_at_sale
    if sale and not p.within(sale.threshold):
        sale = None
    duty = _duty(p, sale)
    duty.taxes_included = duty.taxes_included or rule.taxes_included_in_duty
    duties = duty.total(p.local)
    tax = _import_tax(p, duties, duty, sale)
    estimates = [
        LineEstimate(
            line.hs_code, line.origin_country, line.quantity, p.values[index], rate, amount
        )
        for index, (line, (rate, amount)) in enumerate(zip(shipment.lines, duty.lines, strict=True))
    ]
    return _assemble(
        b,
        shipment,
        applied,
        p.goods,
        p.shipping,
        p.customs_value,
        duties,
        tax.amount,
        tax.amount if tax.at_sale else Money.zero(p.local),
        duty.threshold,
        tax.threshold,
        sale.name if sale else None,
        estimates,
    )


def _parcel(rule: Rule, shipment: LandedCostInput, b: _Builder) -> _Parcel:
    """The parcel's values in the destination currency, its customs value and compared value."""
    local = b.local
    values = [b.to_local(line.unit_value * line.quantity) for line in shipment.lines]
    goods = Money.total(values, local)
    shipping = b.to_local(shipment.shipping)
    insurance = b.to_local(shipment.insurance) if shipment.insurance else Money.zero(local)
    transport = shipping + insurance
    cif = rule.customs_value_basis is ValueBasis.CIF
    factor = rule.personal_use_value_factor
    goods_value = goods
    if factor is not None:
        goods_value = goods * factor
        b.note(
            "personal_use_value",
            _(
                "Goods for personal use are valued at %(share)s%% of their retail price %(price)s: %(value)s.",
                share=_pct(factor * HUNDRED),
                price=_fmt(goods),
                value=_fmt(goods_value),
            ),
        )
    customs_value = goods_value + transport if cif else goods_value
    if cif:
        b.note(
            "customs_value_cif",
            _("Customs value %(value)s: goods plus shipping (CIF).", value=_fmt(customs_value)),
        )
    else:
        b.note(
            "customs_value_fob",
            _(
                "Customs value %(value)s: goods only, shipping excluded (FOB).",
                value=_fmt(customs_value),
            ),
        )
    return _Parcel(
        rule=rule,
        shipment=shipment,
        b=b,
        values=values,
        goods=goods,
        shipping=shipping,
        customs_value=customs_value,
        compared={
            ThresholdBasis.GOODS: goods,
            ThresholdBasis.CUSTOMS_VALUE: customs_value,
            ThresholdBasis.GOODS_SHIPPING_INSURANCE: goods + transport,
        }[rule.threshold_basis],
        weight_grams=sum(line.unit_weight_grams * line.quantity for line in shipment.lines),
        cif=cif,
        transport=transport,
        factor=factor if factor is not None else Decimal(1),
    )


def _assemble(
    b: _Builder,
    shipment: LandedCostInput,
    applied: AppliedRule | None,
    goods: Money,
    shipping: Money,
    customs_value: Money,
    duties: Money,
    taxes: Money,
    taxes_at_sale: Money,
    duty_threshold: Threshold | None,
    tax_threshold: Threshold | None,
    sale: str | None,
    lines: list[LineEstimate],
) -> LandedCost:
    """Split what is paid at checkout from what is due on delivery, and convert every amount.

    Goods, shipping, duties and taxes are each converted once; every total in the requested
    currency is the sum of those conversions, so the figures a buyer sees always add up.
    `taxes_at_sale` is either zero or all of `taxes`.
    """
    goods_a, shipping_a, duties_a, taxes_a = (
        b.both(goods),
        b.both(shipping),
        b.both(duties),
        b.both(taxes),
    )
    charges = Amounts(duties_a.local + taxes_a.local, duties_a.requested + taxes_a.requested)
    zero = Amounts(Money.zero(b.local), Money.zero(b.requested))
    at_sale = zero if taxes_at_sale.is_zero() else taxes_a
    if shipment.incoterm is Incoterm.DDP:
        at_checkout, on_delivery = charges, zero
        if not charges.local.is_zero():
            b.note("ddp", _("Delivered duty paid (DDP): duties and taxes are paid at checkout."))
    else:
        at_checkout = at_sale
        on_delivery = Amounts(charges.local - at_sale.local, charges.requested - at_sale.requested)
        if not on_delivery.local.is_zero():
            b.note(
                "dap",
                _(
                    "Delivered at place (DAP): %(amount)s of duties and taxes is due on delivery; carriers may add a handling fee.",
                    amount=_fmt(on_delivery.local),
                ),
            )
    landed = Amounts(
        goods_a.local + shipping_a.local + charges.local,
        goods_a.requested + shipping_a.requested + charges.requested,
    )
    return LandedCost(
        destination=shipment.destination,
        date=shipment.date,
        incoterm=shipment.incoterm,
        currency=b.local,
        requested_currency=shipment.currency,
        rule=applied,
        goods=goods_a,
        shipping=shipping_a,
        customs_value=b.both(customs_value),
        duties=duties_a,
        taxes=taxes_a,
        duties_and_taxes=charges,
        payable_at_checkout=at_checkout,
        due_on_delivery=on_delivery,
        landed_cost=landed,
        de_minimis=DeMinimis(duty_threshold, tax_threshold),
        collected_at_sale=sale,
        lines=tuple(lines),
        explanations=tuple(b.notes),
        fx=FxUsed(b.rates.base, b.rates.as_of, b.rates.source),
        allowance_window=b.allowance_window,
    )
