"""Landed cost: a table of worked examples, one or more per covered destination.

Each case states the hand calculation in its comment. Rates used throughout (units per 1 EUR):
USD 1.10, GBP 0.85, CNY 8, RUB 100, KZT 550, UZS 13200 (so 1 USD = 12000 UZS), TRY 40, AED 4,
SAR 4, PKR 300, AUD 1.6, JPY 160, PLN 4.25, BGN 1.95583.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from marketplace.customs.landed_cost import (
    Incoterm,
    LandedCostInput,
    ShipmentLine,
    estimate_landed_cost,
)
from marketplace.customs.rules import NoCustomsRule
from marketplace.errors import Invalid
from marketplace.i18n import use_locale
from marketplace.money import Money
from tests.factories import LANDED_COST_RATES as RATES

TSHIRT, TEA, SILK, CARPET, HANDBAG, JEWEL = (
    "610910",
    "090210",
    "500720",
    "570110",
    "420221",
    "711319",
)


def line(
    hs_code: str, value: str, *, origin: str = "CN", quantity: int = 1, grams: int = 500
) -> ShipmentLine:
    amount, currency = value.split()
    return ShipmentLine(hs_code, origin, Money.of(amount, currency), quantity, grams)


@dataclass(frozen=True)
class Example:
    to: str
    on: str
    lines: tuple[ShipmentLine, ...]
    shipping: str
    duties: str
    taxes: str
    incoterm: Incoterm = Incoterm.DDP
    at_checkout: str | None = None  # defaults: DDP everything, DAP nothing
    on_delivery: str | None = None


def ex(
    to: str,
    on: str,
    lines: list[ShipmentLine],
    shipping: str,
    duties: str,
    taxes: str,
    **kw: object,
) -> Example:
    return Example(to, on, tuple(lines), shipping, duties, taxes, **kw)  # type: ignore[arg-type]


EXAMPLES = {
    # EU, Germany (VAT 19%, CIF). 100 EUR T-shirt + 20 EUR shipping, the day before the change:
    # goods 100 <= 150 duty relief -> duty 0; IOSS (<= 150): VAT 19% x (120 + 0) = 22.80 at sale.
    "eu_2026_06_30_below_150_duty_relief": ex(
        "DE", "2026-06-30", [line(TSHIRT, "100 EUR")], "20 EUR", "0.00", "22.80"
    ),
    # The same parcel on 2026-07-01: flat EUR 3 x 1 subheading = 3.00; VAT 19% x (120 + 3) = 23.37.
    "eu_2026_07_01_below_150_flat_3_eur": ex(
        "DE", "2026-07-01", [line(TSHIRT, "100 EUR")], "20 EUR", "3.00", "23.37"
    ),
    # 3 T-shirts (one subheading) + a handbag (another): 2 x 3 = 6.00 duty; goods 60 + 50 = 110,
    # shipping 10: VAT 19% x (120 + 6) = 23.94. DAP: the IOSS VAT is still taken at checkout,
    # the flat duty is due on delivery.
    "eu_2026_07_01_flat_duty_per_distinct_subheading_dap": ex(
        "DE",
        "2026-07-01",
        [line(TSHIRT, "20 EUR", quantity=3), line(HANDBAG, "50 EUR")],
        "10 EUR",
        "6.00",
        "23.94",
        incoterm=Incoterm.DAP,
        at_checkout="23.94",
        on_delivery="6.00",
    ),
    # Above EUR 150 before the change: duty 12% (ch. 61) x CIF 220 = 26.40;
    # import VAT 19% x (220 + 26.40) = 46.816 -> 46.82. DAP: all 73.22 due on delivery.
    "eu_2026_06_30_above_150_dap": ex(
        "DE",
        "2026-06-30",
        [line(TSHIRT, "200 EUR")],
        "20 EUR",
        "26.40",
        "46.82",
        incoterm=Incoterm.DAP,
        at_checkout="0.00",
        on_delivery="73.22",
    ),
    # The same above-150 parcel after the change: the flat duty does not apply, same 26.40 + 46.82.
    "eu_2026_07_01_above_150_unchanged": ex(
        "DE", "2026-07-01", [line(TSHIRT, "200 EUR")], "20 EUR", "26.40", "46.82"
    ),
    # Poland (PLN, VAT 23%): 100 EUR = 425.00 PLN, shipping 20 EUR = 85.00 PLN; 425 <= 150 EUR
    # (637.50 PLN). Flat 3 EUR = 12.75 PLN; VAT 23% x (510 + 12.75) = 120.2325 -> 120.23.
    "eu_poland_in_zloty": ex(
        "PL", "2026-07-01", [line(TSHIRT, "100 EUR")], "20 EUR", "12.75", "120.23"
    ),
    # United Kingdom (VAT 20%, CIF): 50 GBP tea + 10 shipping <= 135: no duty, VAT 20% x 60 = 12.00 at sale.
    "gb_below_135_vat_at_sale": ex(
        "GB",
        "2026-03-01",
        [line(TEA, "50 GBP")],
        "10 GBP",
        "0.00",
        "12.00",
        incoterm=Incoterm.DAP,
        at_checkout="12.00",
        on_delivery="0.00",
    ),
    # A 500 GBP carpet + 40: duty 8% (ch. 57) x 540 = 43.20; VAT 20% x 583.20 = 116.64.
    "gb_above_135": ex(
        "GB", "2026-03-01", [line(CARPET, "500 GBP", origin="TR")], "40 GBP", "43.20", "116.64"
    ),
    # United States (FOB, no import VAT): a 100 USD T-shirt from Türkiye + 15 shipping on
    # 2025-08-28: <= 800 de minimis, no duty.
    "us_2025_08_28_de_minimis": ex(
        "US", "2025-08-28", [line(TSHIRT, "100 USD", origin="TR")], "15 USD", "0.00", "0.00"
    ),
    # The day de minimis ended: duty 16% (ch. 61) x FOB 100 (shipping excluded) = 16.00.
    "us_2025_08_29_no_de_minimis": ex(
        "US", "2025-08-29", [line(TSHIRT, "100 USD", origin="TR")], "15 USD", "16.00", "0.00"
    ),
    # Between 2025-05-02 and 2025-08-28 Chinese goods were excluded from de minimis: 16.00 ...
    "us_2025_06_01_chinese_origin_excluded": ex(
        "US", "2025-06-01", [line(TSHIRT, "100 USD", origin="CN")], "15 USD", "16.00", "0.00"
    ),
    # ... while Turkish goods still had it: 0.
    "us_2025_06_01_other_origin_relieved": ex(
        "US", "2025-06-01", [line(TSHIRT, "100 USD", origin="TR")], "15 USD", "0.00", "0.00"
    ),
    # Before 2025-05-02 Chinese goods too: 0.
    "us_2025_04_01_chinese_origin_relieved": ex(
        "US", "2025-04-01", [line(TSHIRT, "100 USD", origin="CN")], "15 USD", "0.00", "0.00"
    ),
    # China, cross-border e-commerce retail (<= CNY 5,000): duty 0%; VAT 13% x 70% = 9.1% x
    # (800 + 100) = 81.90, withheld at sale.
    "cn_cross_border_ecommerce": ex(
        "CN", "2026-03-01", [line(HANDBAG, "800 CNY", origin="TR")], "100 CNY", "0.00", "81.90"
    ),
    # Above CNY 5,000, general trade: duty 10% (ch. 42) x 6200 = 620; VAT 13% x 6820 = 886.60.
    "cn_above_5000_general_trade": ex(
        "CN", "2026-03-01", [line(HANDBAG, "6000 CNY", origin="TR")], "200 CNY", "620.00", "886.60"
    ),
    # Russia (EAEU, FOB): 150 EUR of silk = 15,000 RUB, 2 kg: within EUR 200 and 31 kg: nothing.
    "ru_within_allowance": ex(
        "RU",
        "2026-03-01",
        [line(SILK, "150 EUR", origin="UZ", grams=2000)],
        "10 EUR",
        "0.00",
        "0.00",
    ),
    # 300 EUR = 30,000 RUB: 15% of the 10,000 RUB above 20,000 = 1,500.00; taxes included.
    "ru_above_allowance_on_excess": ex(
        "RU", "2026-03-01", [line(SILK, "300 EUR", origin="UZ")], "10 EUR", "1500.00", "0.00"
    ),
    # 100 EUR but 35 kg: 4 kg over 31 kg x 2 EUR = 8 EUR = 800.00 RUB (value excess is 0).
    "ru_over_weight_minimum": ex(
        "RU",
        "2026-03-01",
        [line(CARPET, "100 EUR", origin="TR", grams=35000)],
        "30 EUR",
        "800.00",
        "0.00",
    ),
    # Kazakhstan (EAEU): 400 EUR = 220,000 KZT; allowance 200 EUR = 110,000: 15% x 110,000 = 16,500.00.
    "kz_above_allowance": ex(
        "KZ", "2026-03-01", [line(CARPET, "400 EUR", origin="CN")], "30 EUR", "16500.00", "0.00"
    ),
    # Uzbekistan (CIF, on customs value): 900 + 50 USD = 950 USD = 11,400,000 UZS <= 12,000,000: nothing.
    "uz_within_allowance": ex(
        "UZ", "2026-03-01", [line(TSHIRT, "900 USD", origin="TR")], "50 USD", "0.00", "0.00"
    ),
    # 1,150 + 50 USD = 14,400,000 UZS: 30% x (14,400,000 - 12,000,000) = 720,000.00.
    "uz_above_allowance": ex(
        "UZ", "2026-03-01", [line(TSHIRT, "1150 USD", origin="TR")], "50 USD", "720000.00", "0.00"
    ),
    # Türkiye on 2026-02-05: 25 + 4 EUR = 29 EUR = 1,160 TRY <= 30 EUR: single rate 60% = 696.00.
    "tr_2026_02_05_single_rate_non_eu": ex(
        "TR", "2026-02-05", [line(TSHIRT, "25 EUR")], "4 EUR", "696.00", "0.00"
    ),
    # Goods of EU origin paid 30%: 348.00.
    "tr_2026_02_05_single_rate_eu_origin": ex(
        "TR", "2026-02-05", [line(TSHIRT, "25 EUR", origin="DE")], "4 EUR", "348.00", "0.00"
    ),
    # From 2026-02-06 the allowance is gone: duty 12% x 1,160 = 139.20; VAT 20% x 1,299.20 = 259.84.
    "tr_2026_02_06_allowance_removed": ex(
        "TR", "2026-02-06", [line(TSHIRT, "25 EUR")], "4 EUR", "139.20", "259.84"
    ),
    # Above 30 EUR before the change: 54 EUR = 2,160 TRY; duty 12% = 259.20; VAT 20% x 2,419.20 = 483.84.
    "tr_2026_02_05_above_30_eur": ex(
        "TR", "2026-02-05", [line(TSHIRT, "50 EUR")], "4 EUR", "259.20", "483.84"
    ),
    # UAE: 500 AED of jewellery + 50 shipping: <= 1,000 no duty; VAT 5% x 550 = 27.50.
    "ae_below_1000": ex(
        "AE", "2026-03-01", [line(JEWEL, "500 AED", origin="TR")], "50 AED", "0.00", "27.50"
    ),
    # 2,000 + 100 AED: duty 5% x 2,100 = 105.00; VAT 5% x 2,205 = 110.25.
    "ae_above_1000": ex(
        "AE", "2026-03-01", [line(JEWEL, "2000 AED", origin="TR")], "100 AED", "105.00", "110.25"
    ),
    # Saudi Arabia: 800 + 50 SAR: no duty; VAT 15% x 850 = 127.50.
    "sa_below_1000": ex(
        "SA", "2026-03-01", [line(TSHIRT, "800 SAR", origin="PK")], "50 SAR", "0.00", "127.50"
    ),
    # 1,200 + 100 SAR: duty 10% (ch. 61) x 1,300 = 130.00; VAT 15% x 1,430 = 214.50.
    "sa_above_1000": ex(
        "SA", "2026-03-01", [line(TSHIRT, "1200 SAR", origin="PK")], "100 SAR", "130.00", "214.50"
    ),
    # Pakistan (no de minimis): tea 10,000 + 2,000 PKR: duty 11% (ch. 09) x 12,000 = 1,320.00;
    # sales tax 18% x 13,320 = 2,397.60.
    "pk_no_de_minimis": ex(
        "PK", "2026-03-01", [line(TEA, "10000 PKR")], "2000 PKR", "1320.00", "2397.60"
    ),
    # Australia (FOB): 200 AUD + 20 shipping: customs value 200 <= 1,000: no duty; GST 10% x
    # (200 + 20 shipping) = 22.00 collected at sale even under DAP.
    "au_low_value_gst_at_sale": ex(
        "AU",
        "2026-03-01",
        [line(TSHIRT, "200 AUD")],
        "20 AUD",
        "0.00",
        "22.00",
        incoterm=Incoterm.DAP,
        at_checkout="22.00",
        on_delivery="0.00",
    ),
    # 1,500 + 50 AUD: duty 5% x FOB 1,500 = 75.00; GST 10% x (1,500 + 75 + 50) = 162.50; DAP.
    "au_above_1000_dap": ex(
        "AU",
        "2026-03-01",
        [line(TSHIRT, "1500 AUD")],
        "50 AUD",
        "75.00",
        "162.50",
        incoterm=Incoterm.DAP,
        at_checkout="0.00",
        on_delivery="237.50",
    ),
    # Japan (CIF, on customs value): 8,000 + 1,500 JPY = 9,500 <= 10,000: nothing.
    "jp_below_10000": ex("JP", "2026-03-01", [line(TEA, "8000 JPY")], "1500 JPY", "0", "0"),
    # 20,000 + 2,000: duty 10% (ch. 61) x 22,000 = 2,200; consumption tax 10% x 24,200 = 2,420.
    "jp_above_10000": ex(
        "JP", "2026-03-01", [line(TSHIRT, "20000 JPY")], "2000 JPY", "2200", "2420"
    ),
}


@pytest.mark.parametrize("case", EXAMPLES.values(), ids=EXAMPLES.keys())
def test_worked_example(session: Session, case: Example) -> None:
    amount, currency = case.shipping.split()
    estimate = estimate_landed_cost(
        session,
        LandedCostInput(
            case.to,
            dt.date.fromisoformat(case.on),
            case.incoterm,
            case.lines,
            Money.of(amount, currency),
            "EUR",
        ),
        RATES,
    )
    local = estimate.currency
    assert estimate.duties.local == Money.of(case.duties, local)
    assert estimate.taxes.local == Money.of(case.taxes, local)
    charges = Money.of(case.duties, local) + Money.of(case.taxes, local)
    at_checkout = (
        Money.of(case.at_checkout, local)
        if case.at_checkout
        else (charges if case.incoterm is Incoterm.DDP else Money.zero(local))
    )
    on_delivery = (
        Money.of(case.on_delivery, local)
        if case.on_delivery
        else (Money.zero(local) if case.incoterm is Incoterm.DDP else charges)
    )
    assert estimate.payable_at_checkout.local == at_checkout
    assert estimate.due_on_delivery.local == on_delivery
    requested = estimate.duties_and_taxes.requested
    assert requested == RATES.convert(Money.of(case.duties, local), "EUR") + RATES.convert(
        Money.of(case.taxes, local), "EUR"
    )
    assert estimate.payable_at_checkout.requested + estimate.due_on_delivery.requested == requested
    assert (
        estimate.landed_cost.requested
        == estimate.goods.requested + estimate.shipping.requested + requested
    )
    assert estimate.rule is not None and estimate.rule.source.startswith("http")
    assert any(note.code == "rule" for note in estimate.explanations)


def estimate_for(
    session: Session,
    to: str,
    on: str,
    lines: list[ShipmentLine],
    shipping: str,
    currency: str = "EUR",
    **kw: object,
):  # type: ignore[no-untyped-def]
    amount, code = shipping.split()
    return estimate_landed_cost(
        session,
        LandedCostInput(
            to,
            dt.date.fromisoformat(on),
            Incoterm.DDP,
            lines,
            Money.of(amount, code),
            currency,
            **kw,
        ),  # type: ignore[arg-type]
        RATES,
    )


def test_customs_value_is_cif_in_the_eu_and_fob_in_the_us(session: Session) -> None:
    parcel = [line(TSHIRT, "200 USD", origin="TR")]
    eu = estimate_for(session, "FR", "2026-03-01", parcel, "22 USD", currency="USD")
    us = estimate_for(session, "US", "2026-03-01", parcel, "22 USD", currency="USD")
    # 200 USD = 181.82 EUR, 22 USD = 20.00 EUR: CIF adds the shipping, FOB does not.
    assert eu.customs_value.local == Money.of("201.82", "EUR")
    assert us.customs_value.local == Money.of("200.00", "USD")
    assert {n.code for n in eu.explanations} >= {"customs_value_cif"}
    assert {n.code for n in us.explanations} >= {"customs_value_fob", "no_import_tax"}


def test_amounts_come_in_the_destination_and_the_requested_currency(session: Session) -> None:
    estimate = estimate_for(
        session,
        "GB",
        "2026-03-01",
        [line(CARPET, "500 GBP", origin="TR")],
        "40 GBP",
        currency="KZT",
    )
    assert estimate.currency == "GBP" and estimate.requested_currency == "KZT"
    # duty 43.20 GBP x 550 / 0.85 = 27,952.94 KZT; VAT 116.64 GBP = 75,472.94 KZT; sum 103,425.88
    assert estimate.duties.requested == Money.of("27952.94", "KZT")
    assert estimate.duties_and_taxes.requested == Money.of("103425.88", "KZT")
    assert estimate.fx.as_of == RATES.as_of


def test_the_de_minimis_that_applied_is_reported(session: Session) -> None:
    below = estimate_for(
        session, "US", "2025-08-28", [line(TSHIRT, "100 USD", origin="TR")], "0 USD"
    )
    above = estimate_for(
        session, "US", "2025-08-28", [line(TSHIRT, "900 USD", origin="TR")], "0 USD"
    )
    after = estimate_for(
        session, "US", "2025-08-29", [line(TSHIRT, "100 USD", origin="TR")], "0 USD"
    )
    assert below.duty_de_minimis is not None and below.duty_de_minimis.applied
    assert above.duty_de_minimis is not None and not above.duty_de_minimis.applied
    assert after.duty_de_minimis is None


def test_bulgaria_is_estimated_in_lev_before_the_euro_and_in_euro_after(session: Session) -> None:
    parcel = [line(TSHIRT, "100 EUR")]
    assert estimate_for(session, "BG", "2025-12-31", parcel, "0 EUR").currency == "BGN"
    assert estimate_for(session, "BG", "2026-01-01", parcel, "0 EUR").currency == "EUR"


def test_a_parcel_inside_one_customs_territory_pays_no_import_charges(session: Session) -> None:
    same_union = estimate_for(
        session, "DE", "2026-07-01", [line(TSHIRT, "500 EUR")], "10 EUR", ship_from="FR"
    )
    domestic = estimate_for(
        session, "BR", "2026-07-01", [line(TSHIRT, "500 EUR")], "10 EUR", ship_from="BR"
    )
    for estimate in (same_union, domestic):
        assert estimate.duties_and_taxes.local.is_zero()
        assert [n.code for n in estimate.explanations][-1] == "domestic"


@pytest.mark.parametrize(
    ("to", "on"), [("BR", "2026-03-01"), ("DE", "2025-07-31"), ("US", "2016-03-09")]
)
def test_a_destination_or_date_without_a_rule_is_refused_not_guessed(
    session: Session, to: str, on: str
) -> None:
    with pytest.raises(NoCustomsRule) as error:
        estimate_for(session, to, on, [line(TSHIRT, "10 EUR")], "1 EUR")
    assert error.value.error_code == "no_customs_rule" and error.value.status == 422
    assert error.value.extra == {"country": to, "date": on}


@pytest.mark.parametrize("code", ["090299", "09.02", "abcdef"])
def test_unknown_or_malformed_hs_codes_are_refused(session: Session, code: str) -> None:
    with pytest.raises(Invalid) as error:
        estimate_for(
            session, "DE", "2026-03-01", [line(TSHIRT, "10 EUR"), line(code, "10 EUR")], "1 EUR"
        )
    assert error.value.error_code == "hs_code_invalid"
    assert set(error.value.errors) == {"lines.1.hs_code"}


def test_bad_quantities_and_empty_shipments_are_refused(session: Session) -> None:
    with pytest.raises(Invalid) as error:
        estimate_for(session, "DE", "2026-03-01", [line(TSHIRT, "10 EUR", quantity=0)], "1 EUR")
    assert set(error.value.errors) == {"lines.0.quantity"}
    with pytest.raises(Invalid) as error:
        estimate_for(session, "DE", "2026-03-01", [], "1 EUR")
    assert set(error.value.errors) == {"lines"}


def test_explanations_are_rendered_in_the_readers_language(session: Session) -> None:
    estimate = estimate_for(session, "DE", "2026-07-01", [line(TSHIRT, "100 EUR")], "20 EUR")
    flat = next(n for n in estimate.explanations if n.code == "flat_duty")
    with use_locale("en"):
        english = str(flat.text)
    with use_locale("ru"):
        russian = str(flat.text)
    assert "3.00 EUR" in english and "3.00 EUR" in russian and english != russian


def test_places_are_named_in_the_readers_language(session: Session) -> None:
    eu = estimate_for(session, "DE", "2026-07-01", [line(TSHIRT, "100 EUR")], "20 EUR")
    kz = estimate_for(session, "KZ", "2026-07-01", [line(TSHIRT, "100 EUR")], "20 EUR")
    with use_locale("ru"):
        assert "Европейский союз" in str(eu.explanations[0].text)
        assert "Казахстан" in str(kz.explanations[0].text)  # CLDR has no name for the EAEU
