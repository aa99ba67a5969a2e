"""carts; buyers' address books; order history by status; order lines in the buyer's language; bank transfers due by a date

Revision ID: 0140_checkout
Revises: 0150_events
Create Date: 2026-12-02 06:50:00.000000

A migration must not break the release before it: every new column is nullable.
"""
from alembic import op
import sqlalchemy as sa
import marketplace.db


revision = '0140_checkout'
down_revision = '0150_events'
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
    op.create_table('carts',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('locale', sa.String(length=35), nullable=True),
    sa.Column('incoterm', sa.String(length=3), nullable=False),
    sa.Column('ship_to', sa.JSON(), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('broker_id', sa.String(length=36), nullable=True),
    sa.Column('order_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("incoterm IN ('DAP', 'DDP')", name=op.f('ck_carts_incoterm')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_carts_order_id_orders'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_carts_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carts'))
    )
    with op.batch_alter_table('carts', schema=None) as batch_op:
        batch_op.create_index('ix_carts_updated_at', ['updated_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_carts_user_id'), ['user_id'], unique=False)
    op.create_table('cart_lines',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('cart_id', sa.String(length=36), nullable=False),
    sa.Column('listing_id', sa.String(length=36), nullable=False),
    sa.Column('variant_id', sa.String(length=36), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_cart_lines_quantity_positive')),
    sa.ForeignKeyConstraint(['cart_id'], ['carts.id'], name=op.f('fk_cart_lines_cart_id_carts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_cart_lines_listing_id_listings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cart_lines'))
    )
    with op.batch_alter_table('cart_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cart_lines_cart_id'), ['cart_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cart_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cart_lines_cart_id'))
    op.drop_table('cart_lines')
    with op.batch_alter_table('carts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_carts_user_id'))
        batch_op.drop_index('ix_carts_updated_at')
    op.drop_table('carts')
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
