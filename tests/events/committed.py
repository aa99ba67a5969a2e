"""A marketplace on committed data in its own database, for tests with worker processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from alembic import command
from flask import Flask
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from marketplace import create_app
from marketplace.accounts.models import User
from marketplace.catalogue.models import Listing
from marketplace.cli import alembic_config
from marketplace.db import make_engine
from marketplace.reference import load_all
from tests.database import fresh_database
from tests.factories import ADDRESS, store_rates
from tests.helpers import Api, Caller

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_EVENTS_REDIS_URL", "redis://127.0.0.1:6379/12")


@dataclass
class Committed:
    url: str
    engine: Engine
    app: Flask
    api: Api
    env: dict[str, str]
    seller_owner: Caller
    operator: Caller
    seller: str

    def listing(self, stock: int) -> str:
        with Session(self.engine) as session:
            listing = Listing(
                seller_id=self.seller,
                sku=f"TEA-{uuid.uuid4().hex[:8]}",
                language="en",
                title="Longjing tea",
                description="",
                price_minor=5_000,
                currency="CNY",
                stock=stock,
                weight_grams=250,
                hs_code="090210",
                origin_country="CN",
                ships_everywhere=True,
                status="published",
            )
            session.add(listing)
            session.commit()
            return listing.id

    def order_body(self, listing: str, quantity: int = 1) -> dict[str, Any]:
        return {
            "currency": "KZT",
            "lines": [{"listing_id": listing, "quantity": quantity}],
            "ship_to": ADDRESS,
            "incoterm": "DAP",
        }


def redis_or_skip() -> redis.Redis:
    import pytest

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"Redis does not answer at {REDIS_URL}")
    return client


@contextmanager
def committed_market(label: str, **settings: Any) -> Iterator[Committed]:
    """A migrated database with reference data, rates, a seller with a price list, an operator;
    the queue is on Redis under a name of its own, deleted afterwards."""
    queue = f"test-{label}-{uuid.uuid4().hex[:8]}"
    with fresh_database(label) as url:
        engine = make_engine(url)
        config = alembic_config(url)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        with Session(engine) as session:
            load_all(session)
            store_rates(session)
            session.commit()
        env = {
            "APP_ENV": "test",
            "DATABASE_URL": url,
            "TASK_QUEUE_URL": REDIS_URL,
            "TASK_QUEUE_NAME": queue,
            "WEBHOOK_ALLOW_PRIVATE": "1",
            **{key: str(value) for key, value in settings.items()},
        }
        app = create_app({**env, "WEBHOOK_ALLOW_PRIVATE": True, **settings})
        api = Api(app.test_client())
        owner = api.user("Seller")
        seller = api.seller(owner)["id"]
        response = api.put(
            f"/sellers/{seller}/shipping-rates",
            json=[
                {
                    "countries": ["*"],
                    "base": {"amount": "10.00", "currency": "CNY"},
                    "per_kg": {"amount": "5.00", "currency": "CNY"},
                }
            ],
            as_=owner,
        )
        assert response.status_code == 200
        operator = api.user("Operator")
        with Session(engine) as session:
            session.execute(update(User).where(User.id == operator.id).values(is_operator=True))
            session.commit()
        try:
            yield Committed(url, engine, app, api, env, owner, operator, seller)
        finally:
            app.extensions["marketplace"]["jobs"].huey.flush()
            app.extensions["marketplace"]["session_factory"].kw["bind"].dispose()
            engine.dispose()


def start_worker(env: dict[str, str], threads: int = 2) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "worker", "--threads", str(threads)],
        cwd=ROOT,
        env={**os.environ, "FLASK_APP": "wsgi:app", **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL: no clean shutdown, whatever it was doing is cut off."""
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
