"""listing variants: every listing becomes one default variant holding its stock

Revision ID: 0160_variants
Revises: 0190_pending_transfers
Create Date: 2026-12-02 17:28:21.333707

Each listing's default variant takes the listing's id, SKU and stock, so order lines (and with
them pending orders' reservations) and cart lines point at it by the listing id they already
hold. The stock now lives on the variants; `listings.stock` is no longer read or written and stays
only because dropping it would make SQLite rebuild `listings`, and rebuilding a table deletes
the rows that reference it with ON DELETE CASCADE (translations, images, the search index).
This release and the one before cannot run side by side (that one reserves `listings.stock`):
stop it before upgrading. New columns are nullable; nothing here rebuilds a referenced table.
Downgrade gives each listing the stock of its offered variants and forgets the variants.
"""

import contextlib
from collections.abc import Iterator
from typing import Any

from alembic import op
import sqlalchemy as sa
import marketplace.db


revision = "0160_variants"
down_revision = "0190_pending_transfers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('listing_variants',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('listing_id', sa.String(length=36), nullable=False),
    sa.Column('seller_id', sa.String(length=36), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('price_minor', sa.BigInteger(), nullable=True),
    sa.Column('stock', sa.Integer(), nullable=False),
    sa.Column('low_stock_threshold', sa.Integer(), nullable=True),
    sa.Column('weight_grams', sa.Integer(), nullable=True),
    sa.Column('hs_code', sa.String(length=10), nullable=True),
    sa.Column('removed_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('price_minor >= 0', name=op.f('ck_listing_variants_price_not_negative')),
    sa.CheckConstraint('stock >= 0', name=op.f('ck_listing_variants_stock_not_negative')),
    sa.CheckConstraint('weight_grams > 0', name=op.f('ck_listing_variants_weight_positive')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_listing_variants_listing_id_listings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['seller_id'], ['organisations.id'], name=op.f('fk_listing_variants_seller_id_organisations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listing_variants')),
    sa.UniqueConstraint('seller_id', 'sku', name=op.f('uq_listing_variants_seller_id_sku'))
    )
    op.create_index('ix_listing_variants_listing_position', 'listing_variants', ['listing_id', 'position'], unique=False)
    empty = _json('{}')
    op.execute(
        "INSERT INTO listing_variants (id, listing_id, seller_id, sku, position, options, stock,"
        " created_at) SELECT id, id, seller_id, sku, 0, " + empty + ", stock, created_at"
        " FROM listings"
    )
    op.add_column('listings', sa.Column('option_axes', sa.JSON(), nullable=True))
    op.add_column('listing_translations', sa.Column('options', sa.JSON(), nullable=True))

    # Lines made before variants could only mean the listing's one variant. Nothing references
    # cart lines, so SQLite may rebuild their table to add the foreign key.
    op.execute("UPDATE cart_lines SET variant_id = listing_id")
    with op.batch_alter_table('cart_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cart_lines_variant_id'), ['variant_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_cart_lines_variant_id_listing_variants'), 'listing_variants', ['variant_id'], ['id'], ondelete='CASCADE')

    with _order_lines_batch() as batch_op:
        batch_op.add_column(sa.Column('variant_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('options', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('buyer_options', sa.JSON(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_order_lines_variant_id_listing_variants'), 'listing_variants', ['variant_id'], ['id'], ondelete='RESTRICT')
    op.execute(f"UPDATE order_lines SET variant_id = listing_id, options = {empty}")
    op.create_index(op.f('ix_order_lines_variant_id'), 'order_lines', ['variant_id'], unique=False)


def downgrade() -> None:
    op.execute(
        "UPDATE listings SET stock = (SELECT COALESCE(SUM(v.stock), 0) FROM listing_variants v"
        " WHERE v.listing_id = listings.id AND v.removed_at IS NULL)"
    )
    op.drop_index(op.f('ix_order_lines_variant_id'), table_name='order_lines')
    with _order_lines_batch() as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_order_lines_variant_id_listing_variants'), type_='foreignkey')
        batch_op.drop_column('buyer_options')
        batch_op.drop_column('options')
        batch_op.drop_column('variant_id')

    with op.batch_alter_table('cart_lines', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_cart_lines_variant_id_listing_variants'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_cart_lines_variant_id'))
    # Before variants a line's variant id meant nothing: the listing's one variant is implied.
    op.execute("UPDATE cart_lines SET variant_id = NULL")

    op.drop_column('listing_translations', 'options')
    op.drop_column('listings', 'option_axes')
    op.drop_index('ix_listing_variants_listing_position', table_name='listing_variants')
    op.drop_table('listing_variants')


@contextlib.contextmanager
def _order_lines_batch() -> Iterator[Any]:
    """Alter `order_lines`; SQLite does it by rebuilding the table, and dropping the old one
    deletes the customs corrections that cascade from its rows: they are kept aside meanwhile."""
    sqlite = op.get_bind().dialect.name == 'sqlite'
    if sqlite:
        op.execute("CREATE TEMPORARY TABLE kept_corrections AS SELECT * FROM customs_corrections")
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        yield batch_op
    if sqlite:
        op.execute("INSERT INTO customs_corrections SELECT * FROM kept_corrections")
        op.execute("DROP TABLE kept_corrections")


def _json(literal: str) -> str:
    """A JSON literal in SQL (PostgreSQL needs the cast, SQLite stores the text)."""
    if op.get_bind().dialect.name == "postgresql":
        return f"CAST('{literal}' AS JSON)"
    return f"'{literal}'"
