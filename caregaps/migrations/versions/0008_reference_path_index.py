"""index references by path (medicationReference lookups of the measure engine)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 16:40:00
"""
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('resource_reference', schema=None) as batch_op:
        batch_op.create_index('ix_ref_path', ['practice_id', 'path', 'source_type'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('resource_reference', schema=None) as batch_op:
        batch_op.drop_index('ix_ref_path')
