"""facts by practice, patient and time (end, else start): the patient page's timeline reads a
patient's latest facts from the index instead of sorting all of them

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 19:05:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_fact_timeline', 'fact', ['practice_id', 'patient_id', sa.text('coalesce("end", start)')],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_fact_timeline', table_name='fact')
