"""fact_time: other elements that date a fact (`dated by:` in a measure)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08 02:05:00

Facts stored before this revision have none; a cancelled Observation's `issued` is kept from
the next import of the practice's export on.
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'fact_time',
        sa.Column('fact_id', sa.BigInteger(), nullable=False),
        sa.Column('dating', sa.String(length=16), nullable=False),
        sa.Column('start', sa.DateTime(), nullable=True),
        sa.Column('end', sa.DateTime(), nullable=True),
        sa.Column('start_latest', sa.DateTime(), nullable=True),
        sa.Column('end_earliest', sa.DateTime(), nullable=True),
        sa.Column('start_day', sa.Date(), nullable=True),
        sa.Column('end_day', sa.Date(), nullable=True),
        sa.Column('start_day_latest', sa.Date(), nullable=True),
        sa.Column('end_day_earliest', sa.Date(), nullable=True),
        sa.Column('time_offset', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('fact_id', 'dating'),
    )


def downgrade() -> None:
    op.drop_table('fact_time')
