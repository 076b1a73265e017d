"""worklist delivery: schedules, channels, deliveries and attempts, the scheduler lease, and
APScheduler's job store

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 18:40:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table('delivery_schedule',
    sa.Column('practice_id', S(length=64), sa.ForeignKey('practice.id'), nullable=False),
    sa.Column('days', S(length=32), nullable=False),
    sa.Column('at', S(length=5), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('webhook_secret', S(length=128), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('practice_id'))
    op.create_table('delivery_channel',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', S(length=64), sa.ForeignKey('practice.id'), nullable=False),
    sa.Column('kind', S(length=16), nullable=False),
    sa.Column('target', sa.Text(), nullable=False),
    sa.Column('format', S(length=16), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_delivery_channel_practice_id', 'delivery_channel', ['practice_id'])
    op.create_table('delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', S(length=64), sa.ForeignKey('practice.id'), nullable=False),
    sa.Column('channel_id', sa.Integer(), sa.ForeignKey('delivery_channel.id'), nullable=False),
    sa.Column('slot', sa.DateTime(), nullable=False),
    sa.Column('trigger', S(length=16), nullable=False),
    sa.Column('status', S(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('claimed_by', S(length=128), nullable=True),
    sa.Column('claimed_until', sa.DateTime(), nullable=True),
    sa.Column('item_count', sa.Integer(), nullable=True),
    sa.Column('new_gaps', sa.Integer(), nullable=True),
    sa.Column('closed_gaps', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('practice_id', 'channel_id', 'slot'))
    op.create_index('ix_delivery_due', 'delivery', ['status', 'next_attempt_at'])
    op.create_table('delivery_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.Integer(), sa.ForeignKey('delivery.id'), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('outcome', S(length=16), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('item_count', sa.Integer(), nullable=True),
    sa.Column('holder', S(length=128), nullable=True),
    sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_delivery_attempt_delivery_id', 'delivery_attempt', ['delivery_id'])
    op.create_table('scheduler_lease',
    sa.Column('name', S(length=64), nullable=False),
    sa.Column('holder', S(length=128), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name'))
    # the table APScheduler's SQLAlchemyJobStore keeps its jobs in (it finds it and creates nothing)
    op.create_table('apscheduler_jobs',
    sa.Column('id', sa.Unicode(191), nullable=False),
    sa.Column('next_run_time', sa.Float(25), nullable=True),
    sa.Column('job_state', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_apscheduler_jobs_next_run_time', 'apscheduler_jobs', ['next_run_time'])


def downgrade() -> None:
    for table in ('apscheduler_jobs', 'scheduler_lease', 'delivery_attempt', 'delivery', 'delivery_channel',
                  'delivery_schedule'):
        op.drop_table(table)
