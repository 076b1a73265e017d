"""facts keep the days their times were written on, the offset they were written in, and how
precisely their start and end are known

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 22:40:00

Facts stored before this revision only have UTC instants. Their days are filled in from those
instants in the practice's timezone (what the engine compared before) and their offset is left
unknown (NULL, as for times written without one); re-importing the practice's export gives the
exact written days. Their start and end are taken as precise (start_latest = start,
end_earliest = end, and no day range: start_day_latest and end_day_earliest NULL) until then.
"""
from datetime import timezone
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

CHUNK = 5000


def upgrade() -> None:
    with op.batch_alter_table('fact') as batch:
        batch.add_column(sa.Column('start_latest', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('end_earliest', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('start_day', sa.Date(), nullable=True))
        batch.add_column(sa.Column('end_day', sa.Date(), nullable=True))
        batch.add_column(sa.Column('start_day_latest', sa.Date(), nullable=True))
        batch.add_column(sa.Column('end_day_earliest', sa.Date(), nullable=True))
        batch.add_column(sa.Column('time_offset', sa.Integer(), nullable=True))
    conn = op.get_bind()
    conn.execute(sa.text('UPDATE fact SET start_latest = start, end_earliest = "end"'))
    fact = sa.table('fact', sa.column('id'), sa.column('practice_id'), sa.column('start', sa.DateTime),
                    sa.column('end', sa.DateTime), sa.column('start_day', sa.Date), sa.column('end_day', sa.Date))
    zones = dict(conn.execute(sa.text("SELECT id, timezone FROM practice")).all())
    for practice_id, zone in zones.items():
        tz = ZoneInfo(zone or "UTC")
        last = 0
        while True:
            rows = conn.execute(sa.select(fact.c.id, fact.c.start, fact.c.end).where(
                fact.c.practice_id == practice_id, fact.c.id > last).order_by(fact.c.id).limit(CHUNK)).all()
            if not rows:
                break
            last = rows[-1][0]
            conn.execute(fact.update().where(fact.c.id == sa.bindparam('fid')).values(
                start_day=sa.bindparam('sday'), end_day=sa.bindparam('eday')),
                [{'fid': fid, 'sday': _day(start, tz), 'eday': _day(end, tz)} for fid, start, end in rows])


def _day(moment, tz):
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc).astimezone(tz).date()


def downgrade() -> None:
    with op.batch_alter_table('fact') as batch:
        batch.drop_column('time_offset')
        batch.drop_column('end_day_earliest')
        batch.drop_column('start_day_latest')
        batch.drop_column('end_day')
        batch.drop_column('start_day')
        batch.drop_column('end_earliest')
        batch.drop_column('start_latest')
