"""Benchmark of carts on PostgreSQL: reading a priced cart and completing carts, 4 clients.

`make bench` calls `bench_checkout()`; alone: `.venv/bin/python -m tests.bench_checkout`. On one
fresh database and one gunicorn (the orders benchmark's seed plus a third listing), the same run
measures a listing's catalogue detail, a priced cart read (3 lines, 2 sellers, DDP to KZ),
placing 2-seller orders with POST /orders, and completing prepared 2-seller carts, then prints
the ratios the targets name: cart read <= 2x a listing detail's p50, completion >= 90% of
POST /orders throughput, completion p99 <= 3x p50. The two figures of each ratio are measured
in alternating slices (`ROUNDS`), so that a burst of other work on the machine falls on both.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import sys
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import ApiToken, User
from marketplace.accounts.services import hash_token
from marketplace.catalogue.models import Listing
from marketplace.checkout.models import Cart, CartLine
from marketplace.db import make_engine, utcnow
from tests.database import fresh_database
from tests.live import gunicorn
from tests.orders.bench_orders import (
    CLIENTS,
    DEFAULT_URL,
    ORDERS_PER_BUYER,
    BuyerPool,
    _seed,
    buyers,
    percentile,
)
from tests.orders.bench_orders import load as _load

SHIP_TO = {
    "name": "Aigerim Bekova",
    "line1": "12 Abay Avenue",
    "city": "Almaty",
    "country": "KZ",
    "phone": "+7 701 234 5678",
}


def _third_listing(url: str, listings: list[str]) -> str:
    engine = make_engine(url)
    with Session(engine) as session:
        tea = session.get(Listing, listings[0])
        assert tea is not None
        oolong = Listing(
            seller_id=tea.seller_id,
            sku="BENCH-CN-2",
            language="en",
            title="Bench oolong",
            description="",
            price_minor=9_900,
            currency="CNY",
            stock=1_000_000_000,
            weight_grams=200,
            hs_code="090230",
            origin_country="CN",
            ships_everywhere=True,
            status="published",
        )
        session.add(oolong)
        session.commit()
        listing_id = oolong.id
    engine.dispose()
    return listing_id


def _prepared_carts(url: str, listings: list[str], per_client: int) -> list[list[tuple[str, str]]]:
    """Each client's carts ready to complete (2 lines, 2 sellers) with their buyers' tokens,
    written straight to the database: `ORDERS_PER_BUYER` carts a buyer, so that completing them
    all stays within the product's hoarding limits."""
    tokens = buyers(url, math.ceil(per_client / ORDERS_PER_BUYER) * CLIENTS)
    engine = make_engine(url)
    now = utcnow()
    carts: list[list[tuple[str, str]]] = [[] for _ in range(CLIENTS)]
    with Session(engine) as session:
        for number, token in enumerate(tokens):
            user_id = session.scalar(
                select(ApiToken.user_id).where(ApiToken.token_hash == hash_token(token))
            )
            assert session.get(User, user_id) is not None
            mine = carts[number % CLIENTS]
            for _ in range(ORDERS_PER_BUYER):
                cart = Cart(
                    user_id=user_id,
                    currency="KZT",
                    incoterm="DDP",
                    ship_to=SHIP_TO,
                    created_at=now,
                    updated_at=now,
                )
                cart.lines = [
                    CartLine(listing_id=listing, quantity=1, position=position)
                    for position, listing in enumerate(listings[:2])
                ]
                session.add(cart)
                session.flush()
                mine.append((cart.id, token))
        session.commit()
    engine.dispose()
    return carts


def _request(
    method: str, path: str, token: str | None = None, body: Any = None
) -> Callable[[http.client.HTTPConnection, int], int]:
    def call(connection: http.client.HTTPConnection, _index: int) -> int:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        connection.request(
            method, path, body=None if body is None else json.dumps(body), headers=headers
        )
        response = connection.getresponse()
        response.read()
        return response.status

    return call


def _figures(
    label: str, count: int, latencies: list[float], failed: int, seconds: float
) -> dict[str, Any]:
    p50, p99 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000
    print(
        f"checkout: {label}, {CLIENTS} clients, {seconds:.0f} s: {count / seconds:.1f} req/s, "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms (p99/p50 {p99 / p50:.1f}), {failed} failed"
    )
    return {"rps": count / seconds, "p50": p50, "p99": p99}


