"""CHECK constraints on the enum columns that had none: refund status, webhook event action and
outcome, rate and rate-set source

Revision ID: 0200_enum_checks
Revises: 0160_variants
Create Date: 2026-12-03 07:00:00.000000

Every release has written these columns from their enums only (the models load nothing else),
so existing rows satisfy the constraints and the release before runs beside this one. The values
are written out here, as they are at this revision, not read from the enums that may grow later.
SQLite adds a CHECK by rebuilding the table; dropping the old `rate_sets` would delete every rate
(ON DELETE CASCADE), so the rates are kept aside meanwhile.
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

# table -> (constraint name, column, allowed values); rates before rate_sets, see _rates_kept.
CHECKS = {
    "payment_refunds": [("status", "status", PAYMENT_STATUSES)],
    "webhook_events": [
        ("action", "action", WEBHOOK_ACTIONS),
        ("outcome", "outcome", WEBHOOK_OUTCOMES),
    ],
    "rates": [("source", "source", RATE_SOURCES)],
    "rate_sets": [("source", "source", RATE_SOURCES)],
}


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def upgrade() -> None:
    for table, checks in CHECKS.items():
        with _rates_kept(table), op.batch_alter_table(table, schema=None) as batch_op:
            for name, column, values in checks:
                batch_op.create_check_constraint(
                    batch_op.f(f"ck_{table}_{name}"), _one_of(column, values)
                )


def downgrade() -> None:
    for table, checks in reversed(CHECKS.items()):
        with _rates_kept(table), op.batch_alter_table(table, schema=None) as batch_op:
            for name, _column, _values in reversed(checks):
                batch_op.drop_constraint(batch_op.f(f"ck_{table}_{name}"), type_="check")


@contextlib.contextmanager
def _rates_kept(table: str) -> Iterator[None]:
    """Rebuilding `rate_sets` on SQLite drops the old table, which deletes its rates: keep them."""
    keep = table == "rate_sets" and op.get_bind().dialect.name == "sqlite"
    if keep:
        op.execute("CREATE TEMPORARY TABLE kept_rates AS SELECT * FROM rates")
    yield
    if keep:
        op.execute("INSERT INTO rates SELECT * FROM kept_rates")
        op.execute("DROP TABLE kept_rates")
