"""Declarations to render and store: a Chinese tea seller shipping to Kazakhstan, with Arabic lines."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy.orm import Session

from marketplace.accounts.models import Organisation, User
from marketplace.customs.declaration import (
    Declaration,
    DeclarationItem,
    Exporter,
    Importer,
    build_declaration,
)
from marketplace.db import new_id, utcnow
from marketplace.money import Money, RateTable
from marketplace.orders.models import Order, Shipment

# 1 EUR buys these; 1 XDR is worth about 1.2 EUR, so 300 XDR is about 2 845 CNY.
RATES = RateTable(
    base="EUR",
    as_of=dt.date(2026, 11, 27),
    source="test",
    rates={
        "CNY": Decimal("7.9"),
        "XDR": Decimal("0.833"),
        "KZT": Decimal("540"),
        "USD": Decimal("1.05"),
    },
)
CHINESE = "西湖龙井绿茶 特级 250克"
ARABIC = "تمر مجدول فاخر من المدينة"
HS_CODES = ("090210", "0902200010", "080410", "6304920000", "570110")


def item(n: int, unit: str = "12.50", quantity: int = 2, currency: str = "CNY") -> DeclarationItem:
    original = CHINESE if n % 2 else ARABIC
    english = (
        "West Lake Longjing green tea, premium, 250 g"
        if n % 2
        else "Premium Medjool dates from Medina"
    )
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
    lines: int = 20,
    *,
    unit: str = "12.50",
    quantity: int = 2,
    invoice_number: str = "SR-2026-000123",
    rates: RateTable = RATES,
) -> Declaration:
    return build_declaration(
        invoice_number=invoice_number,
        invoice_date=dt.date(2026, 11, 28),
        exporter=Exporter(
            name="杭州茶叶有限公司 Hangzhou Tea Co.",
            address={
                "line1": "龙井路 1 号",
                "city": "杭州 Hangzhou",
                "postal_code": "310013",
                "country": "CN",
            },
            country="CN",
            tax_id="91330100MA2XXXXX1X",
            eori="CN123456789000",
        ),
        importer=Importer(
            name="Айгерим Сейткали",
            address={
                "line1": "ул. Достык 5, кв. 12",
                "city": "Алматы",
                "postal_code": "050010",
                "country": "KZ",
            },
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


def make_shipment(session: Session) -> str:
    """A bare shipment (with its buyer, seller and order) for stored documents to belong to."""
    suffix = new_id()[:8]
    buyer = User(
        email=f"{suffix}@example.test",
        email_key=f"{suffix}@example.test",
        password_hash="-",
        name="Buyer",
    )
    seller = Organisation(
        kind="seller",
        name="Hangzhou Tea",
        country="CN",
        address={"line1": "1 Tea Road", "city": "Hangzhou"},
        currency="CNY",
        locale="zh-Hans",
    )
    session.add_all([buyer, seller])
    session.flush()
    order = Order(
        number=f"SR-{suffix}",
        buyer_id=buyer.id,
        status="paid",
        currency="CNY",
        incoterm="DAP",
        ship_to={"line1": "5 Dostyk", "city": "Almaty", "country": "KZ"},
        ship_to_country="KZ",
        goods_minor=0,
        shipping_minor=0,
        duties_minor=0,
        taxes_minor=0,
        grand_total_minor=0,
        expires_at=utcnow(),
    )
    shipment = Shipment(
        position=0,
        number=f"SR-{suffix}-1",
        seller_id=seller.id,
        status="ready",
        incoterm="DAP",
        from_country="CN",
        to_country="KZ",
        weight_grams=0,
        currency="CNY",
        goods_minor=0,
        shipping_minor=0,
        duties_minor=0,
        taxes_minor=0,
        collected_minor=0,
        seller_currency="CNY",
        goods_seller_minor=0,
        shipping_seller_minor=0,
    )
    shipment.order = order
    session.add_all([order, shipment])
    session.flush()
    return shipment.id
