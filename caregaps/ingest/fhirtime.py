"""FHIR date, dateTime and instant values as UTC intervals.

A FHIR time has a precision: "2026" covers the whole year, "2026-03-02" the whole day,
"2026-03-02T10:00:00-05:00" one instant. Each parses to the [start, end] it covers, as naive
UTC datetimes. Values without an offset (dates, and dateTimes that omit one) are read in the
practice's timezone, so that "2026-12-31" is the practice's New Year's Eve, not London's.
"""

from __future__ import annotations

import re
from calendar import monthrange
from datetime import date, datetime, timedelta, timezone, tzinfo

_DATE_TIME = re.compile(
    r"^(\d{4})(?:-(\d{2})(?:-(\d{2})"
    r"(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$"
)
_END_OF = timedelta(microseconds=1)


class FhirTimeError(ValueError):
    """A value that is not a FHIR date, dateTime or instant."""


def parse_interval(value: object, tz: tzinfo = timezone.utc) -> tuple[datetime, datetime]:
    """The UTC [start, end] that a FHIR date/dateTime/instant string covers.

    `tz` is the timezone of values that carry no offset."""
    start, end, has_offset = _parse_local(value)
    if has_offset or tz is timezone.utc:
        return start, end
    return _local_to_utc(start, tz), _local_to_utc(end, tz)


def _local_to_utc(moment: datetime, tz: tzinfo) -> datetime:
    return moment.replace(tzinfo=tz).astimezone(timezone.utc).replace(tzinfo=None)


def _parse_local(value: object) -> tuple[datetime, datetime, bool]:
    if not isinstance(value, str):
        raise FhirTimeError(f"expected a date/time string, got {type(value).__name__}")
    m = _DATE_TIME.match(value)
    if not m:
        raise FhirTimeError(f"{value!r} is not a FHIR date/time (YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss+zz:zz)")
    year, month, day, hour, minute, second, fraction, offset = m.groups()
    try:
        if hour is not None:
            start = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0),
                             int(float(fraction) * 1_000_000) if fraction else 0)
            if offset and offset != "Z":
                sign = 1 if offset[0] == "+" else -1
                delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
                start = start - sign * delta
            end = start if second is not None else start + timedelta(minutes=1) - _END_OF
            return start, end, bool(offset)
        if day is not None:
            start = datetime(int(year), int(month), int(day))
            return start, start + timedelta(days=1) - _END_OF, False
        if month is not None:
            y, mo = int(year), int(month)
            start = datetime(y, mo, 1)
            return start, datetime(y, mo, monthrange(y, mo)[1]) + timedelta(days=1) - _END_OF, False
        start = datetime(int(year), 1, 1)
        return start, datetime(int(year) + 1, 1, 1) - _END_OF, False
    except ValueError as exc:  # e.g. month 13, February 30
        raise FhirTimeError(f"{value!r} is not a valid date: {exc}") from None


def parse_date(value: object) -> date:
    """A FHIR date (YYYY-MM-DD, or a partial YYYY / YYYY-MM read as its first day)."""
    return _parse_local(value)[0].date()


def to_utc_naive(moment: datetime) -> datetime:
    """An aware datetime as naive UTC; a naive one is taken as UTC already."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(timezone.utc).replace(tzinfo=None)
