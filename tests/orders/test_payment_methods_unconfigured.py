"""A marketplace without Stripe keys: cards are not offered, and asking for one is an immediate 409."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.payments.adapters import build_gateways
from marketplace.payments.models import Payment
from tests.factories import Market
from tests.helpers import assert_problem


def test_without_stripe_keys_only_bank_transfer_is_offered(market: Market) -> None:
    methods = market.api.get("/payment-methods").get_json()
    assert [m["gateway"] for m in methods] == ["manual"]


def test_asking_for_an_unconfigured_card_payment_is_an_immediate_conflict(
    market: Market, session: Session
) -> None:
    order = market.placed((market.tea, 1))
    started = time.monotonic()
    response = market.api.post(
        f"/orders/{order['id']}/payments", json={"gateway": "stripe"}, as_=market.buyer
    )
    elapsed = time.monotonic() - started
    problem = assert_problem(response, 409, "gateway_unavailable")
    assert "gateway" in problem["errors"]
    assert elapsed < 0.5, elapsed
    assert session.scalar(select(func.count()).select_from(Payment)) == 0


def test_a_gateway_is_built_only_when_configured() -> None:
    base: dict[str, Any] = {"PAYMENT_GATEWAYS": "manual,stripe"}
    assert build_gateways(base) == {}
    assert set(build_gateways({**base, "STRIPE_API_KEY": "sk_test_x"})) == {"stripe"}
    accounts = '{"EUR": {"beneficiary": "B", "bank_name": "N", "iban": "DE89370400440532013000"}}'
    manual = build_gateways({**base, "BANK_TRANSFER_ACCOUNTS": accounts})["manual"]
    assert manual.currencies() == frozenset({"EUR"})
    assert manual.supports_currency("EUR") and not manual.supports_currency("USD")
