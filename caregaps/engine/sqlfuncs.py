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


def _sqlite_parts(element, compiler, **kw) -> tuple[str, list[str]]:
    column, *amounts = [compiler.process(c, **kw) for c in element.clauses]
    units = ("years", "months", "days")
    # SQLite modifiers are text such as '+2 years'; built from the bound numbers in SQL
    mods = [f"(CASE WHEN {a} < 0 THEN '' ELSE '+' END || {a} || ' {u}')" for a, u in zip(amounts, units)]
    return column, mods


@compiles(shifted, "sqlite")
def _shifted_sqlite(element, compiler, **kw):
    column, mods = _sqlite_parts(element, compiler, **kw)
    return f"(datetime({column}, {', '.join(mods)}) || substr({column}, 20))"


@compiles(shifted_day, "sqlite")
def _shifted_day_sqlite(element, compiler, **kw):
    column, mods = _sqlite_parts(element, compiler, **kw)
    return f"date({column}, {', '.join(mods)})"


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
