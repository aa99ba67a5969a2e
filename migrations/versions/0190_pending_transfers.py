"""an index for the expiry job's search for bank transfers still awaited

Revision ID: 0190_pending_transfers
Revises: 0170_order_tokens
Create Date: 2026-12-02 17:40:00.000000

A migration must not break the release before it: add columns nullable or with a default,
backfill, then tighten in a later release.
"""
from alembic import op


revision = '0190_pending_transfers'
down_revision = '0170_order_tokens'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index('ix_payments_status_gateway', ['status', 'gateway'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index('ix_payments_status_gateway')
