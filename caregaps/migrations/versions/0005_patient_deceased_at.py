"""patient deceased_at (Patient.deceasedDateTime)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 16:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('patient') as batch:
        batch.add_column(sa.Column('deceased_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('patient') as batch:
        batch.drop_column('deceased_at')
