"""CHECK constraints on the enum columns that had none: refund status, webhook event action and
outcome, rate and rate-set source, shipment incoterm

Revision ID: 0200_enum_checks
Revises: 0160_variants
Create Date: 2026-12-03 07:00:00.000000

Every release has written these columns from their enums only (the models load nothing else),
so existing rows satisfy the constraints and the release before runs beside this one. The values
are written out here, as they are at this revision, not read from the enums that may grow later.
SQLite adds a CHECK by rebuilding the table, and dropping the old one would delete the rows that
refer to it (ON DELETE CASCADE: a rate set's rates, a shipment's lines and their corrections) or
be refused (RESTRICT: a shipment's documents, ledger entries and refunds): those rows are kept
aside in temporary tables meanwhile and put back.
"""

import contextlib
from collections.abc import Iterator

from alembic import op


revision = "0200_enum_checks"
down_revision = "0160_variants"
branch_labels = None
depends_on = None

PAYMENT_STATUSES = (
    "pending",
    "requires_action",
    "succeeded",
    "failed",
    "refunded",
    "partially_refunded",
    "cancelled",
)
WEBHOOK_ACTIONS = ("payment_succeeded", "payment_failed", "refunded", "ignored")
WEBHOOK_OUTCOMES = ("applied", "unhandled", "unmatched", "ignored", "duplicate")
RATE_SOURCES = ("ecb", "operator", "demo")
INCOTERMS = ("DAP", "DDP")

# table -> (constraint name, column, allowed values)
CHECKS = {
    "payment_refunds": [("status", "status", PAYMENT_STATUSES)],
    "webhook_events": [
        ("action", "action", WEBHOOK_ACTIONS),
        ("outcome", "outcome", WEBHOOK_OUTCOMES),
    ],
    "rates": [("source", "source", RATE_SOURCES)],
    "rate_sets": [("source", "source", RATE_SOURCES)],
    "shipments": [("incoterm", "incoterm", INCOTERMS)],
}
# The tables whose rows refer to a table SQLite rebuilds, each before the tables it refers to.
REFERRERS = {
    "rate_sets": ("rates",),
    "shipments": (
        "customs_corrections",
        "order_lines",
        "customs_documents",
        "ledger_entries",
        "payment_refunds",
    ),
}


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def upgrade() -> None:
    for table, checks in CHECKS.items():
        with _referrers_kept(table), op.batch_alter_table(table, schema=None) as batch_op:
            for name, column, values in checks:
                batch_op.create_check_constraint(
                    batch_op.f(f"ck_{table}_{name}"), _one_of(column, values)
                )


def downgrade() -> None:
    for table, checks in reversed(CHECKS.items()):
        with _referrers_kept(table), op.batch_alter_table(table, schema=None) as batch_op:
            for name, _column, _values in reversed(checks):
                batch_op.drop_constraint(batch_op.f(f"ck_{table}_{name}"), type_="check")


@contextlib.contextmanager
def _referrers_kept(table: str) -> Iterator[None]:
    """On SQLite, set aside the rows that refer to `table` while it is rebuilt, then restore them."""
    kept = REFERRERS.get(table, ()) if op.get_bind().dialect.name == "sqlite" else ()
    for referrer in kept:
        op.execute(f"CREATE TEMPORARY TABLE kept_{referrer} AS SELECT * FROM {referrer}")
        op.execute(f"DELETE FROM {referrer}")
    yield
    for referrer in reversed(kept):
        op.execute(f"INSERT INTO {referrer} SELECT * FROM kept_{referrer}")
        op.execute(f"DROP TABLE kept_{referrer}")
