"""Real concurrency on PostgreSQL: separate connections, committed data, threads started at once,
for orders placed directly and for carts completed.

These tests cannot run inside the rolled-back test transaction (each request must see what the
others committed), so they get a database of their own, migrated and dropped afterwards.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from alembic import command
from flask import Flask
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from marketplace import create_app
from marketplace.catalogue.models import Listing, ListingVariant
from marketplace.checkout.models import Cart
from marketplace.cli import alembic_config
from marketplace.db import make_engine
from marketplace.orders.models import Order, OrderLine
from marketplace.reference import load_all
from tests.database import fresh_database
from tests.factories import ADDRESS, store_rates
from tests.helpers import Api, Caller

pytestmark = pytest.mark.postgres_only


@dataclass
class Committed:
    app: Flask
    engine: Engine
    api: Api
    seller: str


@pytest.fixture(scope="module")
def committed() -> Iterator[Committed]:
    with fresh_database("orders_race") as url:
        engine = make_engine(url)
        config = alembic_config(url)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        with Session(engine) as session:
            load_all(session)
            store_rates(session)
            session.commit()
        app = create_app({"APP_ENV": "test", "DATABASE_URL": url})
        api = Api(app.test_client())
        owner = api.user("Seller")
        seller = api.seller(owner)["id"]
        response = api.put(
            f"/sellers/{seller}/shipping-rates",
            json=[
                {
                    "countries": ["*"],
                    "base": {"amount": "10.00", "currency": "CNY"},
                    "per_kg": {"amount": "5.00", "currency": "CNY"},
                }
            ],
            as_=owner,
        )
        assert response.status_code == 200
        try:
            yield Committed(app, engine, api, seller)
        finally:
            app.extensions["marketplace"]["session_factory"].kw["bind"].dispose()
            engine.dispose()


def _listing(committed: Committed, stock: int, sku: str) -> str:
    with Session(committed.engine) as session:
        listing = Listing(
            seller_id=committed.seller,
            sku=sku,
            language="en",
            title="Last tea",
            description="",
            price_minor=5_000,
            currency="CNY",
            stock=stock,
            weight_grams=250,
            hs_code="090210",
            origin_country="CN",
            ships_everywhere=True,
            status="published",
        )
        session.add(listing)
        session.commit()
        return listing.id


def _at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run every call in its own thread, all released together."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = calls[index]()
        except Exception as exc:  # reported by the assertion below, not lost in the thread
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _order(app: Flask, buyer: Caller, lines: list[tuple[str, int]], key: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {buyer.token}"}
    if key:
        headers["Idempotency-Key"] = key
    body = {
        "currency": "KZT",
        "lines": [{"listing_id": listing, "quantity": quantity} for listing, quantity in lines],
        "ship_to": ADDRESS,
        "incoterm": "DAP",
    }
    response = app.test_client().post("/api/v1/orders", json=body, headers=headers)
    return response.status_code, response.get_json()


def test_buyers_racing_for_two_variants_of_one_listing_never_oversell_either(
    committed: Committed,
) -> None:
    """Each variant's stock is its own: 3 units of one, 2 of the other, 16 buyers at once."""
    with Session(committed.engine) as session:
        listing = Listing(
            seller_id=committed.seller,
            sku="RACE-VARIANTS",
            language="en",
            title="Teapot",
            description="",
            price_minor=9_000,
            currency="CNY",
            weight_grams=600,
            hs_code="691200",
            origin_country="CN",
            ships_everywhere=True,
            status="published",
            option_axes=["colour"],
        )
        listing.variants = [
            ListingVariant(
                seller_id=committed.seller, sku="POT-RED", options={"colour": "red"}, stock=3
            ),
            ListingVariant(
                seller_id=committed.seller,
                sku="POT-BLUE",
                options={"colour": "blue"},
                stock=2,
                position=1,
            ),
        ]
        session.add(listing)
        session.commit()
        red, blue = (variant.id for variant in listing.variants)
        listing_id = listing.id
    buyers = [committed.api.user(f"Variant buyer {i}") for i in range(16)]

    def order(buyer: Caller, variant: str) -> Any:
        body = {
            "currency": "KZT",
            "lines": [{"listing_id": listing_id, "variant_id": variant, "quantity": 1}],
            "ship_to": ADDRESS,
            "incoterm": "DAP",
        }
        response = committed.app.test_client().post(
            "/api/v1/orders", json=body, headers={"Authorization": f"Bearer {buyer.token}"}
        )
        return response.status_code, variant

    results = _at_once(
        [lambda b=b, i=i: order(b, red if i % 2 else blue) for i, b in enumerate(buyers)]
    )
    won = [variant for status, variant in results if status == 201]
    assert sorted(status for status, _v in results) == [201] * 5 + [409] * 11, results
    assert won.count(red) == 3 and won.count(blue) == 2
    with Session(committed.engine) as session:
        stocks = dict(
            session.execute(
                select(ListingVariant.id, ListingVariant.stock).where(
                    ListingVariant.listing_id == listing_id
                )
            ).all()
        )
        assert stocks == {red: 0, blue: 0}
        sold = dict(
            session.execute(
                select(OrderLine.variant_id, func.sum(OrderLine.quantity))
                .where(OrderLine.listing_id == listing_id)
                .group_by(OrderLine.variant_id)
            ).all()
        )
        assert sold == {red: 3, blue: 2}


