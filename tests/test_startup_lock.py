"""Containers starting at once: `flask db upgrade` and `flask reference load` take a PostgreSQL
advisory lock, so the second waits for the first and then finds nothing to do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from marketplace.cli import alembic_config
from marketplace.customs.models import HsCode
from marketplace.db import make_engine
from tests.database import fresh_database

pytestmark = pytest.mark.postgres_only
ROOT = Path(__file__).resolve().parent.parent


def _two_instances_at_once(url: str, *command: str) -> list[subprocess.CompletedProcess[str]]:
    """The command run by two processes started together, as two containers would."""
    env = {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": url,
        "FLASK_APP": "wsgi:app",
        "TASK_QUEUE_URL": "memory://",
    }
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "flask", *command],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    return [
        subprocess.CompletedProcess(
            p.args, p.wait(timeout=300), p.stdout.read() if p.stdout else ""
        )
        for p in processes
    ]


def test_two_instances_migrating_and_loading_at_once_both_succeed_once() -> None:
    with fresh_database("startup") as url:
        for result in _two_instances_at_once(url, "db", "upgrade"):
            assert result.returncode == 0, result.stdout
        head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
        engine = make_engine(url)
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT version_num FROM alembic_version")) == head

        for result in _two_instances_at_once(url, "reference", "load"):
            assert result.returncode == 0, result.stdout
        with Session(engine) as session:
            loaded = session.scalar(select(func.count()).select_from(HsCode))
        assert loaded and loaded > 1000
        engine.dispose()
