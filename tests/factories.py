"""Test factories: one way to make each thing the tests need.

Rates are stored as an operator would store them (`store_rates`); sellers, listings and orders
below the HTTP API are made here, and through the API with `Api` (tests/helpers.py) and `Shop`.
Factories flush and never commit: each test's transaction is rolled back.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from marketplace.accounts.models import OrganisationKind, User
from marketplace.accounts.services import create_organisation
from marketplace.catalogue.models import Listing, ListingDestination
from marketplace.db import utcnow
from marketplace.money import RateTable
from marketplace.money import services as money
from marketplace.money.models import SourceKind
from marketplace.money.sources import IncomingRates
from marketplace.orders.models import Order, Shipment
from tests.helpers import Api, Caller


def rate_table(rates: Mapping[str, str | Decimal], as_of: dt.date | None = None) -> RateTable:
    """1 EUR buys these (decimal strings), dated `as_of` (today by default): the one way tests
    write down rates; `store_rates` makes such a table the current set."""
    return RateTable(
        base="EUR",
        as_of=as_of or utcnow().date(),
        source="test",
        rates={code: Decimal(rate) for code, rate in rates.items()},
    )


# Orders and payments: 1 EUR buys these (figures with four decimals, as an ECB file has them).
ORDER_RATES = rate_table(
    {
        "USD": "1.0832",
        "KZT": "512.3456",
        "CNY": "7.7341",
        "TRY": "35.1234",
        "JPY": "162.57",
        "KWD": "0.3321",
        "UZS": "13702.11",
    }
)

# 1 EUR = ... (ECB style); round numbers keep expected conversions easy to check by hand.
CATALOGUE_RATES = rate_table(
    {"USD": "1.25", "CNY": "8", "KZT": "500", "JPY": "160", "TRY": "40"}, dt.date(2026, 11, 27)
)

# Customs: the landed-cost engine's tests convert with these.
LANDED_COST_RATES = rate_table(
    {
        "USD": "1.10",
        "GBP": "0.85",
        "CNY": "8",
        "RUB": "100",
        "KZT": "550",
        "UZS": "13200",
        "TRY": "40",
        "AED": "4",
        "SAR": "4",
        "PKR": "300",
        "AUD": "1.6",
        "JPY": "160",
        "PLN": "4.25",
        "BGN": "1.95583",
    },
    dt.date(2026, 11, 27),
)

# Customs paperwork: 300 SDR = 352.94 EUR; 1 USD = 12,000 UZS.
PAPERWORK_RATES = rate_table(
    {
        "CNY": "7.7341",
        "KZT": "512.3456",
        "RUB": "91.5",
        "XDR": "0.85",
        "USD": "1.10",
        "UZS": "13200",
    }
)

ADDRESS = {"line1": "12 Abay Avenue", "city": "Almaty", "postal_code": "050000", "country": "KZ"}


def store_rates(
    session: Session, table: RateTable = ORDER_RATES, as_of: dt.date | None = None
) -> str:
    """Make `table` the current rate set (dated `as_of`, the table's own date by default), as
    an operator would; returns its id. The one way tests load rates."""
    rate_set = money.store_rates(
        session,
        IncomingRates(
            base=table.base,
            as_of=as_of or table.as_of,
            source=SourceKind.OPERATOR,
            rates=table.rates,
        ),
        utcnow(),
    )
    session.flush()
    return rate_set.id


def make_user(session: Session, name: str) -> User:
    """An account made directly (no password check will succeed), for tests below the HTTP API."""
    email = f"{name.lower().replace(' ', '-')}-{time.time_ns()}@example.test"
    user = User(email=email, email_key=email, password_hash="x", name=name)
    session.add(user)
    session.flush()
    return user


def make_seller(session: Session, currency: str = "EUR", name: str = "Bukhara Silk") -> str:
    """A seller organisation (and its owner) made through the accounts service; returns its id.

    Functional tests make sellers through the API instead (`Api.seller`)."""
    owner = make_user(session, "Owner")
    seller = create_organisation(
        session,
        owner,
        OrganisationKind.SELLER,
        {
            "name": name,
            "country": "UZ",
            "address": {"line1": "1 Road", "city": "Bukhara", "country": "UZ"},
            "currency": currency,
            "locale": "ru",
        },
    )
    return seller.id


def make_listing(
    session: Session,
    seller_id: str,
    *,
    price_minor: int,
    currency: str,
    stock: int = 10,
    weight_grams: int = 500,
    ships_to: Sequence[str] = ("*",),
    status: str = "published",
    hs_code: str = "090210",
    origin_country: str = "CN",
    title: str = "Longjing green tea",
    language: str = "en",
    sku: str | None = None,
    search_text: str = "",
) -> str:
    """A listing row made directly (no HTTP, no HS check), for tests below the listings API;
    returns its id. Functional tests list goods through the API with `Shop`."""
    listing = Listing(
        seller_id=seller_id,
        sku=sku or f"SKU-{title[:10]}-{price_minor}-{stock}-{len(ships_to)}-{status}",
        language=language,
        title=title,
        description="",
        price_minor=price_minor,
        currency=currency,
        stock=stock,
        weight_grams=weight_grams,
        hs_code=hs_code,
        origin_country=origin_country,
        ships_everywhere=list(ships_to) == ["*"],
        status=status,
        search_text=search_text,
    )
    if list(ships_to) != ["*"]:
        listing.destinations = [ListingDestination(country=c) for c in ships_to]
    session.add(listing)
    session.flush()
    return listing.id


def make_order(
    session: Session, currency: str = "EUR", shares: Sequence[tuple[str, int]] = ()
) -> tuple[str, list[str]]:
    """An order row with one shipment per (seller, amount in minor units), for tests below the HTTP API.

    The ledger and payment tables point at real orders and shipments; the full checkout is
    exercised by the flow tests, these rows only have to exist.
    """
    stamp = time.time_ns()
    buyer = make_user(session, "Buyer")
    total = sum(units for _seller, units in shares)
    order = Order(
        number=f"T-{stamp}"[-20:],
        buyer_id=buyer.id,
        status="pending_payment",
        currency=currency,
        incoterm="DAP",
        ship_to={"country": "KZ"},
        ship_to_country="KZ",
        goods_minor=total,
        shipping_minor=0,
        duties_minor=0,
        taxes_minor=0,
        grand_total_minor=total,
        expires_at=utcnow() + dt.timedelta(hours=1),
    )
    session.add(order)
    session.flush()
    shipments = []
    for position, (seller_id, units) in enumerate(shares):
        shipment = Shipment(
            order_id=order.id,
            position=position,
            number=f"T{stamp}-{position}"[-24:],
            seller_id=seller_id,
            incoterm="DAP",
            from_country="UZ",
            to_country="KZ",
            weight_grams=100,
            currency=currency,
            goods_minor=units,
            shipping_minor=0,
            duties_minor=0,
            taxes_minor=0,
            collected_minor=0,
            seller_currency=currency,
            goods_seller_minor=units,
            shipping_seller_minor=0,
        )
        session.add(shipment)
        session.flush()
        shipments.append(shipment.id)
    return order.id, shipments


def stock_of(session: Session, listing_id: str) -> int:
    session.expire_all()
    value = session.scalar(select(Listing.stock).where(Listing.id == listing_id))
    assert value is not None
    return value


def make_operator(session: Session, caller: Caller) -> None:
    session.execute(update(User).where(User.id == caller.id).values(is_operator=True))
    session.flush()


@dataclass
class Market:
    api: Api
    session: Session
    buyer: Caller
    tea_owner: Caller
    tea_seller: str
    carpet_owner: Caller
    carpet_seller: str
    broker: Caller
    brokerage: str
    tea: str
    carpet: str

    def order(
        self,
        *lines: tuple[str, int],
        as_: Caller | None = None,
        headers: dict[str, str] | None = None,
        **overrides: Any,
    ) -> Any:
        body = {
            "currency": "KZT",
            "lines": [{"listing_id": listing, "quantity": quantity} for listing, quantity in lines],
            "ship_to": ADDRESS,
            "incoterm": "DDP",
            **overrides,
        }
        return self.api.post("/orders", json=body, as_=as_ or self.buyer, headers=headers)

    def placed(self, *lines: tuple[str, int], **overrides: Any) -> dict[str, Any]:
        response = self.order(*lines, **overrides)
        assert response.status_code == 201, response.get_json()
        return response.get_json()


def make_market(api: Api, session: Session) -> Market:
    """A buyer, a Chinese tea seller (CNY) and a Turkish carpet seller (TRY), each with a
    shipping price list and one listing, and a brokerage clearing into KZ and UZ."""
    buyer = api.user("Nursultan")
    tea_owner = api.user("Li Wei")
    tea_seller = api.seller(tea_owner)["id"]
    carpet_owner = api.user("Elif")
    carpet_seller = api.seller(
        carpet_owner,
        name="Grand Bazaar Carpets",
        country="TR",
        currency="TRY",
        locale="tr",
        address={"line1": "Kalpakçılar 34", "city": "İstanbul", "country": "TR"},
    )["id"]
    broker = api.user("Saule")
    brokerage = api.brokerage(broker, countries=["KZ", "UZ"])["id"]
    for owner, seller, currency in (
        (tea_owner, tea_seller, "CNY"),
        (carpet_owner, carpet_seller, "TRY"),
    ):
        response = api.put(
            f"/sellers/{seller}/shipping-rates",
            json=[
                {
                    "countries": ["KZ", "UZ"],
                    "base": {"amount": "50.00", "currency": currency},
                    "per_kg": {"amount": "20.00", "currency": currency},
                },
                {
                    "countries": ["*"],
                    "base": {"amount": "120.00", "currency": currency},
                    "per_kg": {"amount": "45.00", "currency": currency},
                },
            ],
            as_=owner,
        )
        assert response.status_code == 200, response.get_json()
    tea = make_listing(session, tea_seller, price_minor=12_800, currency="CNY", stock=10)
    carpet = make_listing(
        session,
        carpet_seller,
        price_minor=1_250_000,
        currency="TRY",
        stock=3,
        weight_grams=8_000,
        hs_code="570110",
        origin_country="TR",
        title="Hereke silk carpet",
    )
    return Market(
        api,
        session,
        buyer,
        tea_owner,
        tea_seller,
        carpet_owner,
        carpet_seller,
        broker,
        brokerage,
        tea,
        carpet,
    )


class Shop:
    """A seller and its owner, able to list goods."""

    def __init__(self, api: Api, owner: Caller, seller: dict[str, Any]) -> None:
        self.api, self.owner, self.seller = api, owner, seller

    def body(self, **overrides: Any) -> dict[str, Any]:
        return {
            "seller_id": self.seller["id"],
            "sku": overrides.pop("sku", f"SKU-{id(overrides)}-{len(str(overrides))}"),
            "language": "zh-Hans",
            "title": "西湖龙井绿茶",
            "description": "明前采摘的龙井茶，250克罐装。",
            "category": "green-tea",
            "price": {"amount": "120.00", "currency": "CNY"},
            "stock": 10,
            "weight_grams": 300,
            "hs_code": "0902.10",
            "origin_country": "CN",
            "ships_to": ["*"],
            "status": "published",
            **overrides,
        }

    def listing(self, **overrides: Any) -> dict[str, Any]:
        response = self.api.post("/listings", json=self.body(**overrides), as_=self.owner)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def translate(self, listing_id: str, locale: str, title: str, description: str = "") -> None:
        response = self.api.put(
            f"/listings/{listing_id}/translations/{locale}",
            json={"title": title, "description": description},
            as_=self.owner,
        )
        assert response.status_code == 200, response.get_json()
