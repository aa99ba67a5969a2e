"""a token may be scoped to one order (a guest's checkout)

Revision ID: 0170_order_tokens
Revises: 0140_checkout
Create Date: 2026-12-02 17:45:00.000000

A nullable column: existing tokens stay full tokens of their user.
"""
from alembic import op
import sqlalchemy as sa


revision = '0170_order_tokens'
down_revision = '0140_checkout'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('order_id', sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('order_id')
