"""`make bench`'s search scenarios: ranked search and type-ahead at 100,000 listings.

Called from tests/bench.py: `seed_index(url)` builds the search index of the seeded listings
(`marketplace.catalogue.search.index.reindex_all`, the same code as `flask search reindex`), and
`run(port, prefix, browse)` drives searches with common words (each in 5-10 % of the listings),
two common words together, rare words, inflected and misspelt words, and type-ahead prefixes,
then prints each against the browse page of the same run.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from typing import Any
from urllib.parse import urlencode

import psycopg
from sqlalchemy.orm import Session

from tests import bench


def seed_index(url: str) -> None:
    """Index every listing, as `flask search reindex` does, and report how long it took."""
    from marketplace.catalogue.search.index import reindex_all
    from marketplace.db import make_engine

    engine = make_engine(url)
    started = time.perf_counter()
    with Session(engine) as session:
        done = reindex_all(session)
        session.commit()
    bench.log(f"search index of {done} listings built in {time.perf_counter() - started:.0f} s")
    engine.dispose()
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
        rows = connection.execute(
            "SELECT (SELECT count(*) FROM search_postings), (SELECT count(*) FROM search_title_keys),"
            " (SELECT count(*) FROM search_vocabulary),"
            " pg_size_pretty(pg_total_relation_size('search_postings')),"
            " pg_size_pretty(pg_total_relation_size('search_title_keys'))"
        ).fetchone()
    bench.log(f"index rows (postings, title keys, vocabulary, sizes): {rows}")
    probe = (
        "from marketplace.catalogue.search import analysis; "
        "analysis.JIEBA.segments('西湖龙井绿茶'); print(f'{analysis.JIEBA.load_seconds:.2f}')"
    )
    loads = [
        subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(3)
    ]
    bench.log(f"jieba dictionary load in a fresh process: {', '.join(loads)} s (once per process)")


COMMON = [
    ("чай", "ru"),
    ("绿茶", "zh-Hans"),
    ("سجادة", "ar"),
    ("ipek", "tr"),
    ("dates", "en"),
    ("kilim", "en"),
    ("жібек", "kk"),
    ("porcelain", "en"),
]
TWO_WORDS = [
    ("green tea", "en"),
    ("зелёный чай", "ru"),
    ("silk scarf", "en"),
    ("yün halı", "tr"),
    ("丝绸面料", "zh-Hans"),
]
INFLECTED_AND_TYPOS = [
    ("scarves", "en"),
    ("halılar", "tr"),
    ("чая", "ru"),
    ("porcelian", "en"),
    ("slipers", "en"),
    ("кабелі", "kk"),
]
SUGGEST = [("gre", "en"), ("зел", "ru"), ("绿", "zh-Hans"), ("ipe", "tr"), ("fine s", "en")]


def _matches(url: str, queries: list[tuple[str, str]]) -> str:
    """How many listings the first token of each word is in (what the query must rank)."""
    from marketplace.catalogue.search import analysis

    shares = []
    with psycopg.connect(url) as connection:
        total = connection.execute("SELECT count(*) FROM listings").fetchone()[0]  # type: ignore[index]
        for q, locale in queries:
            word = next(analysis.words(q))
            token = analysis.spaced_tokens(word, analysis.language_of(locale))[0]
            if analysis.has_unspaced(word):
                token = analysis.fold(word)
            found = connection.execute(
                "SELECT count(*) FROM search_postings WHERE token = %s", (token,)
            ).fetchone()[0]  # type: ignore[index]
            shares.append(f"{q} {found / total:.1%}")
    return ", ".join(shares)


def run(port: int, prefix: str, url: str) -> list[dict[str, Any]]:
    """The search scenarios' results, each with the SQL statements of a warm request."""

    def search(queries: list[tuple[str, str]]) -> list[str]:
        return [
            f"{prefix}?" + urlencode({"q": q, "locale": loc, "currency": "EUR"})
            for q, loc in queries
        ]

    rare = [(f"№{n}", "en") for n in range(7, 100_000, 4999)]
    scenarios = [
        ("search: one common word (5-10 % each)", search(COMMON)),
        ("search: two common words", search(TWO_WORDS)),
        ("search: rare words (one listing each)", search(rare)),
        ("search: inflected and misspelt words", search(INFLECTED_AND_TYPOS)),
        (
            "suggest: title prefixes",
            [f"{prefix}/suggest?" + urlencode({"q": q, "locale": loc}) for q, loc in SUGGEST],
        ),
    ]
    bench.log(f"share of listings per common word: {_matches(url, COMMON)}")
    results = []
    for label, paths in scenarios:
        bench.log(f"{label}: {bench.SECONDS:.0f} s at concurrency {bench.CONCURRENCY}")
        result = bench.run_scenario(port, label, paths)
        counts = {asyncio.run(bench._one(port, path))[3].get("x-sql-statements") for path in paths}
        result["sql"] = "/".join(sorted(c or "?" for c in counts))
        results.append(result)
    return results


def report(results: list[dict[str, Any]]) -> None:
    """The targets: search >= 50 % of the browse page's req/s, p99 <= 3x p50, <= 2 statements."""
    browse = next(r for r in results if r["name"].startswith("browse page"))
    print()
    for r in results:
        if r["name"].startswith("search"):
            print(
                f"{r['name']}: {r['rps'] / browse['rps']:.0%} of browse req/s (target >= 50%), "
                f"p99 {r['p99'] / r['p50']:.1f}x p50 (target <= 3x), "
                f"{r['sql']} SQL statements (target <= 2)"
            )
        elif r["name"].startswith("suggest"):
            print(
                f"{r['name']}: p50 {r['p50']:.1f} ms against browse p50 {browse['p50']:.1f} ms "
                f"(target <=), {r['sql']} SQL statement"
            )
