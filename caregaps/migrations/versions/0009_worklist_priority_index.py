"""worklist items by practice and priority (the worklist page's order)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 17:00:00
"""
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('worklist_item', schema=None) as batch_op:
        batch_op.create_index('ix_worklist_priority', ['practice_id', 'priority'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('worklist_item', schema=None) as batch_op:
        batch_op.drop_index('ix_worklist_priority')
