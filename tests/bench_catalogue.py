"""`make bench`, catalogue part: the real page against a hand-written reference, in one run.

The reference is the same first catalogue page (same items, fields and formatted prices,
checked equal before timing) built by a bare Flask view: one hand-written SQL statement on a
psycopg connection kept per worker, plain dicts, `json.dumps`. It is served by gunicorn with the
same two sync workers as the application, on the same database, with the same load driver, so
the ratio says what the application's own machinery costs. Images are seeded (three per listing,
alt text in two languages) so the page carries galleries, as a shop's page does.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import statistics
import time
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import psycopg
from flask import Flask, Response, request
from psycopg import sql
from psycopg.rows import dict_row

from marketplace.catalogue import facets
from tests import bench

IMAGES_PER_LISTING = 3
REFERENCE_URL = "BENCH_REFERENCE_DATABASE_URL"
# What the reference serves: the first page of the default sort, as the bench's browse scenario.
QUERY = {"locale": "ru", "currency": "EUR", "limit": 20}

REFERENCE_SQL = """
SELECT l.id, l.seller_id, o.name AS seller_name, o.country AS seller_country, l.language,
       l.title, l.description, t.locale AS t_locale, t.title AS t_title,
       t.description AS t_description, l.price_minor, l.currency, l.category,
       l.origin_country, l.hs_code, l.ships_everywhere, l.weight_grams, l.created_at,
       CASE WHEN l.ships_everywhere THEN NULL ELSE
         (SELECT string_agg(d.country, ',') FROM listing_destinations d WHERE d.listing_id = l.id)
       END AS destinations,
       (SELECT json_agg(json_build_object('id', i.id, 'position', i.position, 'width', i.width,
                'height', i.height, 'thumb', i.thumb, 'medium', i.medium, 'large', i.large,
                'alt', i.alt) ORDER BY i.position)
          FROM listing_images i WHERE i.listing_id = l.id) AS gallery,
       (SELECT json_agg(json_build_object('id', v.id, 'options', v.options,
                'price_minor', v.price_minor, 'stock', v.stock) ORDER BY v.position)
          FROM listing_variants v WHERE v.listing_id = l.id AND v.removed_at IS NULL) AS variants,
       (SELECT json_object_agg(x.locale, x.options) FROM listing_translations x
          WHERE x.listing_id = l.id AND x.locale = ANY(%(chain)s) AND x.options IS NOT NULL)
         AS option_texts
FROM listings l
JOIN organisations o ON o.id = l.seller_id
LEFT JOIN LATERAL (
  SELECT x.locale, x.title, x.description FROM listing_translations x
  WHERE x.listing_id = l.id AND x.locale = ANY(%(chain)s)
  ORDER BY array_position(%(chain)s, x.locale) LIMIT 1
) t ON true
WHERE l.status = 'published'
ORDER BY l.created_at DESC, l.id DESC
LIMIT %(limit)s
"""


def seed_gallery(url: str) -> None:
    """Three images for every listing, alt text in the listing's language and in Russian."""
    with psycopg.connect(url) as connection:
        connection.execute(
            "INSERT INTO listing_images (id, listing_id, position, width, height, thumb, medium, "
            "large, alt, created_at) "
            "SELECT gen_random_uuid()::text, l.id, n, 1600, 1200, "
            "md5(l.id || n || 't') || md5(l.id || n || 'T') || '.webp', "
            "md5(l.id || n || 'm') || md5(l.id || n || 'M') || '.webp', "
            "md5(l.id || n || 'l') || md5(l.id || n || 'L') || '.webp', "
            "json_build_object(l.language, l.title || ' #' || n, 'ru', 'Фото ' || n), now() "
            "FROM listings l CROSS JOIN generate_series(0, %s) AS n",
            (IMAGES_PER_LISTING - 1,),
        )
        connection.commit()
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE listing_images")


# --- the reference: a bare Flask view -----------------------------------------------------------


