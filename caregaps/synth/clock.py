"""The generated history's time window, and FHIR date/dateTime strings in a practice's timezone.

Every chart covers 2024-01-01 .. 2026-11-15 (the extract date). Times are chosen as local
wall-clock times of the practice and written with the UTC offset in force on that day, e.g.
"2025-03-14T09:20:00-05:00", so that daylight-saving changes show up in the data.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

START = date(2024, 1, 1)
END = date(2026, 11, 15)
LAST_MOMENT = datetime(END.year, END.month, END.day, 23, 59)


class Clock:
    """Formats local times of one practice's timezone as FHIR dateTimes with an offset."""

    def __init__(self, timezone: str):
        self.zone = ZoneInfo(timezone)
        self.stamp = lru_cache(maxsize=1 << 14)(self._stamp)  # a visit's resources share its times

    def _stamp(self, moment: datetime) -> str:
        """A local (naive) datetime as "YYYY-MM-DDThh:mm:ss+zz:zz"."""
        return moment.isoformat(timespec="seconds") + self._offset(moment.date())

    @lru_cache(maxsize=4096)
    def _offset(self, day: date) -> str:
        # Noon of the day: clinic hours never straddle a daylight-saving change (at 02:00).
        seconds = int(self.zone.utcoffset(datetime.combine(day, time(12))).total_seconds())
        sign = "-" if seconds < 0 else "+"
        hours, rest = divmod(abs(seconds), 3600)
        return f"{sign}{hours:02d}:{rest // 60:02d}"


def day(value: date) -> str:
    return value.isoformat()


def random_day(rng: random.Random, first: date, last: date) -> date:
    """A uniformly random day in [first, last] (first when the range is empty)."""
    span = (last - first).days
    return first + timedelta(days=rng.randint(0, span)) if span > 0 else first


def clinic_time(rng: random.Random, on: date) -> datetime:
    """A weekday appointment time between 08:00 and 16:40 (a weekend day moves back to Friday)."""
    if (weekday := on.weekday()) >= 5:
        on -= timedelta(days=weekday - 4)
    minutes = 8 * 60 + 20 * rng.randint(0, 26)
    return datetime(on.year, on.month, on.day, minutes // 60, minutes % 60)


def any_time(rng: random.Random, on: date) -> datetime:
    """A time of day at any hour (emergency visits, admissions)."""
    return datetime(on.year, on.month, on.day) + timedelta(minutes=rng.randint(0, 24 * 60 - 1))


def years_between(born: date, on: date) -> int:
    """Age in whole years on a day."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))
