"""A real gunicorn on a loopback port, started with the production config file, for tests that
need what only a real server does (its request limits, several threads sharing rate limits)."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command

from marketplace.cli import alembic_config
from marketplace.db import make_engine
from tests.database import fresh_database

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def migrated_database() -> Iterator[str]:
    with fresh_database("live") as url:
        engine = make_engine(url)
        config = alembic_config(url)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        engine.dispose()
        yield url


@contextmanager
def gunicorn(url: str, **environ: str) -> Iterator[int]:
    """Serve wsgi:app on 127.0.0.1 with config/gunicorn.conf.py; yields the port."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "WEB_CONCURRENCY")},
        "DATABASE_URL": url,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "APP_ENV": "test",
        "ACCESS_LOG": "/dev/null",
        "LOG_LEVEL": "WARNING",
        **environ,
    }
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "config/gunicorn.conf.py",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        yield port
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
