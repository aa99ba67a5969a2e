"""`make bench`: the catalogue under load on PostgreSQL with 100,000 listings.

It creates its own database, seeds 100,000 listings (three translations each, six currencies),
serves the application with gunicorn (2 sync workers) on a loopback port, and drives load from
this process (asyncio, a fresh connection per request as sync workers close them) for a fixed
time per scenario. It prints requests per second and p50/p99 latency for: a browse page, a
price-range filter in another currency, a listing's detail, and the same browse page
served as precomputed JSON by the same application (the framework's ceiling), with the ratio of
each to that ceiling and the SQL statements each request issued; then tests/bench_search.py's
searches and type-ahead against that browse page. The database is dropped at the end. It then downloads an issued customs document (a 20-line invoice PDF, as its buyer)
over HTTP, prints `tests.customs.bench_documents` (rendering and issuing a shipment's PDFs in
this process, on one core), `tests.bench_catalogue` (the catalogue page, with three images per
listing, against a hand-written reference view in the same run), and `tests.orders.bench_orders` (order placement with 4 concurrent
clients against gunicorn on its own fresh database, compared with that run's /healthz ceiling and
with the catalogue's precomputed-JSON ceiling above), `tests.bench_checkout` (a priced cart
read and cart completion against a listing detail and POST /orders of the same run), and
`tests.bench_events` (webhook delivery throughput and lag with a worker on Redis; two instances
and two workers under a storm). Settings: BENCH_DATABASE_URL (an admin URL, default the local `postgres`),
BENCH_SECONDS per scenario (default 8), BENCH_LISTINGS (default 100000), BENCH_CONCURRENCY (8).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psycopg
from flask import Flask, Response, g, has_app_context
from psycopg import sql
from sqlalchemy import event
from sqlalchemy.orm import Session

from tests import bench_search

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))
LISTINGS = int(os.environ.get("BENCH_LISTINGS", "100000"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
CEILING_FILE = "BENCH_CEILING_FILE"

# 1 EUR = ... ; the demo sellers' currencies plus the two most common display ones.
RATES = {
    "USD": "1.0832",
    "CNY": "7.8231",
    "KZT": "545.12",
    "UZS": "13650",
    "TRY": "37.41",
    "PKR": "301.2",
    "AED": "3.978",
}
SELLER_COUNTRIES = [
    ("CN", "CNY", "zh-Hans"),
    ("KZ", "KZT", "kk"),
    ("UZ", "UZS", "ru"),
    ("TR", "TRY", "tr"),
    ("PK", "PKR", "en"),
    ("AE", "AED", "ar"),
]
# (category, hs_code, typical price in EUR, words per locale)
GOODS = [
    (
        "green-tea",
        "090210",
        25,
        {
            "en": "green tea",
            "ru": "зелёный чай",
            "zh-Hans": "绿茶",
            "kk": "көк шай",
            "tr": "yeşil çay",
            "ar": "شاي أخضر",
        },
    ),
    (
        "black-tea",
        "090230",
        18,
        {
            "en": "black tea",
            "ru": "чёрный чай",
            "zh-Hans": "红茶",
            "kk": "қара шай",
            "tr": "siyah çay",
            "ar": "شاي أسود",
        },
    ),
    (
        "silk-fabric",
        "500720",
        90,
        {
            "en": "silk fabric",
            "ru": "шёлковая ткань",
            "zh-Hans": "丝绸面料",
            "kk": "жібек мата",
            "tr": "ipek kumaş",
            "ar": "قماش حرير",
        },
    ),
    (
        "scarves-shawls",
        "621410",
        45,
        {
            "en": "silk scarf",
            "ru": "шёлковый платок",
            "zh-Hans": "丝巾",
            "kk": "жібек орамал",
            "tr": "ipek eşarp",
            "ar": "وشاح حرير",
        },
    ),
    (
        "hand-knotted-carpets",
        "570110",
        900,
        {
            "en": "wool carpet",
            "ru": "шерстяной ковёр",
            "zh-Hans": "羊毛地毯",
            "kk": "жүн кілем",
            "tr": "yün halı",
            "ar": "سجادة صوف",
        },
    ),
    (
        "kilims",
        "570210",
        300,
        {
            "en": "kilim rug",
            "ru": "килим",
            "zh-Hans": "基里姆毯",
            "kk": "алаша",
            "tr": "kilim",
            "ar": "كليم",
        },
    ),
    (
        "porcelain",
        "691110",
        60,
        {
            "en": "porcelain tea set",
            "ru": "фарфоровый сервиз",
            "zh-Hans": "瓷器茶具",
            "kk": "фарфор сервиз",
            "tr": "porselen takım",
            "ar": "طقم شاي بورسلين",
        },
    ),
    (
        "dates",
        "080410",
        15,
        {
            "en": "dates",
            "ru": "финики",
            "zh-Hans": "椰枣",
            "kk": "құрма",
            "tr": "hurma",
            "ar": "تمر",
        },
    ),
    (
        "dried-apricots-raisins",
        "081310",
        12,
        {
            "en": "dried apricots",
            "ru": "курага",
            "zh-Hans": "杏干",
            "kk": "өрік қағы",
            "tr": "kuru kayısı",
            "ar": "مشمش مجفف",
        },
    ),
    (
        "spices",
        "091091",
        8,
        {
            "en": "spice mix",
            "ru": "смесь специй",
            "zh-Hans": "混合香料",
            "kk": "дәмдеуіш қоспасы",
            "tr": "baharat karışımı",
            "ar": "خلطة توابل",
        },
    ),
    (
        "felt",
        "640520",
        35,
        {
            "en": "felt slippers",
            "ru": "войлочные тапочки",
            "zh-Hans": "毛毡拖鞋",
            "kk": "киіз шәркей",
            "tr": "keçe terlik",
            "ar": "خف لباد",
        },
    ),
    (
        "cables-chargers",
        "854442",
        10,
        {
            "en": "USB-C cable",
            "ru": "кабель USB-C",
            "zh-Hans": "USB-C数据线",
            "kk": "USB-C кабелі",
            "tr": "USB-C kablo",
            "ar": "كابل USB-C",
        },
    ),
]
ADJECTIVES = {
    "en": ["fine", "handmade", "premium", "classic", "organic"],
    "ru": ["отборный", "ручной работы", "премиум", "классический", "органический"],
    "zh-Hans": ["精选", "手工", "特级", "经典", "有机"],
    "kk": ["таңдаулы", "қолдан жасалған", "премиум", "классикалық", "органикалық"],
    "tr": ["seçme", "el yapımı", "birinci sınıf", "klasik", "organik"],
    "ar": ["ممتاز", "مصنوع يدويًا", "فاخر", "كلاسيكي", "عضوي"],
}
LOCALES = list(ADJECTIVES)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- the application gunicorn serves -----------------------------------------------------------


def bench_app() -> Flask:
    """The real application plus the ceiling route and a per-request SQL statement count."""
    from marketplace import create_app

    app = create_app()
    engine = app.extensions["marketplace"]["session_factory"].kw["bind"]
    ceiling: dict[str, bytes] = {}

    @event.listens_for(engine, "before_cursor_execute")
    def _count(*_args: Any) -> None:
        if has_app_context():
            g.sql_statements = g.get("sql_statements", 0) + 1

    @app.after_request
    def _report(response: Response) -> Response:
        response.headers["X-SQL-Statements"] = str(g.get("sql_statements", 0))
        return response

    @app.get("/bench/ceiling")
    def _ceiling() -> Response:
        if "body" not in ceiling:
            ceiling["body"] = Path(os.environ[CEILING_FILE]).read_bytes()
        return Response(ceiling["body"], mimetype="application/json")

    return app


# --- seeding -------------------------------------------------------------------------------------


def seed(url: str) -> tuple[list[str], Any]:
    """Migrate, load reference data and rates, and bulk-load the listings; returns some ids."""
    from alembic import command

    from marketplace.catalogue import pricing
    from marketplace.catalogue.models import PriceBasis
    from marketplace.cli import alembic_config
    from marketplace.db import make_engine
    from marketplace.money import minor_units
    from marketplace.money import services as money_services
    from marketplace.money.models import SourceKind
    from marketplace.money.sources import IncomingRates
    from marketplace.reference import load_all

    engine = make_engine(url)
    config = alembic_config(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    with Session(engine) as session:
        load_all(session)
        incoming = IncomingRates(
            base="EUR",
            as_of=dt.datetime.now(dt.UTC).date(),
            source=SourceKind.OPERATOR,
            rates={c: Decimal(r) for c, r in RATES.items()},
        )
        money_services.store_rates(session, incoming, dt.datetime.now(dt.UTC))
        session.flush()
        rates = money_services.current_table(session)
        session.add(PriceBasis(id=1, rates_key=pricing.rates_key(rates)))
        session.commit()

    rng = random.Random(20261128)
    sellers = []
    for i in range(60):
        country, currency, locale = SELLER_COUNTRIES[i % len(SELLER_COUNTRIES)]
        sellers.append((str(uuid.uuid4()), f"Bench seller {i}", country, currency, locale))
    now = dt.datetime.now(dt.UTC)
    listings, translations, destinations, sample = [], [], [], []
    for n in range(LISTINGS):
        seller_id, _name, country, currency, language = sellers[n % len(sellers)]
        g_index = rng.randrange(len(GOODS))
        category, hs_code, eur, names = GOODS[g_index]
        adjective = rng.randrange(5)
        price = (
            Decimal(eur)
            * Decimal(rng.randrange(50, 200)).scaleb(-2)
            * Decimal(RATES.get(currency, "1"))
        )
        price_minor = int(price.scaleb(minor_units(currency)).to_integral_value())
        listing_id = str(uuid.uuid4())
        others = [loc for loc in LOCALES if loc != language]
        rng.shuffle(others)
        texts = [language, *others[:3]]
        title = f"{ADJECTIVES[language][adjective]} {names[language]} №{n}"
        description = f"{names[language]} — {country}, {category}"
        everywhere = rng.random() < 0.5
        created = now - dt.timedelta(seconds=rng.randrange(365 * 86400))
        status = "published" if rng.random() < 0.97 else "draft"
        listings.append(
            (
                listing_id,
                seller_id,
                f"B{n:06d}",
                language,
                title,
                description,
                category,
                price_minor,
                currency,
                pricing.normalized(price_minor, currency, rates),
                rng.choice([0] + [rng.randrange(1, 500)] * 9),
                rng.randrange(100, 5000),
                hs_code,
                country,
                everywhere,
                status,
                "",  # written with the search index (tests/bench_search.py)
                created,
                created,
            )
        )
        for loc in texts[1:]:
            translations.append(
                (
                    listing_id,
                    loc,
                    f"{ADJECTIVES[loc][adjective]} {names[loc]} №{n}",
                    f"{names[loc]} — {country}",
                    created,
                )
            )
        if not everywhere:
            for destination in rng.sample(
                ["KZ", "UZ", "RU", "TR", "AE", "CN", "DE", "PK", "KG", "AZ"], 3
            ):
                destinations.append((listing_id, destination))
        if n % 500 == 0 and status == "published":
            sample.append(listing_id)

    with psycopg.connect(url) as connection:
        connection.execute(
            "INSERT INTO organisations (id, kind, name, country, address, currency, locale, created_at) "
            "SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::json[], %s::text[], %s::text[], %s::timestamptz[])",
            (
                [s[0] for s in sellers],
                ["seller"] * len(sellers),
                [s[1] for s in sellers],
                [s[2] for s in sellers],
                [
                    json.dumps({"line1": "1 Bench Street", "city": "Bench", "country": s[2]})
                    for s in sellers
                ],
                [s[3] for s in sellers],
                [s[4] for s in sellers],
                [now] * len(sellers),
            ),
        )
        with connection.cursor().copy(
            "COPY listings (id, seller_id, sku, language, title, description, category, price_minor, currency, "
            "price_norm, stock, weight_grams, hs_code, origin_country, ships_everywhere, status, search_text, "
            "created_at, updated_at) FROM STDIN"
        ) as copy:
            for row in listings:
                copy.write_row(row)
        # Every listing its default variant (as migration 0160 makes them); a third of them in
        # two sizes, the larger at twice the price.
        connection.execute(
            "INSERT INTO listing_variants (id, listing_id, seller_id, sku, position, options, stock,"
            " created_at) SELECT id, id, seller_id, sku, 0, '{}'::json, stock, created_at"
            " FROM listings"
        )
        connection.execute(
            "UPDATE listings SET option_axes = '[\"size\"]' WHERE right(sku, 1) IN ('0', '3', '6')"
        )
        connection.execute(
            'UPDATE listing_variants v SET options = \'{"size": "S"}\' FROM listings l'
            " WHERE v.listing_id = l.id AND l.option_axes IS NOT NULL"
        )
        connection.execute(
            "INSERT INTO listing_variants (id, listing_id, seller_id, sku, position, options,"
            " price_minor, stock, created_at) SELECT gen_random_uuid()::text, id, seller_id,"
            " sku || '-L', 1, '{\"size\": \"L\"}'::json, price_minor * 2, stock, created_at"
            " FROM listings WHERE option_axes IS NOT NULL"
        )
        with connection.cursor().copy(
            "COPY listing_translations (listing_id, locale, title, description, updated_at) FROM STDIN"
        ) as copy:
            for row in translations:
                copy.write_row(row)
        with connection.cursor().copy(
            "COPY listing_destinations (listing_id, country) FROM STDIN"
        ) as copy:
            for row in destinations:
                copy.write_row(row)
        connection.commit()
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE")
    engine.dispose()
    return sample, rates


def seed_documents(url: str) -> tuple[str, str]:
    """A paid 20-line shipment with its documents issued, and its buyer's token: the download's path."""
    import secrets

    from marketplace.accounts.models import ApiToken
    from marketplace.accounts.services import hash_token
    from marketplace.customs.documents.store import issue_all
    from marketplace.db import make_engine, utcnow
    from marketplace.orders.models import Order, Shipment
    from tests.customs.factories import declaration, make_shipment

    engine = make_engine(url)
    with Session(engine) as session:
        shipment_id = make_shipment(session)
        issue_all(session, shipment_id, declaration(20), "zh-Hans")
        shipment = session.get(Shipment, shipment_id)
        assert shipment is not None
        order = session.get(Order, shipment.order_id)
        assert order is not None
        raw = secrets.token_urlsafe(32)
        session.add(
            ApiToken(
                user_id=order.buyer_id,
                token_hash=hash_token(raw),
                expires_at=utcnow() + dt.timedelta(days=1),
            )
        )
        session.commit()
    engine.dispose()
    path = f"/api/v1/shipments/{shipment_id}/documents/commercial_invoice?lang=zh-Hans"
    return path, f"Authorization: Bearer {raw}\r\n"


# --- load ----------------------------------------------------------------------------------------


async def _one(port: int, path: str, headers: str = "") -> tuple[float, int, bytes, dict[str, str]]:
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: bench\r\n{headers}Connection: close\r\n\r\n".encode()
    )
    await writer.drain()
    data = await reader.read(-1)
    writer.close()
    elapsed = time.perf_counter() - started
    head, _sep, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _s, v in (line.partition(":") for line in lines[1:])}
    return elapsed, int(lines[0].split()[1]), body, headers


async def _drive(
    port: int, paths: list[str], seconds: float, headers: str = ""
) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def worker(offset: int) -> None:
        nonlocal errors
        i = offset
        while time.perf_counter() < deadline:
            elapsed, status, _body, _headers = await _one(port, paths[i % len(paths)], headers)
            i += CONCURRENCY
            if status == 200:
                latencies.append(elapsed)
            else:
                errors += 1

    await asyncio.gather(*(worker(k) for k in range(CONCURRENCY)))
    return latencies, errors


def run_scenario(
    port: int, name: str, paths: list[str], request_headers: str = ""
) -> dict[str, Any]:
    _elapsed, status, body, headers = asyncio.run(_one(port, paths[0], request_headers))
    if status != 200:
        raise SystemExit(f"{name}: {paths[0]} answered {status}: {body[:300]!r}")
    asyncio.run(_drive(port, paths, 1.0, request_headers))  # warm up
    # Statements of a warm worker (the first request of each also reads the rate table).
    _elapsed, _status, _body, headers = asyncio.run(_one(port, paths[0], request_headers))
    started = time.perf_counter()
    latencies, errors = asyncio.run(_drive(port, paths, SECONDS, request_headers))
    wall = time.perf_counter() - started
    latencies.sort()
    return {
        "name": name,
        "rps": len(latencies) / wall,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "errors": errors,
        "sql": headers.get("x-sql-statements", "?"),
        "bytes": len(body),
    }


def start_server(target: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """gunicorn with two sync workers serving `target` on a loopback port, answering when done."""
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            target,
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    wait_for(port)
    return server


def wait_for(port: int) -> None:
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.2)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    name = f"marketplace_bench_{os.getpid()}"
    base, _sep, _db = ADMIN_URL.rpartition("/")
    url = f"{base}/{name}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    server = None
    try:
        started = time.perf_counter()
        log(f"seeding {LISTINGS} listings into {name}")
        sample, _rates = seed(url)
        bench_search.seed_index(url)
        from tests.bench_catalogue import bench_catalogue, seed_gallery

        seed_gallery(url)
        document_path, document_auth = seed_documents(url)
        log(f"seeded in {time.perf_counter() - started:.0f} s")
        port = free_port()
        ceiling_file = Path(tempfile.mkstemp(prefix="bench-ceiling-", suffix=".json")[1])
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "APP_ENV": "development",
            "LOG_LEVEL": "WARNING",
            CEILING_FILE: str(ceiling_file),
        }
        server = start_server("tests.bench:bench_app()", port, env)
        prefix = "/api/v1/catalogue"
        browse = f"{prefix}?" + urlencode({"locale": "ru", "currency": "EUR", "limit": 20})
        _e, _s, page, _h = asyncio.run(_one(port, browse))
        ceiling_file.write_bytes(page)
        cursors = [browse]
        for _ in range(30):
            _e, _s, body, _h = asyncio.run(_one(port, cursors[-1]))
            next_cursor = json.loads(body)["next_cursor"]
            cursors.append(
                f"{prefix}?"
                + urlencode({"locale": "ru", "currency": "EUR", "limit": 20, "cursor": next_cursor})
            )
        scenarios = [
            ("ceiling (precomputed JSON)", ["/bench/ceiling"]),
            ("browse page (ru, EUR, 20 items)", [browse]),
            ("browse, pages 1-30 by cursor", cursors),
            (
                "price range in USD",
                [
                    f"{prefix}?"
                    + urlencode(
                        {"currency": "USD", "min_price": lo, "max_price": hi, "locale": "en"}
                    )
                    for lo, hi in [("20.00", "50.00"), ("100.00", "400.00"), ("5.00", "15.00")]
                ],
            ),
            (
                "listing detail",
                [
                    f"{prefix}/{listing_id}?" + urlencode({"locale": "zh-Hans", "currency": "KZT"})
                    for listing_id in sample
                ],
            ),
        ]
        results = []
        for label, paths in scenarios:
            log(f"{label}: {SECONDS:.0f} s at concurrency {CONCURRENCY}")
            results.append(run_scenario(port, label, paths))
        results.extend(bench_search.run(port, prefix, url))
        label = "issued customs document (20-line invoice PDF, zh-Hans)"
        log(f"{label}: {SECONDS:.0f} s at concurrency {CONCURRENCY}")
        results.append(run_scenario(port, label, [document_path], document_auth))
        report(results)
        bench_search.report(results)
        for line in bench_catalogue(url, port):
            print(line)
        log("customs documents: rendering and issuing in this process, one core")
        from tests.customs.bench_documents import bench_documents

        for line in bench_documents():
            print(line)
        ceiling_file.unlink(missing_ok=True)
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        server = None
        from tests.orders.bench_orders import CLIENTS, bench_orders

        log(
            f"orders: placing 2-seller DDP orders on a fresh database, {CLIENTS} clients, {SECONDS:.0f} s"
        )
        for line in bench_orders(SECONDS, catalogue_ceiling=results[0]["rps"]):
            print(line)
        from tests.bench_checkout import bench_checkout

        log(f"checkout: cart reads and completions on a fresh database, {CLIENTS} clients")
        for line in bench_checkout(SECONDS):
            print(line)
        from tests.bench_sqlite_reads import READERS, WRITERS, bench_sqlite_reads

        log(f"SQLite: catalogue with {READERS} clients, alone and while {WRITERS} place orders")
        for line in bench_sqlite_reads(SECONDS):
            print(line)
        from tests.bench_events import bench_events

        for line in bench_events(SECONDS):
            print(line)
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def report(results: list[dict[str, Any]]) -> None:
    ceiling = results[0]["rps"]
    print()
    print("| scenario | req/s | p50 ms | p99 ms | p99/p50 | of ceiling | SQL/request | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['name']} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p99']:.1f} | {r['p99'] / r['p50']:.1f} | "
            f"{r['rps'] / ceiling:.0%} | {r['sql']} | {r['errors']} |"
        )
    browse = results[1]
    print()
    print(
        f"browse: {browse['rps'] / ceiling:.0%} of ceiling (target >= 12%), "
        f"p99 {browse['p99'] / browse['p50']:.1f}x p50 (target <= 3x), {browse['sql']} SQL statements (target <= 3)"
    )


if __name__ == "__main__":
    main()
