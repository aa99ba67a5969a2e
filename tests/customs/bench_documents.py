"""Benchmark of customs documents: issuing every PDF of a 20-line bilingual shipment, and reading one back.

`make bench` calls `bench_documents()`; alone: `.venv/bin/python -m tests.customs.bench_documents`.
Runs on one core in one process (as one gunicorn worker does), against a fresh SQLite database.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from sqlalchemy.orm import Session

from marketplace.customs.documents.render import render
from marketplace.customs.documents.store import (
    document_languages,
    get_document,
    issue_all,
    kinds_for,
)
from marketplace.db import make_engine
from marketplace.models import metadata
from tests.customs.factories import declaration, make_shipment


def _median_ms(action: Callable[[], object], rounds: int) -> tuple[float, float]:
    """Median wall-clock and CPU milliseconds; CPU time is the steadier figure on a busy machine."""
    action()  # warm-up: fonts parsed, caches filled, as in a running worker
    wall, cpu = [], []
    for _ in range(rounds):
        started, started_cpu = time.perf_counter(), time.process_time()
        action()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return statistics.median(wall) * 1000, statistics.median(cpu) * 1000


def bench_documents(rounds: int = 20) -> list[str]:
    """Figures as printable lines: render and issue per shipment (median), PDFs per second, download."""
    shipment = declaration(20)
    lines = []
    for locale in ("zh-Hans", "ar"):
        pairs = [
            (kind, language)
            for kind in kinds_for(shipment)
            for language in document_languages(locale)
        ]
        wall, cpu = _median_ms(
            lambda pairs=pairs: [render(k, lang, shipment) for k, lang in pairs], rounds
        )  # type: ignore[misc]
        lines.append(
            f"documents: render all {len(pairs)} PDFs of a 20-line en+{locale} shipment: median {wall:.1f} ms "
            f"({len(pairs) / wall * 1000:.0f} PDFs/s), CPU {cpu:.1f} ms ({len(pairs) / cpu * 1000:.0f} PDFs/s)"
        )
    engine = make_engine("sqlite://")
    metadata.create_all(engine)
    with Session(engine) as session:
        fresh = iter(
            [make_shipment(session) for _ in range(rounds + 1)]
        )  # each round issues version 1
        wall, cpu = _median_ms(lambda: issue_all(session, next(fresh), shipment, "zh-Hans"), rounds)
        lines.append(
            "documents: issue (render, sha256, store) the 6 PDFs of a 20-line en+zh-Hans shipment: "
            f"median {wall:.1f} ms, CPU {cpu:.1f} ms"
        )
        shipment_id = make_shipment(session)
        issue_all(session, shipment_id, shipment, "zh-Hans")
        session.commit()

        def download() -> bytes:
            session.expire_all()
            return get_document(session, shipment_id, "commercial_invoice", "zh-Hans").content

        wall, cpu = _median_ms(download, rounds * 5)
        lines.append(
            f"documents: read back an issued invoice from the database: median {wall:.2f} ms, CPU {cpu:.2f} ms"
        )
    engine.dispose()
    return lines


if __name__ == "__main__":
    for line in bench_documents():
        print(line)
