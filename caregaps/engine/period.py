"""The measurement period in a practice's timezone, and the points measure files name in it.

A period of dates [2026-01-01, 2026-12-31] covers the practice's local days: it starts at local
midnight of its first day and ends at the last millisecond of its last day (CQL's precision). Points with offsets
("start of measurement period - 15 months") are shifted on the local calendar (clamping the day
to the month's length, as CQL does), then turned into naive UTC to compare with stored facts.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo

from caregaps.engine.timephrase import Point

_LAST = time(23, 59, 59, 999000)  # CQL's last millisecond of the day


def shift_date(day: date, years: int = 0, months: int = 0, days: int = 0) -> date:
    """`day` moved by calendar years and months (day clamped to the month's end), then days."""
    month_index = day.year * 12 + (day.month - 1) + years * 12 + months
    year, month = divmod(month_index, 12)
    moved = date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))
    return moved + timedelta(days=days)


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    tz: tzinfo = timezone.utc

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period end {self.end} is before its start {self.start}")

    def local_point(self, point: Point) -> datetime:
        """The local (naive) moment a period point names."""
        day = self.start if point.base == "start" else self.end
        moved = shift_date(day, point.years, point.months, point.days)
        return datetime.combine(moved, time.min if point.base == "start" else _LAST)

    def utc(self, point: Point) -> datetime:
        """The point as naive UTC, for comparison with stored facts."""
        local = self.local_point(point)
        return local.replace(tzinfo=self.tz).astimezone(timezone.utc).replace(tzinfo=None)

    def born_on_or_before(self, age: int, at: Point) -> date:
        """The latest birth date of someone at least `age` years old at the point `at`."""
        day = self.local_point(at).date()
        year = day.year - age
        return date(year, day.month, min(day.day, monthrange(year, day.month)[1]))

    def as_of(self, day: date) -> "Period":
        """The rolling period of the same length that ends on `day` (what holds today)."""
        return Period(day - (self.end - self.start), day, self.tz)
