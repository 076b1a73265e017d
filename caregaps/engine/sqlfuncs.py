"""Date arithmetic that SQLite and PostgreSQL spell differently, as SQLAlchemy constructs.

Stored instants are naive UTC; on SQLite they are text 'YYYY-MM-DD HH:MM:SS.ffffff' (SQLAlchemy's
format), so shifted values keep that shape to compare correctly as text. Days are dates
('YYYY-MM-DD' text on SQLite).

Every value that varies (years, months, days) is a bound parameter, never text in the SQL: one
process compiles statements for many practices and measures, and SQLAlchemy reuses a compiled
statement for every statement with the same cache key. A literal written into the SQL but left
out of that key would be reused for the next practice with a different value.
"""

from __future__ import annotations

from sqlalchemy import Date, DateTime, Integer, cast, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement


class _calendar_shift(FunctionElement):
    """A column moved by calendar years, months and days (each a bound parameter)."""

    inherit_cache = True

    def __init__(self, column, years: int = 0, months: int = 0, days: int = 0) -> None:
        super().__init__(column, *self._amounts(int(years), int(months), int(days)))

    @staticmethod
    def _amounts(years: int, months: int, days: int) -> tuple:
        return cast(literal(years), Integer), cast(literal(months), Integer), cast(literal(days), Integer)


class shifted(_calendar_shift):
    """An instant moved by calendar years, months and days."""

    type = DateTime()
    inherit_cache = True


class shifted_day(_calendar_shift):
    """A day (a date) moved by calendar years, months and days."""

    type = Date()
    inherit_cache = True


def _sqlite_shift(fn: str, element, compiler, **kw) -> str:
    """`fn` ('datetime' or 'date') of the column moved by whole months, then days, clamping the
    day to the end of a shorter month as CQL and PostgreSQL do (March 31 + 6 months is September
    30, February 29 + 1 year February 28). SQLite overflows into the next month instead (October 1,
    March 1): a result whose day differs from the column's went over, by as many days as it shows."""
    column, years, months, days = [compiler.process(c, **kw) for c in element.clauses]
    moved = f"{fn}({column}, {_modifier(f'({years}) * 12 + ({months})', 'months')})"
    clamped = (f"(CASE WHEN strftime('%d', {moved}) = strftime('%d', {column}) THEN {moved} "
               f"ELSE {fn}({moved}, '-' || CAST(strftime('%d', {moved}) AS INTEGER) || ' days') END)")
    return f"{fn}({clamped}, {_modifier(days, 'days')})"


def _modifier(amount: str, unit: str) -> str:
    """A SQLite date modifier such as '+2 months', built in SQL from a bound amount."""
    return f"(CASE WHEN {amount} < 0 THEN '' ELSE '+' END || ({amount}) || ' {unit}')"


@compiles(shifted, "sqlite")
def _shifted_sqlite(element, compiler, **kw):
    column = compiler.process(element.clauses.clauses[0], **kw)
    return f"({_sqlite_shift('datetime', element, compiler, **kw)} || substr({column}, 20))"


@compiles(shifted_day, "sqlite")
def _shifted_day_sqlite(element, compiler, **kw):
    return _sqlite_shift("date", element, compiler, **kw)


def _pg_interval(element, compiler, **kw) -> tuple[str, str]:
    column, years, months, days = [compiler.process(c, **kw) for c in element.clauses]
    return column, f"make_interval(years => {years}, months => {months}, days => {days})"


@compiles(shifted, "postgresql")
def _shifted_pg(element, compiler, **kw):
    column, interval = _pg_interval(element, compiler, **kw)
    return f"({column} + {interval})"


@compiles(shifted_day, "postgresql")
def _shifted_day_pg(element, compiler, **kw):
    column, interval = _pg_interval(element, compiler, **kw)
    return f"CAST(({column} + {interval}) AS DATE)"
