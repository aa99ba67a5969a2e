"""shipping rates and shipments carry their postal service class

Revision ID: 0100_customs_service_class
Revises: 0080_documents_fk
Create Date: 2026-12-02 07:00:00.000000

The class (letter post, parcel post, courier) decides the customs form: parcel post always takes a
CN 23, letter post a CN 22 below 300 SDR, courier none. Existing rows become letter post, which is
what the forms were chosen as before, so no issued document changes.
"""
from alembic import op
import sqlalchemy as sa


revision = '0100_customs_service_class'
down_revision = '0080_documents_fk'
branch_labels = None
depends_on = None

CLASSES = "service_class IN ('letter_post', 'parcel_post', 'courier')"


def upgrade() -> None:
    for table in ('shipping_rates', 'shipments'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column('service_class', sa.String(length=16), server_default='letter_post', nullable=False)
            )
            batch_op.create_check_constraint(batch_op.f(f'ck_{table}_service_class'), CLASSES)


def downgrade() -> None:
    for table in ('shipments', 'shipping_rates'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'ck_{table}_service_class'), type_='check')
            batch_op.drop_column('service_class')
