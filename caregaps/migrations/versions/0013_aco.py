"""the ACO roll-up: practice.kind ('practice' or 'aco'), person_link (each patient record's
person) and match_split (records an admin said are different people)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 10:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.add_column('practice', sa.Column('kind', S(length=16), nullable=False, server_default='practice'))
    op.create_table('person_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', S(length=64), nullable=False),
    sa.Column('patient_id', S(length=64), nullable=False),
    sa.Column('person_id', S(length=64), nullable=False),
    sa.Column('rule', S(length=16), nullable=False),
    sa.Column('representative', sa.Boolean(), nullable=False),
    sa.Column('matched_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('practice_id', 'patient_id'))
    op.create_index('ix_person_link_person_id', 'person_link', ['person_id'])
    op.create_table('match_split',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_a', S(length=64), nullable=False),
    sa.Column('patient_a', S(length=64), nullable=False),
    sa.Column('practice_b', S(length=64), nullable=False),
    sa.Column('patient_b', S(length=64), nullable=False),
    sa.Column('created_by', S(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'))


def downgrade() -> None:
    op.drop_table('match_split')
    op.drop_index('ix_person_link_person_id', table_name='person_link')
    op.drop_table('person_link')
    with op.batch_alter_table('practice') as batch:
        batch.drop_column('kind')
