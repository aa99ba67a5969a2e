"""Benchmark of the embedded default: SQLite in WAL mode serving catalogue pages while orders
are placed, against the same pages alone.

`make run`'s server (config/gunicorn.conf.py without REDIS_URL: one process, 8 threads) on a
fresh SQLite file with the demo marketplace; 8 keep-alive clients read catalogue pages, first
alone, then while 2 more clients place orders. Reads run in deferred transactions, so they do not
wait for the write lock the orders take (BEGIN IMMEDIATE). Alone:
`.venv/bin/python -m tests.bench_sqlite_reads [seconds]`.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import threading
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import update
from sqlalchemy.orm import Session

from marketplace import create_app
from marketplace.catalogue.models import ListingVariant
from marketplace.db import make_engine
from marketplace.demo import load_demo
from marketplace.reference import load_all
from tests.live import gunicorn, migrated_database
from tests.orders.bench_orders import load, percentile

READERS = 8
WRITERS = 2
PAGE = "/api/v1/catalogue?" + urlencode({"locale": "ru", "currency": "EUR", "limit": 20})
# Orders are placed as fast as they go: the per-buyer hoarding limits stay out of the way.
UNLIMITED = {
    "MAX_UNPAID_ORDERS_PER_BUYER": "100000000",
    "MAX_RESERVED_UNITS_PER_BUYER_LISTING": "100000000",
    "TOKEN_RATE_LIMIT": "100000 per minute",
}


def _seed(url: str) -> None:
    app = create_app({"APP_ENV": "development", "DATABASE_URL": url})
    engine = make_engine(url)
    with Session(engine) as session:
        load_all(session)
        load_demo(session, app.config["MARKETPLACE"])
        session.execute(update(ListingVariant).values(stock=100_000_000))
        session.commit()
    engine.dispose()


def _json(connection: http.client.HTTPConnection, method: str, path: str, **kw: Any) -> Any:
    connection.request(method, path, **kw)
    response = connection.getresponse()
    return response.status, json.loads(response.read() or b"null")


def _order_body(port: int) -> tuple[str, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    credentials = json.dumps({"email": "buyer@demo.example", "password": "silk-road-demo"})
    _s, token = _json(
        connection,
        "POST",
        "/api/v1/auth/tokens",
        body=credentials,
        headers={"Content-Type": "application/json"},
    )
    query = urlencode({"ship_to": "KZ", "currency": "KZT", "q": "tea"})
    _s, page = _json(connection, "GET", f"/api/v1/catalogue?{query}")
    body = {
        "currency": "KZT",
        "lines": [{"listing_id": page["items"][0]["id"], "quantity": 1}],
        "ship_to": {"name": "A", "line1": "5 Dostyk", "city": "Almaty", "country": "KZ"},
        "incoterm": "DDP",
    }
    return token["token"], json.dumps(body)


def bench_sqlite_reads(seconds: float = 8.0) -> list[str]:
    previous = os.environ.get("TEST_DATABASE_URL")
    os.environ["TEST_DATABASE_URL"] = "sqlite"  # a temporary SQLite file, whatever the suite uses
    database = migrated_database()
    url = next(database)
    try:
        _seed(url)
        with gunicorn(url, APP_ENV="development", **UNLIMITED) as port:
            token, body = _order_body(port)
            return _run(port, seconds, token, body)
    finally:
        database.close()
        if previous is None:
            os.environ.pop("TEST_DATABASE_URL", None)
        else:
            os.environ["TEST_DATABASE_URL"] = previous


def _run(port: int, seconds: float, token: str, body: str) -> list[str]:
    def read(connection: http.client.HTTPConnection, _index: int) -> int:
        connection.request("GET", PAGE)
        response = connection.getresponse()
        response.read()
        return response.status

    def order(connection: http.client.HTTPConnection, _index: int) -> int:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        connection.request("POST", "/api/v1/orders", body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status

    alone = load(port, seconds, read, READERS)
    orders: list[tuple[int, list[float], int]] = []
    writers = threading.Thread(target=lambda: orders.append(load(port, seconds, order, WRITERS)))
    writers.start()
    mixed = load(port, seconds, read, READERS)
    writers.join()
    return _report(seconds, alone, mixed, orders[0])


def _report(
    seconds: float,
    alone: tuple[int, list[float], int],
    mixed: tuple[int, list[float], int],
    orders: tuple[int, list[float], int],
) -> list[str]:
    def row(label: str, figures: tuple[int, list[float], int]) -> str:
        done, latencies, failed = figures
        p50, p99 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000
        return f"| {label} | {done / seconds:.1f} | {p50:.1f} | {p99:.1f} | {p99 / p50:.1f} | {failed} |"

    ratio = (mixed[0] / seconds) / (alone[0] / seconds)
    return [
        "",
        "SQLite (WAL), make run's server: 1 process, 8 threads",
        "| scenario | req/s | p50 ms | p99 ms | p99/p50 | failures |",
        "|---|---:|---:|---:|---:|---:|",
        row(f"catalogue page alone, {READERS} clients", alone),
        row(f"catalogue page while orders are placed, {READERS} clients", mixed),
        row(f"orders placed meanwhile, {WRITERS} clients", orders),
        f"catalogue under order load: {ratio:.0%} of its rate alone",
    ]


if __name__ == "__main__":
    for line in bench_sqlite_reads(float(sys.argv[1]) if len(sys.argv) > 1 else 8.0):
        print(line)
