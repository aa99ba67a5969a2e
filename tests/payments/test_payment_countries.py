"""Payment methods per destination: PAYMENT_COUNTRIES limits a gateway to some countries, the
list a storefront shows for `?country=` follows it, and paying an order shipped elsewhere by
that method is refused before anything is recorded."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config import ConfigurationError, load_settings
from marketplace.payments.adapters import gateway_countries
from marketplace.payments.models import Payment
from tests.factories import ADDRESS, Market
from tests.helpers import assert_problem


@pytest.fixture
def app_settings(app_settings: dict[str, Any]) -> dict[str, Any]:
    # Bank transfers to the platform's Kazakh account only for buyers in Kazakhstan.
    return {**app_settings, "PAYMENT_COUNTRIES": json.dumps({"manual": ["KZ"]})}


def _gateways(market: Market, **query: str) -> list[str]:
    response = market.api.get("/payment-methods", query_string=query)
    assert response.status_code == 200, response.get_json()
    return sorted(method["gateway"] for method in response.get_json())


def test_the_methods_listed_for_a_country_are_those_offered_there(market: Market) -> None:
    assert _gateways(market) == ["manual", "stripe"]  # no country: everything configured
    assert _gateways(market, country="KZ") == ["manual", "stripe"]
    assert _gateways(market, country="UZ") == ["stripe"]  # cards are not limited
    assert _gateways(market, country="UZ", currency="IRR") == []  # nor does Stripe take IRR
    assert _gateways(market, country="KZ", currency="IRR") == ["manual"]


def test_an_order_cannot_be_paid_by_a_method_not_offered_for_its_destination(
    market: Market, session: Session
) -> None:
    tashkent = {**ADDRESS, "city": "Tashkent", "postal_code": "100000", "country": "UZ"}
    order = market.placed((market.tea, 1), ship_to=tashkent)
    refused = market.api.post(
        f"/orders/{order['id']}/payments", json={"gateway": "manual"}, as_=market.buyer
    )
    body = assert_problem(refused, 422, "payment_method_not_offered")
    assert "gateway" in body["errors"]
    count = select(func.count()).select_from(Payment).where(Payment.order_id == order["id"])
    assert session.scalar(count) == 0
    almaty = market.placed((market.tea, 1))
    accepted = market.api.post(
        f"/orders/{almaty['id']}/payments", json={"gateway": "manual"}, as_=market.buyer
    )
    assert accepted.status_code == 201, accepted.get_json()


@pytest.mark.parametrize("raw", ['{"manual": ["XX"]}', '{"paypal": ["KZ"]}', '["KZ"]', "{not json"])
def test_a_wrong_payment_countries_setting_stops_the_start(raw: str) -> None:
    with pytest.raises(ConfigurationError):
        gateway_countries(load_settings({"PAYMENT_COUNTRIES": raw}, {"APP_ENV": "test"}))
