"""Declarations to render and store: a Chinese tea seller shipping to Kazakhstan, with Arabic lines;
and sellers, listings and paid orders made through the HTTP API for the paperwork and allowance
tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from marketplace.catalogue.models import Listing
from marketplace.customs.declaration import (
    Declaration,
    DeclarationItem,
    Exporter,
    Importer,
    build_declaration,
)
from marketplace.db import new_id, utcnow
from marketplace.money import Money, RateTable
from marketplace.orders import lifecycle
from marketplace.orders.models import Order, Shipment
from tests import factories
from tests.helpers import Api, Caller

# 1 EUR buys these; 1 XDR is worth about 1.2 EUR, so 300 XDR is about 2 845 CNY.
RATES = factories.rate_table(
    {"CNY": "7.9", "XDR": "0.833", "KZT": "540", "USD": "1.05"}, dt.date(2026, 11, 27)
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
    buyer = factories.make_user(session, "Buyer")
    seller_id = factories.make_seller(session, "CNY", "Hangzhou Tea")
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
        seller_id=seller_id,
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


def sell_one(
    api: Api,
    session: Session,
    country: str,
    currency: str,
    price_minor: int,
    service_class: str | None = None,
    shipping: str = "5.00",
) -> str:
    """A seller in `country` with one published listing (HS 570110, 500 g) shipped everywhere
    at `shipping` plus 1.00 per kg by `service_class` (letter post when None); its listing id."""
    owner = api.user(f"Owner {country} {service_class} {price_minor}")
    seller = api.seller(
        owner,
        name=f"Seller {country} {service_class} {price_minor}",
        country=country,
        currency=currency,
        locale="en",
        address={"line1": "1 Road", "city": "City", "country": country},
    )["id"]
    row: dict[str, Any] = {
        "countries": ["*"],
        "base": {"amount": shipping, "currency": currency},
        "per_kg": {"amount": "1.00" if shipping != "0.00" else "0.00", "currency": currency},
    }
    if service_class:
        row["service_class"] = service_class
    response = api.put(f"/sellers/{seller}/shipping-rates", json=[row], as_=owner)
    assert response.status_code == 200, response.get_json()
    listing = Listing(
        seller_id=seller,
        sku=f"SKU-{country}-{service_class}-{price_minor}",
        language="en",
        title=f"Carpet from {country}",
        description="",
        price_minor=price_minor,
        currency=currency,
        stock=10,
        weight_grams=500,
        hs_code="570110",
        origin_country=country,
        ships_everywhere=True,
        status="published",
    )
    session.add(listing)
    session.flush()
    return listing.id


def paid_order(
    api: Api,
    session: Session,
    buyer: Caller,
    listing: str,
    ship_to: dict[str, str],
    *,
    currency: str = "EUR",
    incoterm: str = "DAP",
    pay: bool = True,
) -> dict[str, Any]:
    """One unit of `listing` ordered through POST /orders and marked paid (unless `pay` is False)."""
    response = api.post(
        "/orders",
        json={
            "currency": currency,
            "lines": [{"listing_id": listing, "quantity": 1}],
            "ship_to": ship_to,
            "incoterm": incoterm,
        },
        as_=buyer,
    )
    assert response.status_code == 201, response.get_json()
    order: dict[str, Any] = response.get_json()
    if pay:
        lifecycle.mark_paid(session, order["id"], now=utcnow())
        session.flush()
    return order
