"""Comparisons of times that are known only to their precision, as CQL compares them.

A time written "2026-12-31" is a whole day: at millisecond precision it lies somewhere in
[00:00:00.000, 23:59:59.999] of that day. CQL compares two times precision by precision and
answers null (for a measure: not true) when they agree as far as the coarser one goes, so
"2026-12-31" is neither before nor on or before 2026-12-31T23:59:59.999 (CQL 1.5, Appendix B;
the reference engine fqm-execution does the same). A `Moment` is such a time: the earliest and
latest instant it may be (equal for a precise time), and each comparison is true only when it
holds for every instant the two moments may be.

Days written in full (the `day of` comparisons) and the period's own points are precise.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, or_
from sqlalchemy.sql.elements import ColumnElement


@dataclass(frozen=True)
class Moment:
    lo: ColumnElement
    hi: ColumnElement
    exact: bool = False  # known to be precise (lo is hi): plain comparisons suffice


def exact(value) -> Moment:
    return Moment(value, value, True)


def before(a: Moment, b: Moment):
    """a is surely before b."""
    return a.hi < b.lo


def on_or_before(a: Moment, b: Moment):
    """a is surely on or before b: before it, or both precise and equal."""
    if a.exact and b.exact:
        return a.hi <= b.lo
    return or_(a.hi < b.lo, and_(a.lo == a.hi, b.lo == b.hi, a.hi == b.lo))


def after(a: Moment, b: Moment):
    return before(b, a)


def on_or_after(a: Moment, b: Moment):
    return on_or_before(b, a)


def same(a: Moment, b: Moment):
    """a and b are surely the same (both precise and equal)."""
    if a.exact and b.exact:
        return a.lo == b.lo
    return and_(a.lo == a.hi, b.lo == b.hi, a.lo == b.lo)
