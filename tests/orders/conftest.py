"""A small market for order tests: a buyer, two sellers in two currencies, a brokerage, rates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.catalogue.models import Listing, ListingDestination
from marketplace.db import utcnow
from marketplace.money import RateTable
from marketplace.money import services as money
from marketplace.money.models import SourceKind
from marketplace.money.sources import IncomingRates
from tests.helpers import Api, Caller

RATES = RateTable(
    base="EUR",
    as_of=utcnow().date(),
    source="operator",
    rates={
        "USD": Decimal("1.0832"),
        "KZT": Decimal("512.3456"),
        "CNY": Decimal("7.7341"),
        "TRY": Decimal("35.1234"),
        "JPY": Decimal("162.57"),
        "KWD": Decimal("0.3321"),
        "UZS": Decimal("13702.11"),
    },
)

ADDRESS = {"line1": "12 Abay Avenue", "city": "Almaty", "postal_code": "050000", "country": "KZ"}


def store_rates(session: Session, as_of: dt.date | None = None) -> str:
    """Make RATES the current rate set (dated `as_of`, today by default); returns its id."""
    rate_set = money.store_rates(
        session,
        IncomingRates(
            base="EUR", as_of=as_of or RATES.as_of, source=SourceKind.OPERATOR, rates=RATES.rates
        ),
        utcnow(),
    )
    session.flush()
    return rate_set.id


@pytest.fixture(autouse=True)
def current_rates(session: Session) -> str:
    return store_rates(session)


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
) -> str:
    listing = Listing(
        seller_id=seller_id,
        sku=f"SKU-{title[:10]}-{price_minor}-{stock}-{len(ships_to)}-{status}",
        language="en",
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
    )
    if list(ships_to) != ["*"]:
        listing.destinations = [ListingDestination(country=c) for c in ships_to]
    session.add(listing)
    session.flush()
    return listing.id


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


@pytest.fixture
def market(api: Api, session: Session) -> Market:
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
