"""Enum columns: the database itself keeps each one to its enum's values, not only the models."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import JSON, CheckConstraint, Column, Connection, Date, Table, insert, text
from sqlalchemy.exc import IntegrityError

from marketplace.db import ExactDecimal, StrEnumColumn, UTCDateTime, enum_check
from marketplace.models import metadata

ENUM_COLUMNS = [
    (table, column)
    for table in metadata.sorted_tables
    for column in table.columns
    if isinstance(column.type, StrEnumColumn)
]
# Required string columns a CHECK keeps to more than any text.
_CHECKED_TEXT = {("orders", "incoterm"): "DAP", ("carts", "incoterm"): "DDP"}
_serial = itertools.count()


def _ids(item: tuple[Table, Column[Any]]) -> str:
    return f"{item[0].name}.{item[1].name}"


@pytest.mark.parametrize(("table", "column"), ENUM_COLUMNS, ids=[_ids(i) for i in ENUM_COLUMNS])
def test_every_enum_column_has_the_check_of_its_enum(table: Table, column: Column[Any]) -> None:
    checks = {str(c.sqltext) for c in table.constraints if isinstance(c, CheckConstraint)}
    assert enum_check(column.name, column.type.enum_type) in checks


@pytest.mark.parametrize(("table", "column"), ENUM_COLUMNS, ids=[_ids(i) for i in ENUM_COLUMNS])
def test_the_migrated_database_takes_every_member_and_refuses_anything_else(
    connection: Connection, table: Table, column: Column[Any]
) -> None:
    key = _insert_row(connection, table)
    where = " AND ".join(f"{name} = :key_{name}" for name in key)
    params = {f"key_{name}": value for name, value in key.items()}
    update = text(f"UPDATE {table.name} SET {column.name} = :value WHERE {where}")
    for member in column.type.enum_type:
        assert connection.execute(update, {**params, "value": member.value}).rowcount == 1
    refused = pytest.raises(IntegrityError, match=f"ck_{table.name}_{column.name}")
    with refused, connection.begin_nested():
        # Short enough for the column: PostgreSQL would refuse a longer one for its length.
        connection.execute(update, {**params, "value": "not-a-member"[: column.type.length]})


def _insert_row(connection: Connection, table: Table) -> dict[str, Any]:
    """Insert a row of `table` (and the rows it must refer to); answer its primary key."""
    values: dict[str, Any] = {}
    for column in table.columns:
        if column.nullable or column.default is not None or column.server_default is not None:
            continue
        foreign = next(iter(column.foreign_keys), None)
        if foreign is not None:
            parent = _insert_row(connection, foreign.column.table)
            values[column.name] = parent[foreign.column.name]
        else:
            values[column.name] = _value(table, column)
    result = connection.execute(insert(table).values(**values))
    return dict(zip((c.name for c in table.primary_key), result.inserted_primary_key, strict=True))


def _value(table: Table, column: Column[Any]) -> Any:
    """A plain valid value for a required column, unique where text is (unique keys)."""
    kind = column.type
    if isinstance(kind, StrEnumColumn):
        return next(iter(kind.enum_type))
    if (table.name, column.name) in _CHECKED_TEXT:
        return _CHECKED_TEXT[(table.name, column.name)]
    if isinstance(kind, ExactDecimal):
        return Decimal(1)
    if isinstance(kind, UTCDateTime):
        return dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    if isinstance(kind, Date):
        return dt.date(2026, 12, 1)
    if isinstance(kind, JSON):
        return {}
    python_type = kind.python_type
    if python_type is str:
        return f"{next(_serial)}"[: getattr(kind, "length", None) or 64]
    return {int: 1, bool: False, bytes: b"%PDF"}[python_type]
