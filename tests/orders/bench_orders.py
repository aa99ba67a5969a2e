"""Benchmark of order placement on PostgreSQL: 4 concurrent clients against gunicorn, orders/s, p50/p99.

`make bench` calls `bench_orders()`; alone: `.venv/bin/python -m tests.orders.bench_orders`.
A fresh PostgreSQL database (TEST_DATABASE_URL, default the local server) is migrated and seeded
(two sellers in CNY and TRY, listings with ample stock, a rate set, buyers), gunicorn serves
it with the production settings, and each client places two-seller orders in KZT (DDP, so the
customs engine runs) over a keep-alive connection, each buyer as many as the product's hoarding
limits let one buyer hold unpaid, so every order should succeed (refusals print as failures). The same clients then hit GET /healthz for
the ceiling of this machine, so the two figures come from one run and compare fairly.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import math
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable
from decimal import Decimal

from alembic import command
from sqlalchemy.orm import Session

from config import DEFAULTS
from marketplace.accounts import services as accounts
from marketplace.accounts.models import ApiToken, OrganisationKind, User
from marketplace.catalogue.models import Listing
from marketplace.cli import alembic_config
from marketplace.db import make_engine, new_id, utcnow
from marketplace.money import Money
from marketplace.money import services as money
from marketplace.money.models import SourceKind
from marketplace.money.sources import IncomingRates
from marketplace.orders import shipping
from marketplace.reference import load_all
from tests.database import fresh_database
from tests.live import gunicorn

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
CLIENTS = 4
# The product's hoarding limits stand (the server runs with the defaults): each buyer places at
# most this many orders, of one unit per listing, so no order is refused for hoarding.
ORDERS_PER_BUYER = int(DEFAULTS["MAX_UNPAID_ORDERS_PER_BUYER"])
# Buyers are made for at most this many orders a second per client (far above this machine's);
# beyond it a client's last buyer is refused, and the refusals show as failures.
MAX_ORDERS_PER_CLIENT_SECOND = 100
RATES = {"CNY": "7.7341", "TRY": "35.1234", "KZT": "512.3456", "USD": "1.0832"}


def _seed(url: str) -> tuple[list[str], list[str]]:
    """Migrate and fill the database; returns the buyers' tokens and the listing ids."""
    engine = make_engine(url)
    config = alembic_config(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    hasher = accounts.make_password_hasher(1024, 1)
    now = utcnow()
    with Session(engine) as session:
        load_all(session)
        money.store_rates(
            session,
            IncomingRates(
                "EUR", now.date(), SourceKind.OPERATOR, {k: Decimal(v) for k, v in RATES.items()}
            ),
            now,
        )
        listings = []
        for name, country, currency, price, grams, hs_code in (
            ("Bench tea", "CN", "CNY", 12_800, 250, "090210"),
            ("Bench carpets", "TR", "TRY", 95_000, 2_000, "570110"),
        ):
            owner = accounts.register(
                session,
                email=f"{country}@bench.test",
                password="bench-password",
                name=name,
                hasher=hasher,
            )
            seller = accounts.create_organisation(
                session,
                owner,
                OrganisationKind.SELLER,
                {
                    "name": name,
                    "country": country,
                    "currency": currency,
                    "locale": "en",
                    "address": {"line1": "1 Bench Road", "city": "Bench", "country": country},
                },
            )
            shipping.replace_rates(
                session,
                owner,
                seller.id,
                [
                    shipping.RateRow(
                        ("*",), Money(Decimal(10), currency), Money(Decimal(5), currency)
                    )
                ],
            )
            listing = Listing(
                seller_id=seller.id,
                sku=f"BENCH-{country}",
                language="en",
                title=name,
                description="",
                price_minor=price,
                currency=currency,
                stock=1_000_000_000,
                weight_grams=grams,
                hs_code=hs_code,
                origin_country=country,
                ships_everywhere=True,
                status="published",
            )
            session.add(listing)
            session.flush()
            listings.append(listing.id)
        tokens = []
        for index in range(CLIENTS):
            email = f"buyer{index}@bench.test"
            accounts.register(
                session, email=email, password="bench-password", name="Buyer", hasher=hasher
            )
            raw, _token = accounts.issue_token(
                session,
                email=email,
                password="bench-password",
                hasher=hasher,
                ttl_seconds=3600,
                now=now,
            )
            tokens.append(raw)
        session.commit()
    engine.dispose()
    return tokens, listings


def buyers(url: str, count: int) -> list[str]:
    """`count` buyers with a bearer token each, written straight to the database: no password
    hash each (none of them ever logs in)."""
    engine = make_engine(url)
    now = utcnow()
    raw = [secrets.token_urlsafe(32) for _ in range(count)]
    ids = [new_id() for _ in raw]
    with Session(engine) as session:
        for user_id in ids:
            email = f"buyer-{user_id}@bench.test"
            session.add(
                User(
                    id=user_id,
                    email=email,
                    email_key=email,
                    password_hash=accounts.NO_PASSWORD,
                    name="Buyer",
                    created_at=now,
                )
            )
        session.flush()  # the users before their tokens (no relationship orders them)
        for user_id, token in zip(ids, raw, strict=True):
            session.add(
                ApiToken(
                    user_id=user_id,
                    token_hash=accounts.hash_token(token),
                    expires_at=now + dt.timedelta(hours=1),
                )
            )
        session.commit()
    engine.dispose()
    return raw


class BuyerPool:
    """Each client's own buyers, each used for `ORDERS_PER_BUYER` orders then the next: a bench
    of successful orders under the product's own hoarding limits."""

    def __init__(self, url: str, seconds: float, clients: int = CLIENTS) -> None:
        per_client = math.ceil((seconds + 1) * MAX_ORDERS_PER_CLIENT_SECOND / ORDERS_PER_BUYER)
        tokens = buyers(url, per_client * clients)
        self._tokens = [tokens[i * per_client : (i + 1) * per_client] for i in range(clients)]
        self._used = [0] * clients

    def token(self, client: int) -> str:
        """The token for this client's next order."""
        mine = self._tokens[client]
        index = min(self._used[client] // ORDERS_PER_BUYER, len(mine) - 1)
        self._used[client] += 1
        return mine[index]


def load(
    port: int,
    seconds: float,
    request: Callable[[http.client.HTTPConnection, int], int],
    clients: int = CLIENTS,
) -> tuple[int, list[float], int]:
    """Run `clients` threads for `seconds`; returns completed requests, latencies (s), failures."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    failures = [0] * clients
    barrier = threading.Barrier(clients)
    stop = time.monotonic() + seconds + 1  # refined after the barrier

    def client(index: int) -> None:
        nonlocal stop
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        request(connection, index)  # warm-up: connection open, worker caches filled
        barrier.wait()
        if index == 0:
            stop = time.monotonic() + seconds
        while time.monotonic() < stop:
            started = time.perf_counter()
            status = request(connection, index)
            latencies[index].append(time.perf_counter() - started)
            if status >= 300:
                failures[index] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    merged = sorted(latency for per_client in latencies for latency in per_client)
    return len(merged), merged, sum(failures)


def percentile(sorted_values: list[float], share: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(share * len(sorted_values)))]


def bench_orders(seconds: float = 10.0, catalogue_ceiling: float | None = None) -> list[str]:
    """Figures as printable lines: orders/s with p50/p99, and the /healthz ceiling of the same run.

    `make bench` passes its precomputed-JSON ceiling (req/s) so orders are also compared with it.
    """
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgresql"):
        url = DEFAULT_URL
    previous = os.environ.get("TEST_DATABASE_URL")
    os.environ["TEST_DATABASE_URL"] = url
    try:
        with fresh_database("bench_orders") as database:
            _tokens, listings = _seed(database)
            pool = BuyerPool(database, seconds)
            with gunicorn(
                database,
                APP_ENV="development",
                WEB_CONCURRENCY=os.environ.get("WEB_CONCURRENCY", "2"),
                # Several workers need their rate limits shared (gunicorn.conf.py insists).
                REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
            ) as port:
                body = json.dumps(
                    {
                        "currency": "KZT",
                        "lines": [{"listing_id": listing, "quantity": 1} for listing in listings],
                        "ship_to": {"line1": "12 Abay Avenue", "city": "Almaty", "country": "KZ"},
                        "incoterm": "DDP",
                    }
                )

                def place(connection: http.client.HTTPConnection, index: int) -> int:
                    connection.request(
                        "POST",
                        "/api/v1/orders",
                        body=body,
                        headers={
                            "Authorization": f"Bearer {pool.token(index)}",
                            "Content-Type": "application/json",
                        },
                    )
                    response = connection.getresponse()
                    response.read()
                    return response.status

                def health(connection: http.client.HTTPConnection, _index: int) -> int:
                    connection.request("GET", "/healthz")
                    response = connection.getresponse()
                    response.read()
                    return response.status

                placed, order_latency, failed = load(port, seconds, place)
                served, health_latency, _ = load(port, seconds, health)
    finally:
        if previous is None:
            os.environ.pop("TEST_DATABASE_URL", None)
        else:
            os.environ["TEST_DATABASE_URL"] = previous
    orders_per_s = placed / seconds
    ceiling = served / seconds
    p50, p99 = percentile(order_latency, 0.50) * 1000, percentile(order_latency, 0.99) * 1000
    lines = [
        f"orders: place a 2-seller DDP order on PostgreSQL, {CLIENTS} clients, {seconds:.0f} s: "
        f"{orders_per_s:.1f} orders/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms (p99/p50 {p99 / p50:.1f}), "
        f"{failed} failed",
        f"orders: same run's GET /healthz ceiling {ceiling:.0f} req/s (p50 "
        f"{percentile(health_latency, 0.5) * 1000:.1f} ms); orders are {orders_per_s / ceiling:.1%} of it "
        f"(target >= 2%), at {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
    ]
    if catalogue_ceiling:
        lines.append(
            f"orders: {orders_per_s / catalogue_ceiling:.1%} of the catalogue's precomputed-JSON ceiling "
            f"({catalogue_ceiling:.0f} req/s, new connection per request) (target >= 2%); "
            f"p99 {p99 / p50:.1f}x p50 (target <= 3x)"
        )
    return lines


if __name__ == "__main__":
    for line in bench_orders(float(sys.argv[1]) if len(sys.argv) > 1 else 10.0):
        print(line)
