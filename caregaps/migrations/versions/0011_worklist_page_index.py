"""worklist items by practice, priority (descending) and id, with their status: a worklist page's
ids come from the index alone, however deep the page

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 19:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_worklist_page', 'worklist_item', ['practice_id', sa.text('priority DESC'), 'id', 'status'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_worklist_page', table_name='worklist_item')
