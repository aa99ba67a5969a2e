"""Fixtures: one migrated database per run; each test inside a transaction that is rolled back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from alembic import command
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from marketplace import create_app
from marketplace.cli import alembic_config
from marketplace.db import make_engine
from marketplace.reference import load_all
from tests.database import backend, fresh_database
from tests.factories import Market, make_market, store_rates
from tests.helpers import Api

pytest_plugins = ["tests.error_codes"]


def pytest_report_header() -> str:
    return f"database backend: {backend()}"


def pytest_collection_modifyitems(config: Any, items: list[pytest.Item]) -> None:
    if backend() == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (runs in the PostgreSQL pass)")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    with fresh_database("suite") as url:
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    config = alembic_config(database_url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    with Session(engine) as session:
        load_all(session)
        session.commit()
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


@pytest.fixture
def app_settings(database_url: str) -> dict[str, Any]:
    return {"APP_ENV": "test", "DATABASE_URL": database_url}


@pytest.fixture
def app(app_settings: dict[str, Any], session_factory: sessionmaker[Session]) -> Flask:
    return create_app(app_settings, session_factory=session_factory)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def api(client: FlaskClient) -> Api:
    return Api(client)


@pytest.fixture
def current_rates(session: Session) -> str:
    """The orders and payments tests' rates (tests.factories.ORDER_RATES) as the current set."""
    return store_rates(session)


@pytest.fixture
def market(api: Api, session: Session, current_rates: str) -> Market:
    """A small market: a buyer, sellers in CNY and TRY with shipping rates, a brokerage."""
    return make_market(api, session)
