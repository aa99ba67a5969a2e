"""Declarations to render and store: a Chinese tea seller shipping to Kazakhstan, with Arabic lines."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from marketplace.customs.declaration import (
    Declaration,
    DeclarationItem,
    Exporter,
    Importer,
    build_declaration,
)
from marketplace.money import Money, RateTable

# 1 EUR buys these; 1 XDR is worth about 1.2 EUR, so 300 XDR is about 2 845 CNY.
RATES = RateTable(
    base="EUR",
    as_of=dt.date(2026, 11, 27),
    source="test",
    rates={"CNY": Decimal("7.9"), "XDR": Decimal("0.833"), "KZT": Decimal("540"), "USD": Decimal("1.05")},
)
CHINESE = "西湖龙井绿茶 特级 250克"
ARABIC = "تمر مجدول فاخر من المدينة"
HS_CODES = ("090210", "0902200010", "080410", "6304920000", "570110")


def item(n: int, unit: str = "12.50", quantity: int = 2, currency: str = "CNY") -> DeclarationItem:
    original = CHINESE if n % 2 else ARABIC
    english = "West Lake Longjing green tea, premium, 250 g" if n % 2 else "Premium Medjool dates from Medina"
    unit_value = Money.of(unit, currency)
    return DeclarationItem(
        description=f"{english} #{n}",
        description_original=original,
        hs_code=HS_CODES[n % len(HS_CODES)],
        origin_country="CN" if n % 2 else "SA",
        quantity=quantity,
        net_weight_grams=250 * quantity,
        unit_value=unit_value,
        total_value=(unit_value * quantity).quantize(),
    )


def declaration(
    lines: int = 20, *, unit: str = "12.50", quantity: int = 2, invoice_number: str = "SR-2026-000123",
    rates: RateTable = RATES,
) -> Declaration:
    return build_declaration(
        invoice_number=invoice_number,
        invoice_date=dt.date(2026, 11, 28),
        exporter=Exporter(
            name="杭州茶叶有限公司 Hangzhou Tea Co.",
            address={"line1": "龙井路 1 号", "city": "杭州 Hangzhou", "postal_code": "310013", "country": "CN"},
            country="CN",
            tax_id="91330100MA2XXXXX1X",
            eori="CN123456789000",
        ),
        importer=Importer(
            name="Айгерим Сейткали",
            address={"line1": "ул. Достык 5, кв. 12", "city": "Алматы", "postal_code": "050010", "country": "KZ"},
            country="KZ",
        ),
        incoterm="DAP",
        currency="CNY",
        items=[item(n, unit, quantity) for n in range(1, lines + 1)],
        shipping=Money.of("85.00", "CNY"),
        insurance=Money.of("10.00", "CNY"),
        packaging_grams=300,
        duties=Money.of("0.00", "CNY"),
        taxes=Money.of("42.10", "CNY"),
        de_minimis=False,
        rates=rates,
    )
