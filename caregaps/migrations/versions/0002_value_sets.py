"""value sets

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 14:26:01.207458
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('value_set',
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('version', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('codes', sa.Integer(), nullable=False),
    sa.Column('content_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('loaded_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('url')
    )
    op.create_table('value_set_code',
    sa.Column('value_set', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('system', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('display', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.PrimaryKeyConstraint('value_set', 'system', 'code')
    )
    with op.batch_alter_table('value_set_code', schema=None) as batch_op:
        batch_op.create_index('ix_vs_code_lookup', ['code', 'system', 'value_set'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('value_set_code', schema=None) as batch_op:
        batch_op.drop_index('ix_vs_code_lookup')

    op.drop_table('value_set_code')
    op.drop_table('value_set')
