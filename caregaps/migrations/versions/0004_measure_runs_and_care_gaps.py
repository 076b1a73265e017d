"""measure runs and care gaps

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 15:50:42.580995
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('care_gap',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('practice_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('measure_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('patient_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('first_detected_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('closed_evidence', sa.JSON(), nullable=True),
    sa.Column('reopened_count', sa.Integer(), nullable=False),
    sa.Column('last_run_id', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('practice_id', 'measure_id', 'period_start', 'period_end', 'patient_id')
    )
    op.create_table('gap_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('gap_id', sa.BigInteger(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('event', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('gap_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gap_event_gap_id'), ['gap_id'], unique=False)

    op.create_table('measure_result',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('initial_population', sa.Boolean(), nullable=False),
    sa.Column('denominator', sa.Boolean(), nullable=False),
    sa.Column('denominator_exclusion', sa.Boolean(), nullable=False),
    sa.Column('denominator_exception', sa.Boolean(), nullable=False),
    sa.Column('numerator', sa.Boolean(), nullable=False),
    sa.Column('numerator_exclusion', sa.Boolean(), nullable=False),
    sa.Column('gap_status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('likely_data_gap', sa.Boolean(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('measure_result', schema=None) as batch_op:
        batch_op.create_index('ix_result_run_patient', ['run_id', 'patient_id'], unique=False)

    op.create_table('measure_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('measure_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('measure_version', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('practice_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('counts', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('measure_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_measure_run_practice_id'), ['practice_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('measure_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_measure_run_practice_id'))

    op.drop_table('measure_run')
    with op.batch_alter_table('measure_result', schema=None) as batch_op:
        batch_op.drop_index('ix_result_run_patient')

    op.drop_table('measure_result')
    with op.batch_alter_table('gap_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gap_event_gap_id'))

    op.drop_table('gap_event')
    op.drop_table('care_gap')
