"""Operator commands."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from marketplace import create_app
from marketplace.accounts.models import User
from marketplace.db import make_engine
from tests.database import fresh_database
from tests.helpers import Api


def test_grant_operator_is_only_possible_from_the_cli(
    app: Flask, api: Api, session: Session
) -> None:
    caller = api.user(email="ops@example.test")
    assert api.patch("/me", json={"is_operator": True}, as_=caller).status_code == 422
    result = app.test_cli_runner().invoke(args=["users", "grant-operator", "OPS@example.test"])
    assert result.exit_code == 0, result.output
    assert session.scalar(select(User.is_operator).where(User.id == caller.id)) is True
    assert api.get("/me", as_=caller).get_json()["is_operator"] is True


def test_grant_operator_to_an_unknown_email_fails_loudly(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["users", "grant-operator", "ghost@example.test"])
    assert result.exit_code != 0 and "no account" in result.output


def test_demo_data_loads_twice_without_duplicates(app: Flask, session: Session) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    count = session.query(User).count()
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0, second.output
    assert session.query(User).count() == count


def test_demo_load_is_refused_in_production(
    app_settings: dict, session_factory: Any, session: Session
) -> None:
    secrets = {
        "SECRET_KEY": "set",
        "REDIS_URL": "redis://127.0.0.1:6379/15",
        "STRIPE_API_KEY": "set",
        "STRIPE_WEBHOOK_SECRET": "set",
    }
    settings = {**app_settings, **secrets, "APP_ENV": "production"}
    app = create_app(settings, session_factory=session_factory)
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code != 0 and "production" in result.output
    assert session.query(User).filter(User.email == "operator@demo.example").count() == 0


def test_db_upgrade_from_the_cli_keeps_its_tables_on_every_database() -> None:
    with fresh_database("cli") as url:
        app = create_app({"APP_ENV": "test", "DATABASE_URL": url})
        result = app.test_cli_runner().invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        engine = make_engine(url)
        try:
            assert {"users", "listings", "orders", "alembic_version"} <= set(
                inspect(engine).get_table_names()
            )
        finally:
            engine.dispose()
