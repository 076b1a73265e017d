"""risk scores

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 16:19:13.139552
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('risk_score',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('practice_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('patient_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('model_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('tier', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('factors', sa.JSON(), nullable=True),
    sa.Column('hcc_score', sa.Float(), nullable=True),
    sa.Column('hccs', sa.JSON(), nullable=True),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('risk_score', schema=None) as batch_op:
        batch_op.create_index('ix_risk_practice_patient', ['practice_id', 'patient_id', 'as_of'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('risk_score', schema=None) as batch_op:
        batch_op.drop_index('ix_risk_practice_patient')

    op.drop_table('risk_score')
