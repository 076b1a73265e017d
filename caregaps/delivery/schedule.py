"""Delivery schedules as pure logic: days of the week and a local time in the practice's timezone.

A schedule's *slots* are the instants it is due, as naive UTC datetimes. A local time that does
not exist on a spring-forward day (02:30 when clocks jump from 02:00 to 03:00) is due at the
same distance past the jump (03:30); a local time that happens twice on a fall-back day is due
the first time. Both come from reading the wall time with `fold=0`, as zoneinfo does.

When a scheduler was down, only the latest missed slot is due: a practice gets one worklist,
not one per missed morning.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ALIASES = {"weekdays": "mon-fri", "daily": "mon-sun", "weekends": "sat-sun"}


class ScheduleError(ValueError):
    """A schedule that cannot be read, naming the part that is wrong."""


@dataclass(frozen=True)
class Schedule:
    days: frozenset[int]  # 0 = Monday
    at: time
    tz: ZoneInfo

    def slot_on(self, day: date) -> datetime | None:
        """The UTC instant this schedule is due on the local `day`, or None if not a delivery day."""
        if day.weekday() not in self.days:
            return None
        local = datetime.combine(day, self.at, tzinfo=self.tz)  # fold=0: see the module docstring
        return local.astimezone(timezone.utc).replace(tzinfo=None)

    def slots_between(self, after: datetime, until: datetime) -> list[datetime]:
        """Every slot s with after < s <= until (naive UTC), in order."""
        first = after.replace(tzinfo=timezone.utc).astimezone(self.tz).date() - timedelta(days=1)
        last = until.replace(tzinfo=timezone.utc).astimezone(self.tz).date() + timedelta(days=1)
        slots, day = [], first
        while day <= last:
            slot = self.slot_on(day)
            if slot is not None and after < slot <= until:
                slots.append(slot)
            day += timedelta(days=1)
        return slots

    def latest_due(self, after: datetime, now: datetime) -> datetime | None:
        """The one slot to deliver now: the latest slot after `after` that is not in the future."""
        # look back at most 8 days: every weekly schedule has a slot in any 7 of them
        start = max(after, now - timedelta(days=8))
        slots = self.slots_between(start, now)
        return slots[-1] if slots else None

    def next_after(self, moment: datetime) -> datetime | None:
        """The first slot after `moment` (naive UTC), or None for a schedule without days."""
        slots = self.slots_between(moment, moment + timedelta(days=8))
        return slots[0] if slots else None


def parse_days(text: str) -> frozenset[int]:
    """'mon-fri', 'mon,wed,fri', 'weekdays', 'daily', 'sat-sun' ... as weekday numbers."""
    text = _ALIASES.get(text.strip().lower(), text.strip().lower())
    days: set[int] = set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        first, _, last = part.partition("-")
        try:
            a = DAY_NAMES.index(first[:3])
            b = DAY_NAMES.index(last[:3]) if last else a
        except ValueError:
            raise ScheduleError(f"days: {part!r} is not a day (use mon..sun, ranges like mon-fri, "
                                "or weekdays/daily)") from None
        if b < a:
            raise ScheduleError(f"days: the range {part!r} runs backwards")
        days.update(range(a, b + 1))
    if not days:
        raise ScheduleError("days: name at least one day, e.g. mon-fri")
    return frozenset(days)


def format_days(days: frozenset[int]) -> str:
    """Weekday numbers as the stored text, e.g. 'mon,tue,wed,thu,fri'."""
    return ",".join(DAY_NAMES[d] for d in sorted(days))


def parse_time(text: str) -> time:
    """'07:00' (24-hour HH:MM)."""
    try:
        hours, minutes = text.strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ScheduleError(f"at: {text!r} is not a time of day as HH:MM (24-hour), e.g. 07:00") from None


def parse_timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"timezone: {name!r} is not an IANA timezone such as America/Chicago") from None


def make_schedule(days: str, at: str, tz: str) -> Schedule:
    """A schedule from its stored text; ScheduleError names the part that is wrong."""
    return Schedule(parse_days(days), parse_time(at), parse_timezone(tz))
