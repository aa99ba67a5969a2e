"""Catalogue fixtures: a seller with an owner, and a helper that lists goods through the API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from marketplace import i18n
from marketplace.catalogue import pricing
from marketplace.db import utcnow
from marketplace.money import RateTable
from marketplace.money import services as money_services
from marketplace.money.models import SourceKind
from marketplace.money.sources import IncomingRates
from tests.helpers import Api, Caller

# 1 EUR = ... (ECB style); round numbers keep expected conversions easy to check by hand.
RATES = RateTable(
    base="EUR",
    as_of=dt.date(2026, 11, 27),
    source="test",
    rates={
        "USD": Decimal("1.25"),
        "CNY": Decimal("8"),
        "KZT": Decimal("500"),
        "JPY": Decimal("160"),
        "TRY": Decimal("40"),
    },
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


@pytest.fixture
def shop(api: Api) -> Shop:
    owner = api.user("Li Wei")
    return Shop(api, owner, api.seller(owner))


@pytest.fixture
def other_shop(api: Api) -> Shop:
    owner = api.user("Aigerim")
    seller = api.seller(
        owner,
        name="Almaty Felt",
        country="KZ",
        currency="KZT",
        locale="kk",
        address={"line1": "1 Abay", "city": "Almaty", "country": "KZ"},
    )
    return Shop(api, owner, seller)


@pytest.fixture
def rates(session: Session) -> RateTable:
    """RATES stored as the current rate set: the application converts with them."""
    incoming = IncomingRates(
        base=RATES.base, as_of=RATES.as_of, source=SourceKind.OPERATOR, rates=RATES.rates
    )
    money_services.store_rates(session, incoming, utcnow())
    session.flush()
    return RATES


@pytest.fixture(autouse=True)
def _fresh_process_state() -> Iterator[None]:
    """Each test's database is rolled back: forget which rate tables this process normalized for.

    Requests set the interface locale for the thread; put English back for whatever runs next.
    """
    pricing._refreshed_for.clear()
    yield
    i18n.set_locale(i18n.DEFAULT_LOCALE)
