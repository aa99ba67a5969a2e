"""customs documents belong to shipments; sellers' corrections of customs data

Revision ID: 0080_documents_fk
Revises: 0070_payments_orders_fk
Create Date: 2026-11-28 18:20:00.000000

A migration must not break the release before it: add columns nullable or with a default,
backfill, then tighten in a later release. Documents of shipments that do not exist could only
come from tests of the document store before orders existed; none exist in a deployment.
"""
from alembic import op
import sqlalchemy as sa
import marketplace.db


revision = '0080_documents_fk'
down_revision = '0070_payments_orders_fk'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('customs_documents', schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f('fk_customs_documents_shipment_id_shipments'), 'shipments', ['shipment_id'], ['id'],
            ondelete='RESTRICT',
        )
    op.create_table('customs_corrections',
    sa.Column('line_id', sa.String(length=36), nullable=False),
    sa.Column('shipment_id', sa.String(length=36), nullable=False),
    sa.Column('hs_code', sa.String(length=10), nullable=True),
    sa.Column('description', sa.String(length=200), nullable=True),
    sa.Column('origin_country', sa.String(length=2), nullable=True),
    sa.Column('corrected_by', sa.String(length=36), nullable=False),
    sa.Column('corrected_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['line_id'], ['order_lines.id'], name=op.f('fk_customs_corrections_line_id_order_lines'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'], name=op.f('fk_customs_corrections_shipment_id_shipments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('line_id', name=op.f('pk_customs_corrections'))
    )
    with op.batch_alter_table('customs_corrections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customs_corrections_shipment_id'), ['shipment_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('customs_corrections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customs_corrections_shipment_id'))
    op.drop_table('customs_corrections')
    with op.batch_alter_table('customs_documents', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_customs_documents_shipment_id_shipments'), type_='foreignkey')
