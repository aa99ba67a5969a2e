"""Fresh test databases: a temporary SQLite file, or a new PostgreSQL database created and dropped."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql


def backend() -> str:
    url = os.environ.get("TEST_DATABASE_URL", "sqlite")
    return "postgresql" if url.startswith("postgresql") else "sqlite"


@contextmanager
def fresh_database(label: str = "t") -> Iterator[str]:
    """A URL to an empty database that exists only for the with-block."""
    url = os.environ.get("TEST_DATABASE_URL", "sqlite")
    if not url.startswith("postgresql"):
        with tempfile.TemporaryDirectory(prefix="marketplace-test-") as folder:
            yield f"sqlite:///{Path(folder) / 'test.sqlite'}"
        return
    name = f"marketplace_{label}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    base, _, _ = url.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