def reference_app() -> Flask:
    """Hand-written SQL and plain dicts; prices converted and CLDR-formatted per item, no cache."""
    from marketplace.catalogue import locales
    from marketplace.money import Money, RateTable
    from marketplace.money.formatting import format_money

    app = Flask("reference")
    state: dict[str, Any] = {}
    rates = RateTable(
        base="EUR",
        as_of=dt.date.today(),
        source="bench",
        rates={code: Decimal(rate) for code, rate in bench.RATES.items()},
    )

    def money(minor: int, currency: str, display: str, ui: str) -> tuple[dict[str, str], ...]:
        listed = Money.from_minor(minor, currency)
        shown = rates.convert(listed, display)
        return tuple(
            {**value.to_api(), "formatted": format_money(value, ui)} for value in (shown, listed)
        )

    @app.get("/reference/catalogue")
    def catalogue() -> Response:
        if "connection" not in state:
            state["connection"] = psycopg.connect(os.environ[REFERENCE_URL], autocommit=True)
        locale, display = request.args["locale"], request.args["currency"]
        limit = int(request.args["limit"])
        chain = list(locales.fallback_chain(locale))
        rows = (
            state["connection"]
            .cursor(row_factory=dict_row)
            .execute(REFERENCE_SQL, {"chain": chain, "limit": limit + 1})
            .fetchall()
        )
        items = []
        for row in rows[:limit]:
            own = chain.index(row["language"]) if row["language"] in chain else len(chain)
            translated = row["t_locale"] is not None and chain.index(row["t_locale"]) < own
            price, list_price = money(row["price_minor"], row["currency"], display, locale)
            gallery = sorted(row["gallery"] or [], key=lambda image: image["position"])
            texts = row["option_texts"] or {}

            def word(
                axis: str, value: str | None, texts: dict[str, Any] = texts, own: int = own
            ) -> str | None:
                for tag in chain[:own]:
                    named = (texts.get(tag) or {}).get(axis) or {}
                    found = (
                        named.get("name") if value is None else named.get("values", {}).get(value)
                    )
                    if found:
                        return str(found)
                return None

            variants = [
                {
                    "id": variant["id"],
                    "options": {
                        word(axis, None) or axis: word(axis, value) or value
                        for axis, value in (variant["options"] or {}).items()
                    },
                    "price": money(
                        row["price_minor"]
                        if variant["price_minor"] is None
                        else variant["price_minor"],
                        row["currency"],
                        display,
                        locale,
                    )[0],
                    "available": variant["stock"],
                }
                for variant in row["variants"] or []
            ]
            stock = sum(variant["available"] for variant in variants)
            items.append(
                {
                    "id": row["id"],
                    "seller": {
                        "id": row["seller_id"],
                        "name": row["seller_name"],
                        "country": row["seller_country"],
                    },
                    "title": row["t_title"] if translated else row["title"],
                    "description": row["t_description"] if translated else row["description"],
                    "locale": row["t_locale"] if translated else row["language"],
                    "translated": translated,
                    "price": price,
                    "list_price": list_price,
                    "in_stock": stock > 0,
                    "available": stock,
                    "category": row["category"],
                    "origin_country": row["origin_country"],
                    "hs_code": row["hs_code"],
                    "ships_to": ["*"]
                    if row["ships_everywhere"]
                    else sorted(row["destinations"].split(",")),
                    "weight_grams": row["weight_grams"],
                    "images": [
                        {
                            "id": image["id"],
                            "position": image["position"],
                            "alt": next(
                                (image["alt"][tag] for tag in chain if tag in image["alt"]),
                                image["alt"].get(row["language"], ""),
                            ),
                            "width": image["width"],
                            "height": image["height"],
                            "urls": {
                                size: "/api/v1/media/" + image[size]
                                for size in ("thumb", "medium", "large")
                            },
                        }
                        for image in gallery
                    ],
                    "variants": variants,
                }
            )
        body = {"items": items, "locale": locale, "currency": display}
        return Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")

    return app


ROUNDS = 4


