"""buyers' address books; order history by status; order lines in the buyer's language; bank transfers due by a date

Revision ID: 0140_checkout
Revises: 0080_documents_fk
Create Date: 2026-12-02 06:50:00.000000

A migration must not break the release before it: every new column is nullable.
"""
from alembic import op
import sqlalchemy as sa
import marketplace.db


revision = '0140_checkout'
down_revision = '0080_documents_fk'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('saved_addresses',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('line1', sa.String(length=200), nullable=False),
    sa.Column('line2', sa.String(length=200), nullable=True),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('region', sa.String(length=100), nullable=True),
    sa.Column('postal_code', sa.String(length=20), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('phone', sa.String(length=30), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_saved_addresses_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_addresses'))
    )
    with op.batch_alter_table('saved_addresses', schema=None) as batch_op:
        batch_op.create_index('ix_saved_addresses_user_id_created_at', ['user_id', 'created_at'], unique=False)
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_buyer_status_created', ['buyer_id', 'status', 'created_at'], unique=False)
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('buyer_title', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('buyer_locale', sa.String(length=35), nullable=True))
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_at', marketplace.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_column('due_at')
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_column('buyer_locale')
        batch_op.drop_column('buyer_title')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_buyer_status_created')
    with op.batch_alter_table('saved_addresses', schema=None) as batch_op:
        batch_op.drop_index('ix_saved_addresses_user_id_created_at')
    op.drop_table('saved_addresses')
