"""Alembic environment: the models' metadata, the URL from our configuration, safe timeouts."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from marketplace.db import hold_startup_lock, make_engine
from marketplace.models import include_object, metadata

config = context.config


def run_migrations(connection: Connection) -> None:
    # Several instances starting at once: one migrates, the others wait and then find it done.
    # Its migrations then wait at most 10 s on a lock, so they never stall the live application.
    hold_startup_lock(connection)
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        compare_server_default=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    # begin(), not connect(): SET lock_timeout opens the transaction, so Alembic's own
    # begin_transaction() joins it and would never commit; on PostgreSQL, where DDL is
    # transactional, the migrations were rolled back when the connection closed.
    with engine.begin() as connection:
        run_migrations(connection)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run against a database")
main()