def bench_checkout(seconds: float = 8.0) -> list[str]:
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgresql"):
        url = DEFAULT_URL
    previous = os.environ.get("TEST_DATABASE_URL")
    os.environ["TEST_DATABASE_URL"] = url
    try:
        with fresh_database("bench_checkout") as database:
            tokens, listings = _seed(database)
            listings.append(_third_listing(database, listings))
            with gunicorn(
                database,
                APP_ENV="development",
                WEB_CONCURRENCY=os.environ.get("WEB_CONCURRENCY", "2"),
                # Several workers need their rate limits shared (gunicorn.conf.py insists).
                REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
            ) as port:
                results = _run(database, port, tokens, listings, seconds)
    finally:
        if previous is None:
            os.environ.pop("TEST_DATABASE_URL", None)
        else:
            os.environ["TEST_DATABASE_URL"] = previous
    detail, read, orders, complete = (results[k] for k in ("detail", "read", "orders", "complete"))
    return [
        f"checkout: cart read p50 {read['p50']:.1f} ms = {read['p50'] / detail['p50']:.2f}x a listing "
        f"detail's p50 {detail['p50']:.1f} ms (target <= 2x)",
        f"checkout: cart completion {complete['rps']:.1f}/s = {complete['rps'] / orders['rps']:.0%} of "
        f"POST /orders {orders['rps']:.1f}/s (target >= 90%); completion p99 "
        f"{complete['p99'] / complete['p50']:.1f}x p50 (target <= 3x)",
    ]


# Each pair of figures that a target compares is measured in alternating slices, this many
# each, so that whatever else the machine is doing falls on both alike.
ROUNDS = 4

Load = tuple[int, list[float], int]  # requests done, their latencies (s), failures


def _alternating(
    port: int,
    seconds: float,
    first: Callable[[http.client.HTTPConnection, int], int],
    second: Callable[[http.client.HTTPConnection, int], int],
    before_second: Callable[[Load], None] | None = None,
) -> tuple[Load, Load]:
    """`first` and `second` for `seconds` each, in `ROUNDS` alternating slices; `before_second`
    is told what `first`'s last slice did before each slice of `second` (not timed)."""
    done: list[Load] = [(0, [], 0), (0, [], 0)]
    for _ in range(ROUNDS):
        for index, request in enumerate((first, second)):
            count, latencies, failed = _load(port, seconds / ROUNDS, request)
            if index == 0 and before_second is not None:
                before_second((count, latencies, failed))
            total = done[index]
            done[index] = (total[0] + count, sorted(total[1] + latencies), total[2] + failed)
    return done[0], done[1]


def _run(
    database: str, port: int, tokens: list[str], listings: list[str], seconds: float
) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    detail = _request("GET", f"/api/v1/catalogue/{listings[0]}?currency=KZT&locale=en")

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    cart_paths = []
    for token in tokens:
        connection.request(
            "POST",
            "/api/v1/carts",
            body=json.dumps({"currency": "KZT", "incoterm": "DDP", "ship_to": SHIP_TO}),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        cart = json.loads(connection.getresponse().read())
        for listing in listings:
            _request(
                "POST",
                f"/api/v1/carts/{cart['id']}/lines",
                token,
                {"listing_id": listing, "quantity": 1},
            )(connection, 0)
        cart_paths.append(f"/api/v1/carts/{cart['id']}")

    def read(connection: http.client.HTTPConnection, index: int) -> int:
        return _request("GET", cart_paths[index], tokens[index])(connection, index)

    details, reads = _alternating(port, seconds, detail, read)
    results["detail"] = _figures("listing detail", *details, seconds)
    results["read"] = _figures("priced cart read (3 lines, 2 sellers, DDP)", *reads, seconds)

    order_body = {
        "currency": "KZT",
        "lines": [{"listing_id": listing, "quantity": 1} for listing in listings[:2]],
        "ship_to": SHIP_TO,
        "incoterm": "DDP",
    }

    pool = BuyerPool(database, seconds)

    def place(connection: http.client.HTTPConnection, index: int) -> int:
        return _request("POST", "/api/v1/orders", pool.token(index), order_body)(connection, index)

    prepared: list[list[tuple[str, str]]] = []

    def prepare(orders: Load) -> None:
        """Carts for the next completion slice: twice what the orders slice placed, and some."""
        prepared[:] = _prepared_carts(database, listings, int(orders[0] / CLIENTS * 2) + 50)

    def complete(connection: http.client.HTTPConnection, index: int) -> int:
        cart_id, token = prepared[index].pop()
        return _request("POST", f"/api/v1/carts/{cart_id}/complete", token)(connection, index)

    orders, completions = _alternating(port, seconds, place, complete, prepare)
    results["orders"] = _figures("POST /orders (2 sellers, DDP)", *orders, seconds)
    results["complete"] = _figures("cart completion (2 sellers, DDP)", *completions, seconds)
    return results


if __name__ == "__main__":
    for line in bench_checkout(float(sys.argv[1]) if len(sys.argv) > 1 else 8.0):
        print(line)
