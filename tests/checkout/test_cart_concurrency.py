"""Completing carts at once on PostgreSQL: separate connections, committed data, threads released
together. Stock is never oversold, and one cart makes one order however often it is completed."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.catalogue.models import Listing
from marketplace.checkout.models import Cart
from marketplace.orders.models import Order, OrderLine
from tests.helpers import Caller
from tests.orders.conftest import ADDRESS
from tests.orders.test_concurrency import Committed, _at_once, _listing, committed

pytestmark = pytest.mark.postgres_only

__all__ = ["committed"]


def _filled_cart(committed: Committed, buyer: Caller, listing: str, quantity: int) -> str:
    client = committed.app.test_client()
    headers = {"Authorization": f"Bearer {buyer.token}"}
    cart = client.post(
        "/api/v1/carts", json={"currency": "KZT", "ship_to": ADDRESS}, headers=headers
    ).get_json()
    added = client.post(
        f"/api/v1/carts/{cart['id']}/lines",
        json={"listing_id": listing, "quantity": quantity},
        headers=headers,
    )
    assert added.status_code == 201, added.get_json()
    assert added.get_json()["problems"] == []
    return str(cart["id"])


def _complete(committed: Committed, buyer: Caller, cart_id: str, key: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {buyer.token}"}
    if key:
        headers["Idempotency-Key"] = key
    response = committed.app.test_client().post(
        f"/api/v1/carts/{cart_id}/complete", headers=headers
    )
    return response.status_code, response.get_json()


def test_twenty_carts_completing_at_once_for_five_units_sell_exactly_five(
    committed: Committed,
) -> None:
    listing = _listing(committed, stock=5, sku="CART-RACE-5")
    buyers = [committed.api.user(f"Cart buyer {i}") for i in range(20)]
    carts = [_filled_cart(committed, buyer, listing, 1) for buyer in buyers]
    results = _at_once(
        [lambda b=b, c=c: _complete(committed, b, c) for b, c in zip(buyers, carts, strict=True)]
    )
    statuses = sorted(status for status, _body in results)
    assert statuses == [201] * 5 + [409] * 15, results
    refused = [body for status, body in results if status == 409]
    assert all(body["code"] == "cart_not_orderable" for body in refused)
    assert all(p["code"] == "insufficient_stock" for body in refused for p in body["problems"])
    with Session(committed.engine) as session:
        assert session.scalar(select(Listing.stock).where(Listing.id == listing)) == 0
        sold = session.scalar(
            select(func.sum(OrderLine.quantity)).where(OrderLine.listing_id == listing)
        )
        assert sold == 5
        completed = session.scalar(
            select(func.count())
            .select_from(Cart)
            .where(Cart.id.in_(carts), Cart.order_id.is_not(None))
        )
        assert completed == 5


def test_a_cart_completed_twice_at_once_makes_one_order(committed: Committed) -> None:
    listing = _listing(committed, stock=10, sku="CART-IDEM")
    buyer = committed.api.user("Double clicker")
    cart = _filled_cart(committed, buyer, listing, 2)
    same_key = _at_once([lambda: _complete(committed, buyer, cart, key="complete-once")] * 2)
    assert [status for status, _body in same_key] == [201, 201], same_key
    assert same_key[0][1]["id"] == same_key[1][1]["id"]
    other = _filled_cart(committed, buyer, listing, 1)
    without_key = _at_once([lambda: _complete(committed, buyer, other)] * 2)
    assert sorted(status for status, _body in without_key) == [201, 409], without_key
    assert any(body.get("code") == "cart_completed" for _status, body in without_key)
    with Session(committed.engine) as session:
        orders = session.scalar(
            select(func.count()).select_from(Order).where(Order.buyer_id == buyer.id)
        )
        assert orders == 2
        assert session.scalar(select(Listing.stock).where(Listing.id == listing)) == 7
