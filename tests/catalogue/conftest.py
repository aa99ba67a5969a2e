"""Catalogue fixtures: a seller with an owner, and a helper that lists goods through the API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from marketplace.money import RateTable
from tests.helpers import Api, Caller

# 1 EUR = ... (ECB style); round numbers keep expected conversions easy to check by hand.
RATES = RateTable(
    base="EUR",
    as_of=dt.date(2026, 11, 27),
    source="test",
    rates={"USD": Decimal("1.25"), "CNY": Decimal("8"), "KZT": Decimal("500"), "JPY": Decimal("160"),
           "TRY": Decimal("40")},
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
            json={"title": title, "description": description}, as_=self.owner,
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
        owner, name="Almaty Felt", country="KZ", currency="KZT", locale="kk",
        address={"line1": "1 Abay", "city": "Almaty", "country": "KZ"},
    )
    return Shop(api, owner, seller)


@pytest.fixture
def rates(monkeypatch: pytest.MonkeyPatch) -> RateTable:
    """The application converts with RATES."""
    monkeypatch.setattr("marketplace.api.listings.current_rates", lambda: RATES)
    return RATES
