"""listing image galleries; sellers' low-stock thresholds; an index for origin facets

Revision ID: 0130_images
Revises: 0120_invitations
Create Date: 2026-12-02 06:50:00.000000

All are additions (a table, a nullable column, an index): the release before keeps working.
"""
from alembic import op
import sqlalchemy as sa
import marketplace.db


revision = '0130_images'
down_revision = '0120_invitations'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('listing_images',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('listing_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('thumb', sa.String(length=80), nullable=False),
    sa.Column('medium', sa.String(length=80), nullable=False),
    sa.Column('large', sa.String(length=80), nullable=False),
    sa.Column('alt', sa.JSON(), nullable=False),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_listing_images_listing_id_listings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listing_images'))
    )
    op.create_index('ix_listing_images_listing_position', 'listing_images', ['listing_id', 'position'], unique=False)
    # Plain ALTER TABLE (SQLite has had ADD and DROP COLUMN since 3.35): a batch copy of the
    # table would lose the full-text triggers on it.
    op.add_column('listings', sa.Column('low_stock_threshold', sa.Integer(), nullable=True))
    op.create_index('ix_listings_status_origin', 'listings', ['status', 'origin_country'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_listings_status_origin', table_name='listings')
    op.drop_column('listings', 'low_stock_threshold')
    op.drop_index('ix_listing_images_listing_position', table_name='listing_images')
    op.drop_table('listing_images')
