"""patient deceased_latest: how precisely Patient.deceasedDateTime is known

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08 01:50:00

A deceasedDateTime is known to its precision only ("2026-12-31" is some instant of that day):
the patient died in [deceased_at, deceased_latest]. Patients stored before this revision are
taken as precise (deceased_latest = deceased_at) until the practice's export is imported again.
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('patient') as batch:
        batch.add_column(sa.Column('deceased_latest', sa.DateTime(), nullable=True))
    op.get_bind().execute(sa.text('UPDATE patient SET deceased_latest = deceased_at'))


def downgrade() -> None:
    with op.batch_alter_table('patient') as batch:
        batch.drop_column('deceased_latest')
