"""Pooled PostgreSQL connections: a dropped one is replaced before use; a busy one is not pinged."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from marketplace import db
from marketplace.db import make_engine


@pytest.mark.postgres_only
def test_a_connection_the_server_dropped_is_replaced_before_a_request_sees_it(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as connection:
            victim = connection.scalar(text("SELECT pg_backend_pid()"))
        with engine.connect() as connection:  # at once: reused as it is
            assert connection.scalar(text("SELECT pg_backend_pid()")) == victim
        with make_engine(database_url).connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": victim})
            admin.commit()
        monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)  # as if it had sat idle for a while
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT pg_backend_pid()")) != victim
    finally:
        engine.dispose()


@pytest.mark.postgres_only
def test_a_connection_in_steady_use_is_not_pinged(database_url: str) -> None:
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    pinged: list[bool] = []
    original = engine.dialect.do_ping
    engine.dialect.do_ping = lambda conn: pinged.append(True) or original(conn)  # type: ignore[method-assign]
    try:
        for _ in range(5):
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        assert pinged == []
    finally:
        engine.dispose()
