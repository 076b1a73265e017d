"""Time relations written as short English phrases, parsed into `TimeTest`.

    ends during measurement period
    overlaps measurement period
    starts on or before end of measurement period
    ends during [start of measurement period - 15 months, end of measurement period]
    ends during [end of measurement period - 9 years, end of measurement period]
    starts during Qualifying Encounter
    starts same day as end of Depression Screening
    ends within 14 days after start of Qualifying Encounter
    during day of measurement period
    starts on or before day of end of measurement period

A phrase is `[anchor] relation [day of] target`. The anchor picks which part of the event's
interval is tested: `starts` (its start), `ends` (its end) or nothing (the whole interval). A point
is `start of X` or `end of X`, X being `measurement period` or the name of another query, followed
by offsets such as `- 2 years + 9 months`. An interval is `measurement period`, `[point, point]`,
or the name of another query (that event's own interval). `[a, b)` leaves b out.

Precision, as in CQL: `day of` compares calendar days, each time by the day it was written on
(its own offset); without it, times compare as instants, offsets normalised. `same day as` and
`within N days ...` always compare days.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PERIOD = "measurement period"
ANCHORS = {"starts": "start", "ends": "end"}
POINT_RELATIONS = ("on or before", "on or after", "before", "after", "same day as")
_OFFSET = re.compile(r"\s*([+-])\s*(\d+)\s+(years?|months?|days?)")
_WITHIN = re.compile(r"^within (\d+) (days?|months?|years?) (before|after) (.+)$")


class PhraseError(ValueError):
    """A time phrase that does not parse; the message says what was expected."""


@dataclass(frozen=True)
class Point:
    base: str  # "start" or "end"
    of: str | None = None  # None: the measurement period; else the name of another query
    years: int = 0
    months: int = 0
    days: int = 0

    @property
    def shifted(self) -> bool:
        return bool(self.years or self.months or self.days)


@dataclass(frozen=True)
class TimeTest:
    anchor: str  # "start", "end" or "whole"
    relation: str  # during, overlaps, before, after, on or before, on or after, same day as
    low: Point | None = None
    high: Point | None = None
    point: Point | None = None
    phrase: str = ""
    high_open: bool = False  # the interval was written [a, b): b itself is outside
    by_day: bool = False  # compare calendar days as written ("day of"), not instants

    @property
    def queries(self) -> set[str]:
        """Names of the other queries this test relates to."""
        return {p.of for p in (self.low, self.high, self.point) if p is not None and p.of}


def parse(phrase: str) -> TimeTest:
    text = " ".join(str(phrase).split())
    words = text.split(" ", 1)
    anchor = "whole"
    if words[0] in ANCHORS:
        if len(words) == 1:
            raise PhraseError(f"{text!r}: expected a relation after {words[0]!r}")
        anchor, text = ANCHORS[words[0]], words[1]
    if m := _WITHIN.match(text):
        return _within(anchor, int(m.group(1)), m.group(2), m.group(3), m.group(4), phrase)
    for relation in ("during", "overlaps"):
        if text.startswith(relation + " "):
            if relation == "overlaps" and anchor != "whole":
                raise PhraseError(f"{phrase!r}: 'overlaps' tests a whole interval; drop {words[0]!r}")
            by_day, target = _day_of(text[len(relation) + 1:])
            low, high = _interval(target, phrase)
            return TimeTest(anchor, relation, low=low, high=high, phrase=phrase, high_open=target.endswith(")"),
                            by_day=by_day)
    for relation in POINT_RELATIONS:
        if text.startswith(relation + " "):
            by_day, target = _day_of(text[len(relation) + 1:])
            if relation == "same day as" and by_day:
                raise PhraseError(f"{phrase!r}: 'same day as' compares days already; drop 'day of'")
            return TimeTest(anchor, relation, point=_point(target, phrase), phrase=phrase,
                            by_day=by_day or relation == "same day as")
    raise PhraseError(f"{phrase!r}: expected [starts|ends] during, overlaps, before, after, on or before, "
                      "on or after, same day as, or within N days before/after, then a target")


def _day_of(target: str) -> tuple[bool, str]:
    """Whether a target is written `day of ...` (day precision), and the target without it."""
    if target.startswith("day of "):
        return True, target[len("day of "):]
    return False, target


def _within(anchor: str, n: int, unit: str, direction: str, target: str, phrase: str) -> TimeTest:
    base = _point(_day_of(target)[1], phrase)
    shifted = _shift(base, -n if direction == "before" else n, unit)
    low, high = (shifted, base) if direction == "before" else (base, shifted)
    return TimeTest(anchor, "during", low=low, high=high, phrase=phrase, by_day=True)


def _shift(point: Point, n: int, unit: str) -> Point:
    field = unit.rstrip("s") + "s"
    return Point(point.base, point.of, **{"years": point.years, "months": point.months,
                                          "days": point.days, field: getattr(point, field) + n})


def _interval(text: str, phrase: str) -> tuple[Point, Point]:
    if text.startswith("[") and text.endswith(("]", ")")):
        parts = text[1:-1].split(",")
        if len(parts) != 2:
            raise PhraseError(f"{phrase!r}: an interval is [point, point]")
        return _point(parts[0], phrase), _point(parts[1], phrase)
    name = None if text == PERIOD else text
    if not text:
        raise PhraseError(f"{phrase!r}: expected an interval")
    return Point("start", name), Point("end", name)


def _point(text: str, phrase: str) -> Point:
    text = text.strip()
    m = re.match(r"^(start|end) of (.+?)((?:\s*[+-]\s*\d+\s+(?:years?|months?|days?))*)$", text)
    if not m:
        raise PhraseError(f"{phrase!r}: expected a point such as 'end of measurement period - 2 years', "
                          f"got {text!r}")
    base, of, offsets = m.group(1), m.group(2).strip(), m.group(3)
    point = Point(base, None if of == PERIOD else of)
    for sign, n, unit in _OFFSET.findall(offsets):
        point = _shift(point, int(n) if sign == "+" else -int(n), unit)
    return point