def compare(targets: list[tuple[int, str, str]]) -> list[dict[str, Any]]:
    """Each target in turn for a slice of BENCH_SECONDS, ROUNDS times, so both see the same load.

    The machine a benchmark runs on is rarely idle; alternating slices keeps a burst of other
    work from landing on one side of the ratio only.
    """
    latencies: dict[str, list[float]] = {name: [] for _port, name, _path in targets}
    walls = dict.fromkeys(latencies, 0.0)
    statements = {}
    for port, name, path in targets:
        asyncio.run(bench._drive(port, [path], 1.0))  # warm up
        statements[name] = asyncio.run(bench._one(port, path))[3].get("x-sql-statements", "?")
    for _round in range(ROUNDS):
        for port, name, path in targets:
            started = time.perf_counter()
            done, _errors = asyncio.run(bench._drive(port, [path], bench.SECONDS / ROUNDS))
            walls[name] += time.perf_counter() - started
            latencies[name] += done
    results = []
    for name, values in latencies.items():
        values.sort()
        results.append(
            {
                "name": name,
                "rps": len(values) / walls[name],
                "p50": statistics.median(values) * 1000,
                "p99": values[int(len(values) * 0.99) - 1] * 1000,
                "sql": statements[name],
            }
        )
    return results


def bench_catalogue(url: str, port: int) -> list[str]:
    """Serve the reference next to the running application (on `port`) and compare the two."""
    reference_port = bench.free_port()
    server = bench.start_server(
        "tests.bench_catalogue:reference_app()", reference_port, {**os.environ, REFERENCE_URL: url}
    )
    try:
        ours = "/api/v1/catalogue?" + urlencode(QUERY)
        theirs = "/reference/catalogue?" + urlencode(QUERY)
        _e, _s, our_body, _h = asyncio.run(bench._one(port, ours))
        _e, _s, their_body, _h = asyncio.run(bench._one(reference_port, theirs))
        our_items, their_items = json.loads(our_body)["items"], json.loads(their_body)["items"]
        if our_items != their_items:
            raise SystemExit("the reference page differs from the catalogue page")
        images = sum(len(item["images"]) for item in our_items)
        variants = sum(len(item["variants"]) for item in our_items)
        results = compare(
            [
                (port, f"catalogue page ({images} images, {variants} variants)", ours),
                (reference_port, "reference: bare Flask, hand-written SQL", theirs),
            ]
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    faceted = bench.run_scenario(
        port,
        "page + facets=category,origin,seller,price over every listing",
        ["/api/v1/catalogue?" + urlencode({**QUERY, "facets": ",".join(facets.FACETS)})],
    )
    page, reference = results
    lines = [
        "",
        "| catalogue vs reference | req/s | p50 ms | p99 ms | p99/p50 | SQL/request |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['name']} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p99']:.1f} | "
            f"{r['p99'] / r['p50']:.1f} | {r['sql']} |"
        )
    lines.append(
        f"catalogue page: {page['rps'] / reference['rps']:.0%} of the reference's requests/s "
        f"(target >= 80%), p99 {page['p99'] / page['p50']:.1f}x p50 (target <= 3x), "
        f"{page['sql']} SQL statements (target <= 2), variants in both"
    )
    lines.append(
        f"facets over all {bench.LISTINGS} listings: {faceted['rps']:.0f} req/s, "
        f"p50 {faceted['p50']:.0f} ms, p99 {faceted['p99']:.0f} ms, {faceted['sql']} SQL statements"
    )
    return lines


def main() -> None:
    """This part alone on its own database: `python -m tests.bench_catalogue` (BENCH_LISTINGS)."""
    name = f"marketplace_bench_catalogue_{os.getpid()}"
    base, _sep, _db = bench.ADMIN_URL.rpartition("/")
    url = f"{base}/{name}"
    with psycopg.connect(bench.ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    server = None
    try:
        bench.log(f"seeding {bench.LISTINGS} listings into {name}")
        bench.seed(url)
        seed_gallery(url)
        port = bench.free_port()
        env = {**os.environ, "DATABASE_URL": url, "APP_ENV": "development", "LOG_LEVEL": "WARNING"}
        server = bench.start_server("tests.bench:bench_app()", port, env)
        for line in bench_catalogue(url, port):
            print(line)
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        with psycopg.connect(bench.ADMIN_URL, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


if __name__ == "__main__":
    main()
