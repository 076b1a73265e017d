"""Date arithmetic that SQLite and PostgreSQL spell differently, as SQLAlchemy constructs.

Stored instants are naive UTC; on SQLite they are text 'YYYY-MM-DD HH:MM:SS.ffffff' (SQLAlchemy's
format), so shifted values keep that shape to compare correctly as text.
"""

from __future__ import annotations

from sqlalchemy import Date, DateTime
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement


class shifted(FunctionElement):
    """An instant moved by calendar years, months and days."""

    type = DateTime()
    inherit_cache = True

    def __init__(self, column, years: int = 0, months: int = 0, days: int = 0) -> None:
        self.years, self.months, self.days = years, months, days
        super().__init__(column)


@compiles(shifted, "sqlite")
def _shifted_sqlite(element, compiler, **kw):
    column = compiler.process(list(element.clauses)[0], **kw)
    mods = ", ".join(f"'{n:+d} {unit}'" for n, unit in
                     ((element.years, "years"), (element.months, "months"), (element.days, "days")) if n)
    return f"(datetime({column}, {mods}) || substr({column}, 20))" if mods else column


@compiles(shifted, "postgresql")
def _shifted_pg(element, compiler, **kw):
    column = compiler.process(list(element.clauses)[0], **kw)
    return (f"({column} + make_interval(years => {int(element.years)}, months => {int(element.months)}, "
            f"days => {int(element.days)}))")


class local_day(FunctionElement):
    """The local calendar day of a naive UTC instant, for a fixed offset in minutes."""

    type = Date()
    inherit_cache = True

    def __init__(self, column, offset_minutes: int) -> None:
        self.offset_minutes = offset_minutes
        super().__init__(column)


@compiles(local_day, "sqlite")
def _local_day_sqlite(element, compiler, **kw):
    column = compiler.process(list(element.clauses)[0], **kw)
    return f"date({column}, '{int(element.offset_minutes):+d} minutes')"


@compiles(local_day, "postgresql")
def _local_day_pg(element, compiler, **kw):
    column = compiler.process(list(element.clauses)[0], **kw)
    return f"CAST(({column} + make_interval(mins => {int(element.offset_minutes)})) AS DATE)"


class years_before(FunctionElement):
    """The local calendar day `years` years before a naive UTC instant's local day."""

    type = Date()
    inherit_cache = True

    def __init__(self, column, offset_minutes: int, years: int) -> None:
        self.offset_minutes, self.years = offset_minutes, years
        super().__init__(column)


@compiles(years_before, "sqlite")
def _years_before_sqlite(element, compiler, **kw):
    column = compiler.process(list(element.clauses)[0], **kw)
    return f"date({column}, '{int(element.offset_minutes):+d} minutes', '-{int(element.years)} years')"


@compiles(years_before, "postgresql")
def _years_before_pg(element, compiler, **kw):
    column = compiler.process(list(element.clauses)[0], **kw)
    return (f"CAST(({column} + make_interval(mins => {int(element.offset_minutes)}) "
            f"- make_interval(years => {int(element.years)})) AS DATE)")
