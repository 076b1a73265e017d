"""patient sex (US Core sex extension)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 16:10:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('patient') as batch:
        batch.add_column(sa.Column('sex', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('patient') as batch:
        batch.drop_column('sex')
