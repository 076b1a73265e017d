"""FHIR date, dateTime and instant values as UTC intervals, and as the days they name.

A FHIR time has a precision: "2026" covers the whole year, "2026-03-02" the whole day,
"2026-03-02T10:00:00-05:00" one instant. Each parses to the [start, end] it covers, as naive
UTC datetimes. Values without an offset (dates, and dateTimes that omit one) are read in the
practice's timezone, so that "2026-12-31" is the practice's New Year's Eve, not London's.

A value also names calendar days as it is written: "2026-12-31T23:59:59-05:00" is December 31
even where it is already January 1 in UTC. CQL compares times at day precision (and coarser)
by those written days and normalises offsets only at hour precision and finer (CQL 1.5,
Appendix B), so a `Span` keeps both: the UTC instants and the written first and last day, with
the offset the value was written in (None for a value written without one, a "floating" time).
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo

_DATE_TIME = re.compile(
    r"^(\d{4})(?:-(\d{2})(?:-(\d{2})"
    r"(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$"
)
_END_OF = timedelta(microseconds=1)


class FhirTimeError(ValueError):
    """A value that is not a FHIR date, dateTime or instant."""


@dataclass(frozen=True, slots=True)
class Span:
    """What a time element covers: UTC instants [start, end], the written days [first_day,
    last_day], and the UTC offset in minutes it was written in (None: written without one).

    A time is known to its precision only ("2026-12-31" is some instant of that day), so the
    span's start lies in [start, start_latest] and its end in [end_earliest, end]; for a single
    time both are the whole range it covers (see caregaps.engine.timing)."""

    start: datetime | None
    end: datetime | None
    first_day: date | None = None
    last_day: date | None = None
    offset: int | None = None
    start_latest: datetime | None = None
    end_earliest: datetime | None = None
    # a partial date ("2026-12") is not even known to the day: its first day lies in
    # [first_day, first_day_latest], its last in [last_day_earliest, last_day]; None: known
    first_day_latest: date | None = None
    last_day_earliest: date | None = None


NO_TIME = Span(None, None)


def parse_interval(value: object, tz: tzinfo = timezone.utc) -> tuple[datetime, datetime]:
    """The UTC [start, end] that a FHIR date/dateTime/instant string covers.

    `tz` is the timezone of values that carry no offset."""
    span = parse_span(value, tz)
    return span.start, span.end


def parse_span(value: object, tz: tzinfo = timezone.utc) -> Span:
    """The UTC instants and the written days of a FHIR date/dateTime/instant string."""
    start, end, offset = _parse_written(value)
    first, last = start.date(), end.date()
    partial = len(value) < len("YYYY-MM-DD")  # a year or a year and month
    if offset is not None:
        shift = timedelta(minutes=offset)
        start, end = start - shift, end - shift
    elif tz is not timezone.utc:
        start, end = _local_to_utc(start, tz), _local_to_utc(end, tz)
    return Span(start, end, first, last, offset, start_latest=end, end_earliest=start,
                first_day_latest=last if partial else None, last_day_earliest=first if partial else None)


def end_of_written_day(span: Span, tz: tzinfo) -> datetime:
    """The last UTC instant of the day a span starts on, in the offset it was written in."""
    last = datetime.combine(span.first_day, time(23, 59, 59, 999999))
    if span.offset is not None:
        return last - timedelta(minutes=span.offset)
    return _local_to_utc(last, tz)


def _local_to_utc(moment: datetime, tz: tzinfo) -> datetime:
    return moment.replace(tzinfo=tz).astimezone(timezone.utc).replace(tzinfo=None)


def _parse_written(value: object) -> tuple[datetime, datetime, int | None]:
    """[start, end] as written (wall clock of the value's own offset) and that offset in minutes."""
    if not isinstance(value, str):
        raise FhirTimeError(f"expected a date/time string, got {type(value).__name__}")
    m = _DATE_TIME.match(value)
    if not m:
        raise FhirTimeError(f"{value!r} is not a FHIR date/time (YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss+zz:zz)")
    year, month, day, hour, minute, second, fraction, offset = m.groups()
    try:
        if hour is not None:
            # CQL keeps milliseconds: finer digits are dropped, a time without them spans its second
            start = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0),
                             int(float(fraction) * 1000) * 1000 if fraction else 0)
            minutes = None
            if offset == "Z":
                minutes = 0
            elif offset:
                sign = 1 if offset[0] == "+" else -1
                minutes = sign * (int(offset[1:3]) * 60 + int(offset[4:6]))
            if fraction:
                end = start
            elif second is not None:
                end = start + timedelta(seconds=1) - _END_OF
            else:
                end = start + timedelta(minutes=1) - _END_OF
            return start, end, minutes
        if day is not None:
            start = datetime(int(year), int(month), int(day))
            return start, start + timedelta(days=1) - _END_OF, None
        if month is not None:
            y, mo = int(year), int(month)
            start = datetime(y, mo, 1)
            return start, datetime(y, mo, monthrange(y, mo)[1]) + timedelta(days=1) - _END_OF, None
        start = datetime(int(year), 1, 1)
        return start, datetime(int(year) + 1, 1, 1) - _END_OF, None
    except ValueError as exc:  # e.g. month 13, February 30
        raise FhirTimeError(f"{value!r} is not a valid date: {exc}") from None


def parse_date(value: object) -> date:
    """A FHIR date (YYYY-MM-DD, or a partial YYYY / YYYY-MM read as its first day)."""
    return _parse_written(value)[0].date()


def to_utc_naive(moment: datetime) -> datetime:
    """An aware datetime as naive UTC; a naive one is taken as UTC already."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(timezone.utc).replace(tzinfo=None)
