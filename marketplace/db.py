"""Persistence base: declarative base, column types, engine and session setup.

Amounts are stored as integer minor units (exact on SQLite and PostgreSQL alike) with their
currency beside them; decimal quantities that are not money (rates) use ExactDecimal, which keeps
every digit as text on SQLite and as NUMERIC on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import enum
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Generic, TypeVar

from sqlalchemy import (
    BigInteger,
    Connection,
    DateTime,
    Dialect,
    Engine,
    MetaData,
    Numeric,
    String,
    create_engine,
    event,
    text,
    types,
)
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_id() -> str:
    """Public ids are random UUIDs: they reveal neither volume nor order."""
    return str(uuid.uuid4())


E = TypeVar("E", bound=enum.StrEnum)


class StrEnumColumn(types.TypeDecorator[E], Generic[E]):
    """A StrEnum stored as its value in a VARCHAR; the model attribute is the enum member.

    The allowed values are also a CHECK constraint on the table, so the database refuses others.
    """

    impl = String
    cache_ok = True

    def __init__(self, enum_type: type[E], length: int) -> None:
        super().__init__(length)
        self.enum_type = enum_type

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.enum_type(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        return None if value is None else self.enum_type(value)


def enum_check(column: str, enum_type: type[enum.StrEnum]) -> str:
    """The CHECK that keeps a `StrEnumColumn` to its enum's values in the database too."""
    return f"{column} IN ({', '.join(repr(member.value) for member in enum_type)})"


class UTCDateTime(types.TypeDecorator[dt.datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value


class ExactDecimal(types.TypeDecorator[Decimal]):
    """A Decimal that keeps every digit: NUMERIC on PostgreSQL, text on SQLite (whose NUMERIC is a float)."""

    impl = String(48)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(30, 12))
        return dialect.type_descriptor(String(48))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError("ExactDecimal takes Decimal values only")
        return value if dialect.name == "postgresql" else format(value, "f")

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(value).normalize() if dialect.name == "postgresql" else Decimal(value)


uuid_pk = Annotated[str, mapped_column(String(36), primary_key=True, default=new_id)]
created_at = Annotated[dt.datetime, mapped_column(UTCDateTime(), default=utcnow)]
currency_code = Annotated[str, mapped_column(String(3))]
minor_units = Annotated[int, mapped_column(BigInteger)]
country_code = Annotated[str, mapped_column(String(2))]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime(), Decimal: ExactDecimal()}


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the per-backend settings the application relies on."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _make_sqlite_transactional(engine)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_when_idle(engine)
    return engine


# A pooled connection unused for longer than this is checked with a round trip before use.
IDLE_PING_SECONDS = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection before use only when it has sat idle (pool_pre_ping, cheaper).

    A connection the server or a proxy dropped is found and replaced before a request sees it,
    as with `pool_pre_ping`; but a busy pool, whose connections were in use a moment ago, skips
    the extra round trip, which would otherwise double the database time of a one-SELECT page.
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError() from exc
        if not alive:
            raise DisconnectionError()


# Execution option of a connection whose transaction is expected to only read.
READS = "marketplace_reads"


def _make_sqlite_transactional(engine: Engine) -> None:
    """Let SQLAlchemy, not pysqlite, begin transactions, so SAVEPOINT and locking behave.

    A transaction that will write starts with BEGIN IMMEDIATE, taking the write lock at once:
    concurrent writers queue on busy_timeout instead of failing halfway with 'database is
    locked'. One expected only to read (the `READS` execution option) starts deferred: in WAL
    mode it reads its snapshot without waiting for any writer. Should it write after all and
    meet another writer, SQLite refuses at once (`is_write_conflict`); the caller retries it as
    a writer.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        # Returning from an AUTOCOMMIT read, SQLAlchemy resets pysqlite to its own implicit
        # transactions (isolation_level ""), which would break SAVEPOINTs: take control back.
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        options = connection.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return  # a read-only view's SELECTs need no transaction and no lock
        connection.exec_driver_sql("BEGIN" if options.get(READS) else "BEGIN IMMEDIATE")


def is_write_conflict(error: BaseException) -> bool:
    """SQLite refused a deferred transaction's write because another writer came first."""
    if not isinstance(error, OperationalError):
        return False
    message = str(error.orig).lower()
    return "database is locked" in message or "database is busy" in message


# pg_advisory_xact_lock key held by `flask db upgrade` and `flask reference load`.
STARTUP_LOCK_KEY = 0x51_4B_52_44  # "SKRD"


def hold_startup_lock(connection: Connection, *, wait_seconds: int = 600) -> None:
    """One instance at a time migrates or loads reference data (PostgreSQL; SQLite has one writer).

    Containers started together all run the same start command: the first takes this lock for
    its transaction, the others wait for it (up to `wait_seconds`), then find the schema at head
    and the data loaded, and do nothing. Once held, no statement may wait on a lock for more
    than 10 s nor run for more than `wait_seconds`, so a stuck start fails instead of hanging.
    """
    if connection.dialect.name != "postgresql":
        return
    connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(wait_seconds)}s'")
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": STARTUP_LOCK_KEY})
    connection.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
    connection.exec_driver_sql(f"SET LOCAL statement_timeout = '{int(wait_seconds)}s'")


def make_session_factory(engine: Engine) -> sessionmaker[Any]:
    return sessionmaker(bind=engine, expire_on_commit=False)


__all__ = [
    "READS",
    "Base",
    "BigInteger",
    "Mapped",
    "country_code",
    "created_at",
    "currency_code",
    "is_write_conflict",
    "make_engine",
    "make_session_factory",
    "mapped_column",
    "minor_units",
    "new_id",
    "utcnow",
    "uuid_pk",
]
