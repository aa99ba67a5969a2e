"""Operator commands: `flask db ...`, `flask users grant-operator`, `flask demo load`, `flask rates import`,
`flask search reindex`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click
from alembic import command
from alembic.config import Config
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def _session() -> Session:
    session: Session = current_app.extensions["marketplace"]["session_factory"]()
    return session


def _database_url() -> str:
    url: str = current_app.config["MARKETPLACE"]["DATABASE_URL"]
    return url


db_group = AppGroup("db", help="Database schema migrations (Alembic).")


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    command.upgrade(alembic_config(_database_url()), revision)


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION ('base' for an empty database)."""
    command.downgrade(alembic_config(_database_url()), revision)


@db_group.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Autogenerate a migration from the models' difference to the database."""
    command.revision(alembic_config(_database_url()), message=message, autogenerate=True)


users_group = AppGroup("users", help="User administration.")


@users_group.command("grant-operator")
@click.argument("email")
def grant_operator(email: str) -> None:
    """Give EMAIL the operator role (never possible through the API)."""
    from marketplace.accounts.services import grant_operator as grant
    from marketplace.errors import NotFound

    with _session() as session:
        try:
            grant(session, email)
        except NotFound as exc:
            raise click.ClickException(f"no account uses {email}") from exc
        session.commit()
    click.echo(f"{email} is now an operator")


reference_group = AppGroup("reference", help="Reference data (HS codes, customs rules, ...).")


@reference_group.command("load")
def reference_load() -> None:
    """Load or refresh the reference data shipped with the code (one instance at a time)."""
    from marketplace.db import hold_startup_lock
    from marketplace.reference import load_all

    with _session() as session:
        hold_startup_lock(session.connection())
        lines = load_all(session)
        session.commit()
    click.echo("\n".join(lines))


demo_group = AppGroup("demo", help="Demonstration data.")


@demo_group.command("load")
def demo_load() -> None:
    """Load the demo marketplace (safe to run again: nothing is duplicated).

    Refused under APP_ENV=production: the demo's accounts, an operator among them, have a
    published password.
    """
    from marketplace.demo import load_demo

    if current_app.config["MARKETPLACE"]["APP_ENV"] == "production":
        raise click.ClickException(
            "demo load refused under APP_ENV=production: its accounts have a published password"
        )
    with _session() as session:
        summary = load_demo(session, current_app.config["MARKETPLACE"])
        session.commit()
    click.echo(summary)


rates_group = AppGroup("rates", help="Exchange rates.")


@rates_group.command("import")
@click.argument("file_or_url")
def rates_import(file_or_url: str) -> None:
    """Import the ECB reference rates (eurofxref-daily.xml) from a file or an http(s) URL."""
    from marketplace.db import utcnow
    from marketplace.errors import DomainError
    from marketplace.money.services import import_rates
    from marketplace.money.sources import EcbXml

    with _session() as session:
        try:
            rate_set = import_rates(session, EcbXml(file_or_url), utcnow())
        except DomainError as exc:
            raise click.ClickException(f"{file_or_url}: {exc.detail}") from exc
        session.commit()
        own = sum(1 for rate in rate_set.rates if rate.source == rate_set.source)
        click.echo(
            f"rate set {rate_set.id}: {own} {rate_set.source} rates of {rate_set.as_of} "
            f"({rate_set.base} base), {len(rate_set.rates) - own} carried from other sources"
        )


payments_group = AppGroup("payments", help="Seller payouts.")


@payments_group.command("export-payouts")
@click.argument("output", type=click.File("w", encoding="utf-8"), default="-")
def export_payouts(output: Any) -> None:
    """Write every bank-transfer payout not yet exported as CSV to OUTPUT, and mark them exported."""
    from marketplace.db import utcnow
    from marketplace.payments.ledger import export_bank_payouts

    with _session() as session:
        text = export_bank_payouts(session, utcnow())
        session.commit()
    output.write(text)


orders_group = AppGroup("orders", help="Order housekeeping (run `expire` from a scheduler).")


@orders_group.command("expire")
def orders_expire() -> None:
    """Expire unpaid orders past their reservation (stock comes back); purge old idempotency keys;
    delete carts idle for CART_TTL_DAYS."""
    from marketplace.checkout import carts
    from marketplace.db import utcnow
    from marketplace.orders import expiry, idempotency

    now = utcnow()
    ttl = dt.timedelta(days=int(current_app.config["MARKETPLACE"]["CART_TTL_DAYS"]))
    with _session() as session:
        expired = expiry.expire_due(session, now)
        purged = idempotency.purge_expired(session, now)
        deleted = carts.delete_idle_carts(session, now, ttl=ttl)
        session.commit()
    click.echo(
        f"{len(expired)} orders expired, {purged} idempotency keys purged, "
        f"{deleted} idle carts deleted"
    )


search_group = AppGroup("search", help="The search index.")


@search_group.command("reindex")
def search_reindex() -> None:
    """Rebuild the search index from every listing (after an upgrade that changed analysis)."""
    from marketplace.catalogue.search.index import reindex_all

    with _session() as session:
        done = reindex_all(session)
        session.commit()
    click.echo(f"{done} listings indexed")


@click.command("worker")
@click.option(
    "--threads", type=int, default=None, help="Tasks run at once (default: WORKER_THREADS)."
)
def worker(threads: int | None) -> None:
    """Run the background jobs (webhooks, emails, documents, expiry, rates) until stopped."""
    import logging

    # Huey's own lines (started, task failed) go out as the application's JSON log lines.
    ours = logging.getLogger("marketplace")
    huey_log = logging.getLogger("huey")
    huey_log.handlers, huey_log.propagate = list(ours.handlers), False
    huey_log.setLevel(ours.level)
    jobs = current_app.extensions["marketplace"]["jobs"]
    consumer = jobs.huey.create_consumer(
        workers=threads or current_app.config["MARKETPLACE"]["WORKER_THREADS"],
        worker_type="thread",
        # Polling queues (SQLite) look again within 50 ms to 1 s; Redis blocks until a task comes.
        initial_delay=0.05,
        backoff=1.15,
        max_delay=1.0,
    )
    consumer.run()


def register_commands(app: Flask) -> None:
    app.cli.add_command(worker)
    for group in (
        db_group,
        users_group,
        reference_group,
        demo_group,
        rates_group,
        payments_group,
        orders_group,
        search_group,
    ):
        app.cli.add_command(group)
