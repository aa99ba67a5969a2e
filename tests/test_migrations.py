"""Migrations: head equals the models exactly, and everything downgrades to an empty database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import JSON, CheckConstraint, MetaData, Table, insert, inspect, text

from marketplace.cli import alembic_config
from marketplace.db import make_engine
from marketplace.models import include_object, metadata
from tests.database import fresh_database


def test_upgrade_to_head_gives_the_models_schema_and_downgrade_empties_it() -> None:
    with fresh_database("migrations") as url:
        engine = make_engine(url)
        config = alembic_config(url)
        try:
            with engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
            with engine.connect() as connection:
                context = MigrationContext.configure(
                    connection,
                    opts={
                        "compare_type": True,
                        "compare_server_default": True,
                        "include_object": include_object,
                    },
                )
                assert compare_metadata(context, metadata) == []
                # Autogenerate compares no CHECK constraints: every model's must exist by name.
                found = inspect(connection)
                for table in metadata.sorted_tables:
                    assert {c["name"] for c in found.get_check_constraints(table.name)} == {
                        c.name for c in table.constraints if isinstance(c, CheckConstraint)
                    }, table.name
            with engine.begin() as connection:
                config.attributes["connection"] = connection
                command.downgrade(config, "base")
            tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
            assert tables == set()
        finally:
            engine.dispose()


# Values for columns whose checks a generic filler would break, by table.
_KNOWN = {
    "organisations": {"kind": "seller"},
    "listings": {"status": "published", "weight_grams": 500, "price_minor": 12_800},
    "orders": {"status": "pending_payment", "incoterm": "DAP"},
    "shipments": {"status": "awaiting_payment", "incoterm": "DAP", "service_class": "letter_post"},
    "order_lines": {"quantity": 2},
    "carts": {"incoterm": "DDP"},
    "cart_lines": {"quantity": 1, "variant_id": None},
    "payments": {"status": "succeeded", "amount_minor": 5_000, "refunded_minor": 1_000},
    "payment_refunds": {"status": "succeeded", "amount_minor": 1_000},
    "webhook_events": {"action": "refunded", "outcome": "applied"},
    "rate_sets": {"source": "ecb"},
    "rates": {"source": "operator"},
}


def _insert_sold_line(connection: Any, **listing: Any) -> None:
    """A buyer, a seller, listing l1 and its order line ol1 on shipment s1, with a correction."""
    _insert(connection, "users", id="u1", email="b@example.com", email_key="b@example.com")
    _insert(connection, "organisations", id="o1")
    _insert(connection, "listings", id="l1", seller_id="o1", sku="TEA", **listing)
    _insert(connection, "orders", id="r1", number="SR-1", buyer_id="u1")
    _insert(connection, "shipments", id="s1", order_id="r1", seller_id="o1", number="SR-1-1")
    _insert(
        connection,
        "order_lines",
        id="ol1",
        order_id="r1",
        shipment_id="s1",
        listing_id="l1",
        sku="TEA",
    )
    _insert(connection, "customs_corrections", line_id="ol1", shipment_id="s1")


def _insert(connection: Any, table: str, **values: Any) -> None:
    """A row with `values`, every other required column filled with a plain value of its type."""
    reflected = Table(table, MetaData(), autoload_with=connection)
    row: dict[str, Any] = {}
    for column in reflected.columns:
        if column.nullable or column.server_default is not None:
            continue
        kind = column.type.python_type if not isinstance(column.type, JSON) else dict
        row[column.name] = {
            str: f"{table[:4]}-{column.name}"[: getattr(column.type, "length", None) or 64],
            int: 1,
            bool: False,
            dict: {},
            bytes: b"%PDF",
            dt.datetime: dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
            dt.date: dt.date(2026, 12, 1),
            Decimal: Decimal(1),
        }[kind]
    row.update(_KNOWN.get(table, {}))
    row.update(values)
    connection.execute(insert(reflected).values(**row))


def test_every_listing_becomes_its_default_variant_and_back_with_every_row_kept() -> None:
    """A database at the release before variants, with listings, a pending order holding stock,
    a customs correction, a translation, a cart line and an issued document, migrates up and
    down with every row kept (SQLite rebuilds tables: nothing may cascade away)."""
    with fresh_database("variants") as url:
        engine = make_engine(url)
        config = alembic_config(url)
        try:
            with engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "0190_pending_transfers")
                _insert_sold_line(connection, stock=7)
                _insert(connection, "listings", id="l2", seller_id="o1", sku="POT", stock=0)
                _insert(connection, "listing_translations", listing_id="l1", locale="ru")
                _insert(connection, "carts", id="c1")
                _insert(connection, "cart_lines", id="cl1", cart_id="c1", listing_id="l2")
                _insert(connection, "customs_documents", id="d1", shipment_id="s1", version=1)
            counts = _counts(engine)
            with engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
            with engine.connect() as connection:
                variants = connection.execute(
                    text("SELECT id, listing_id, sku, stock FROM listing_variants ORDER BY id")
                ).all()
                assert [tuple(v) for v in variants] == [
                    ("l1", "l1", "TEA", 7),
                    ("l2", "l2", "POT", 0),
                ]
                assert (
                    connection.execute(text("SELECT variant_id FROM order_lines")).scalar() == "l1"
                )
                assert (
                    connection.execute(text("SELECT variant_id FROM cart_lines")).scalar() == "l2"
                )
            assert _counts(engine) == counts
            with engine.begin() as connection:
                config.attributes["connection"] = connection
                connection.execute(text("UPDATE listing_variants SET stock = 5 WHERE id = 'l1'"))
                command.downgrade(config, "0190_pending_transfers")
            with engine.connect() as connection:
                stocks = connection.execute(
                    text("SELECT id, stock FROM listings ORDER BY id")
                ).all()
                assert [tuple(s) for s in stocks] == [("l1", 5), ("l2", 0)]
            assert _counts(engine) == counts
        finally:
            engine.dispose()


def _counts(engine: Any) -> dict[str, int]:
    tables = ("users", "organisations", "listings", "orders", "shipments", "order_lines")
    tables += ("cart_lines", "customs_documents")
    with engine.connect() as connection:
        return {
            table: connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
            for table in (*tables, "customs_corrections", "listing_translations", "carts")
        }


def test_enum_checks_keep_every_row_up_and_down() -> None:
    """Refunds, webhook events, rate sets, shipments and every row that refers to them survive
    0200 both ways (SQLite rebuilds each table: dropping the old `rate_sets` would cascade to its
    rates, the old `shipments` to its lines and their corrections, or be refused for its
    documents, ledger entries and refunds)."""
    with fresh_database("enum_checks") as url:
        engine = make_engine(url)
        config = alembic_config(url)
        try:
            with engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "0160_variants")
                _insert_sold_line(connection)
                _insert(connection, "customs_documents", id="d1", shipment_id="s1", version=1)
                _insert(connection, "payments", id="p1", order_id="r1")
                _insert(
                    connection,
                    "payment_refunds",
                    id="pr1",
                    payment_id="p1",
                    reference="re",
                    shipment_id="s1",
                )
                _insert(
                    connection,
                    "ledger_entries",
                    id="le1",
                    seller_id="o1",
                    shipment_id="s1",
                    kind="sale",
                )
                _insert(connection, "webhook_events", id="w1", event_id="evt_1")
                _insert(connection, "rate_sets", id="rs1", seq=1)
                _insert(
                    connection, "rates", id=1, rate_set_id="rs1", currency="KZT", rate="512.3456"
                )
                _insert(connection, "rates", id=2, rate_set_id="rs1", currency="USD", rate="1.0832")
            rows = _rows(engine)
            for target in ("head", "0160_variants"):
                with engine.begin() as connection:
                    config.attributes["connection"] = connection
                    if target == "head":
                        command.upgrade(config, target)
                    else:
                        command.downgrade(config, target)
                assert _rows(engine) == rows
        finally:
            engine.dispose()


def _rows(engine: Any) -> dict[str, list[tuple[Any, ...]]]:
    tables = ("payment_refunds", "webhook_events", "rate_sets", "rates", "shipments")
    tables += ("order_lines", "customs_corrections", "customs_documents", "ledger_entries")
    with engine.connect() as connection:
        return {
            table: [
                tuple(row) for row in connection.execute(text(f"SELECT * FROM {table} ORDER BY 1"))
            ]
            for table in tables
        }
