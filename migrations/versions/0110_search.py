"""search index: postings with BM25F scores, typo vocabulary, title keys for type-ahead

Revision ID: 0110_search
Revises: 0130_images
Create Date: 2026-12-02 07:00:00.000000

A migration must not break the release before it: add columns nullable or with a default,
backfill, then tighten in a later release. The substring indexes of 0030 (SQLite FTS5 trigram
table and triggers, PostgreSQL pg_trgm GIN index) are no longer read and are dropped; the new
tables start empty: run `flask search reindex` once after upgrading a database with listings.
"""
from alembic import op
import sqlalchemy as sa


revision = '0110_search'
down_revision = '0130_images'
branch_labels = None
depends_on = None

SQLITE_SUBSTRING = [
    "CREATE VIRTUAL TABLE listings_fts USING fts5("
    "search_text, content='listings', content_rowid='rowid', tokenize='trigram')",
    "CREATE TRIGGER listings_fts_insert AFTER INSERT ON listings BEGIN "
    "INSERT INTO listings_fts(rowid, search_text) VALUES (new.rowid, new.search_text); END",
    "CREATE TRIGGER listings_fts_delete AFTER DELETE ON listings BEGIN "
    "INSERT INTO listings_fts(listings_fts, rowid, search_text) "
    "VALUES ('delete', old.rowid, old.search_text); END",
    "CREATE TRIGGER listings_fts_update AFTER UPDATE OF search_text ON listings BEGIN "
    "INSERT INTO listings_fts(listings_fts, rowid, search_text) "
    "VALUES ('delete', old.rowid, old.search_text); "
    "INSERT INTO listings_fts(rowid, search_text) VALUES (new.rowid, new.search_text); END",
    "INSERT INTO listings_fts(listings_fts) VALUES ('rebuild')",
]
SQLITE_SUBSTRING_DROP = [
    "DROP TRIGGER IF EXISTS listings_fts_update",
    "DROP TRIGGER IF EXISTS listings_fts_delete",
    "DROP TRIGGER IF EXISTS listings_fts_insert",
    "DROP TABLE IF EXISTS listings_fts",
]
POSTGRES_SUBSTRING = [
    "CREATE INDEX ix_listings_search_trgm ON listings USING gin (search_text gin_trgm_ops)",
]
POSTGRES_SUBSTRING_DROP = ["DROP INDEX IF EXISTS ix_listings_search_trgm"]


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE_SUBSTRING_DROP if sqlite else POSTGRES_SUBSTRING_DROP:
        op.execute(statement)
    op.create_table('search_postings',
    sa.Column('listing_id', sa.String(length=36), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_search_postings_listing_id_listings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('listing_id', 'token', name=op.f('pk_search_postings'))
    )
    with op.batch_alter_table('search_postings', schema=None) as batch_op:
        batch_op.create_index('ix_search_postings_token_score', ['token', 'score', 'listing_id'], unique=False)

    op.create_table('search_vocabulary',
    sa.Column('variant', sa.String(length=64), nullable=False),
    sa.Column('word', sa.String(length=64), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('variant', 'word', 'token', name=op.f('pk_search_vocabulary'))
    )
    op.create_table('search_title_keys',
    sa.Column('locale', sa.String(length=35), nullable=False),
    sa.Column('key', sa.String(length=32).with_variant(sa.String(length=32, collation='C'), 'postgresql'), nullable=False),
    sa.Column('listing_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_search_title_keys_listing_id_listings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('locale', 'key', 'listing_id', name=op.f('pk_search_title_keys'))
    )
    with op.batch_alter_table('search_title_keys', schema=None) as batch_op:
        batch_op.create_index('ix_search_title_keys_listing_id', ['listing_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('search_title_keys', schema=None) as batch_op:
        batch_op.drop_index('ix_search_title_keys_listing_id')
    op.drop_table('search_title_keys')
    op.drop_table('search_vocabulary')
    with op.batch_alter_table('search_postings', schema=None) as batch_op:
        batch_op.drop_index('ix_search_postings_token_score')
    op.drop_table('search_postings')
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE_SUBSTRING if sqlite else POSTGRES_SUBSTRING:
        op.execute(statement)
