"""One buyer cannot hold a listing's stock by placing unpaid orders again and again."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from marketplace.orders.models import Order
from tests.factories import Market, make_listing, stock_of
from tests.helpers import assert_problem


@pytest.fixture
def app_settings(database_url: str) -> dict[str, Any]:
    return {
        "APP_ENV": "test",
        "DATABASE_URL": database_url,
        "MAX_UNPAID_ORDERS_PER_BUYER": 3,
        "MAX_RESERVED_UNITS_PER_BUYER_LISTING": 5,
    }


def test_a_buyer_cannot_hold_every_unit_of_a_listing_unpaid(
    market: Market, session: Session
) -> None:
    scarce = make_listing(session, market.tea_seller, price_minor=9_900, currency="CNY", stock=50)
    market.placed((scarce, 3))
    market.placed((scarce, 2))
    refused = market.order((scarce, 1))
    body = assert_problem(refused, 409, "reservation_limit")
    assert body["limit"] == 5
    assert body["lines"] == [{"listing_id": scarce, "requested": 1, "held": 5}]
    assert stock_of(session, scarce) == 45
    # Another buyer still gets the rest.
    other = market.api.user("Other buyer")
    assert market.order((scarce, 5), as_=other).status_code == 201


def test_a_buyer_cannot_keep_more_than_so_many_orders_unpaid(
    market: Market, session: Session
) -> None:
    first = market.placed((market.tea, 1))
    market.placed((market.tea, 1))
    market.placed((market.carpet, 1))
    body = assert_problem(market.order((market.carpet, 1)), 409, "too_many_unpaid_orders")
    assert body["limit"] == 3
    # Cancelling one, or letting it expire, makes room again.
    assert market.api.post(f"/orders/{first['id']}/cancel", as_=market.buyer).status_code == 200
    second = market.placed((market.carpet, 1))
    session.execute(
        update(Order)
        .where(Order.id == second["id"])
        .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
    )
    session.flush()
    assert market.order((market.carpet, 1)).status_code == 201
