"""measure targets of the quality dashboard

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 19:20:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('measure_target',
    sa.Column('measure_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('target', sa.Float(), nullable=False),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('measure_id'))


def downgrade() -> None:
    op.drop_table('measure_target')