def test_twenty_buyers_racing_for_five_units_buy_exactly_five(committed: Committed) -> None:
    listing = _listing(committed, stock=5, sku="RACE-5")
    buyers = [committed.api.user(f"Buyer {i}") for i in range(20)]
    results = _at_once([lambda b=b: _order(committed.app, b, [(listing, 1)]) for b in buyers])
    statuses = sorted(status for status, _body in results)
    assert statuses == [201] * 5 + [409] * 15, results
    assert all(body["code"] == "insufficient_stock" for status, body in results if status == 409)
    with Session(committed.engine) as session:
        assert (
            session.scalar(
                select(func.sum(ListingVariant.stock)).where(ListingVariant.listing_id == listing)
            )
            == 0
        )
        sold = session.scalar(
            select(func.sum(OrderLine.quantity)).where(OrderLine.listing_id == listing)
        )
        assert sold == 5


def test_the_same_idempotency_key_sent_twice_at_once_creates_one_order(
    committed: Committed,
) -> None:
    listing = _listing(committed, stock=10, sku="IDEM")
    buyer = committed.api.user("Double clicker")
    results = _at_once(
        [lambda: _order(committed.app, buyer, [(listing, 2)], key="double-click")] * 2
    )
    assert [status for status, _body in results] == [201, 201], results
    assert results[0][1]["id"] == results[1][1]["id"]
    with Session(committed.engine) as session:
        assert (
            session.scalar(
                select(func.count()).select_from(Order).where(Order.buyer_id == buyer.id)
            )
            == 1
        )
        assert (
            session.scalar(
                select(func.sum(ListingVariant.stock)).where(ListingVariant.listing_id == listing)
            )
            == 8
        )


def test_orders_taking_the_same_listings_in_opposite_order_never_deadlock(
    committed: Committed,
) -> None:
    first = _listing(committed, stock=100, sku="PAIR-A")
    second = _listing(committed, stock=100, sku="PAIR-B")
    buyers = [committed.api.user(f"Pair buyer {i}") for i in range(8)]
    results = _at_once(
        [
            lambda b=b, i=i: _order(
                committed.app, b, [(first, 1), (second, 1)][:: 1 if i % 2 else -1]
            )
            for i, b in enumerate(buyers)
        ]
    )
    assert [status for status, _body in results] == [201] * 8, results
    with Session(committed.engine) as session:
        stocks = session.scalars(
            select(ListingVariant.stock).where(ListingVariant.listing_id.in_([first, second]))
        ).all()
        assert stocks == [92, 92]


# ---------------------------------------------------------------------------------------------
# Carts completing at once


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
        assert (
            session.scalar(
                select(func.sum(ListingVariant.stock)).where(ListingVariant.listing_id == listing)
            )
            == 0
        )
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
        assert (
            session.scalar(
                select(func.sum(ListingVariant.stock)).where(ListingVariant.listing_id == listing)
            )
            == 7
        )
