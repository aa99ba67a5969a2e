"""The declaration's data and the CN 22 / CN 23 choice at the UPU's 300 SDR line."""

from __future__ import annotations

import datetime as dt

import pytest

from marketplace.api.customs_documents import DeclarationSchema
from marketplace.customs.declaration import FormThreshold, choose_form, upu_threshold
from marketplace.money import MissingRate, Money
from tests.customs.factories import declaration
from tests.factories import rate_table

# 1 EUR = 0.8 XDR = 8 CNY, so 1 XDR = 10 CNY exactly and 300 XDR = 3000.00 CNY.
TEN_CNY_PER_SDR = rate_table({"XDR": "0.8", "CNY": "8"}, dt.date(2026, 11, 27))


def test_the_form_line_is_the_upu_300_sdr_from_the_data_file() -> None:
    assert upu_threshold().below == Money.of("300.00", "XDR")


@pytest.mark.parametrize(
    ("value", "form"),
    [
        ("0.00", "CN22"),
        ("2999.99", "CN22"),
        ("2999.999", "CN22"),
        ("3000.00", "CN23"),
        ("3000.01", "CN23"),
    ],
)
def test_cn22_is_chosen_below_300_sdr_and_cn23_from_300_sdr_up(value: str, form: str) -> None:
    assert choose_form(Money.of(value, "CNY"), TEN_CNY_PER_SDR) == form


def test_a_shipment_flips_from_cn22_to_cn23_exactly_at_the_line() -> None:
    # 20 lines of 1 unit: 149.99 each is 2999.80 CNY; 150.00 each is 3000.00 CNY.
    below = declaration(20, unit="149.99", quantity=1, rates=TEN_CNY_PER_SDR)
    at = declaration(20, unit="150.00", quantity=1, rates=TEN_CNY_PER_SDR)
    assert (below.total_value, below.form) == (Money.of("2999.80", "CNY"), "CN22")
    assert (at.total_value, at.form) == (Money.of("3000.00", "CNY"), "CN23")


def test_the_threshold_is_data_that_a_new_upu_line_changes() -> None:
    lower = FormThreshold(below=Money.of("100.00", "XDR"), edition="test")
    assert choose_form(Money.of("1500.00", "CNY"), TEN_CNY_PER_SDR, lower) == "CN23"
    assert choose_form(Money.of("1500.00", "CNY"), TEN_CNY_PER_SDR) == "CN22"


def test_a_rate_set_without_sdr_cannot_choose_a_form() -> None:
    no_sdr = rate_table({"CNY": "8"}, dt.date(2026, 11, 27))
    with pytest.raises(MissingRate):
        choose_form(Money.of("10.00", "CNY"), no_sdr)


def test_the_declaration_serializes_to_the_api_fields() -> None:
    data = DeclarationSchema().dump(declaration(2))
    assert list(data) == [
        "form",
        "invoice_number",
        "invoice_date",
        "exporter",
        "importer",
        "incoterm",
        "currency",
        "reason",
        "items",
        "shipping",
        "insurance",
        "total_value",
        "gross_weight_grams",
        "duties",
        "taxes",
        "de_minimis",
        "service_class",
        "crosses_border",
        "category",
        "licence_numbers",
        "certificate_numbers",
        "office_of_origin",
        "posting_date",
    ]
    assert data["reason"] == "sale" and data["category"] == "sale_of_goods"
    assert data["invoice_date"] == "2026-11-28"
    assert data["exporter"]["eori"] == "CN123456789000"
    assert set(data["importer"]) == {"name", "address", "country", "reference", "phone", "email"}
    assert data["items"][0]["description_original"] == "西湖龙井绿茶 特级 250克"
    assert data["items"][0]["unit_value"] == {"amount": "12.50", "currency": "CNY"}
    assert data["total_value"] == {"amount": "50.00", "currency": "CNY"}
    assert data["gross_weight_grams"] == 2 * 500 + 300


def test_the_declaration_is_frozen() -> None:
    with pytest.raises(AttributeError):
        declaration(1).invoice_number = "changed"  # type: ignore[misc]
