"""Fast multi-row inserts for the ingest hot path, below SQLAlchemy's per-row bookkeeping.

SQLAlchemy Core spends more time building parameters than SQLite spends writing them, so the
large tables (raw resources, facts, codes, references) are written with the driver's
`executemany` over tuples. Fact ids are allocated up front (one statement per batch) so codes
can point at their facts without a RETURNING round trip per row.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime
from typing import Iterator

from sqlalchemy import Connection, DateTime, Engine, Table, text

# While an import writes, its SQLite connection keeps more pages in memory and checkpoints the WAL
# less often: random index inserts then dirty each page once per batch instead of once per row,
# and each checkpoint (the one step that waits for the disk) moves a larger share of the file.
LOAD_CACHE_KIB = 64 * 1024
LOAD_CHECKPOINT_PAGES = 32_768  # 128 MiB of WAL with 4 KiB pages


@contextmanager
def load_connection(engine: Engine) -> Iterator[Connection]:
    """One connection for a whole import, tuned for bulk writes on SQLite and reset after it, so
    that the pooled connection goes back to serving reads with its usual settings."""
    with engine.connect() as conn:
        if conn.dialect.name != "sqlite":
            yield conn
            return
        raw = conn.connection.dbapi_connection
        cache = raw.execute("PRAGMA cache_size").fetchone()[0]
        checkpoint = raw.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        raw.execute(f"PRAGMA cache_size=-{LOAD_CACHE_KIB}")
        raw.execute(f"PRAGMA wal_autocheckpoint={LOAD_CHECKPOINT_PAGES}")
        try:
            yield conn
        finally:
            raw.execute(f"PRAGMA cache_size={cache}")
            raw.execute(f"PRAGMA wal_autocheckpoint={checkpoint}")
            raw.execute("PRAGMA wal_checkpoint(PASSIVE)")


def insert_rows(conn: Connection, table: Table, columns: tuple[str, ...], rows: list[tuple],
                text_times: bool = False) -> None:
    """INSERT `rows` (tuples in `columns` order) with one executemany. With `text_times` the rows
    give their times as text already (see `stored_time`), which spares a pass over every row."""
    if not rows:
        return
    sqlite = conn.dialect.name == "sqlite"
    mark = param_mark(conn.dialect.name)
    names = ", ".join(f'"{c}"' for c in columns)
    sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({", ".join([mark] * len(columns))})'
    if sqlite and not text_times:
        times = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, DateTime)]
        if times:
            rows = [_sqlite_times(row, times) for row in rows]
    conn.exec_driver_sql(sql, rows)


def param_mark(dialect: str) -> str:
    """The driver's parameter mark for statements written as driver SQL."""
    return "?" if dialect == "sqlite" else "%s"


def _sqlite_times(row: tuple, indexes: list[int]) -> tuple:
    row = list(row)
    for i in indexes:
        if isinstance(row[i], datetime):
            row[i] = stored_time(row[i])
    return tuple(row)


def stored_time(moment: datetime | None) -> str | None:
    """A naive UTC time as the text both engines store and compare (SQLAlchemy's SQLite format;
    PostgreSQL reads the same text into a timestamp column)."""
    return moment.isoformat(" ", "microseconds") if moment is not None else None


def stored_day(day: date | None) -> str | None:
    """A date as the text both engines store and compare (ISO YYYY-MM-DD)."""
    return day.isoformat() if day is not None else None


def allocate_ids(conn: Connection, table: Table, count: int) -> range | list[int]:
    """`count` fresh primary keys for `table`. On SQLite the caller must already hold the write
    lock (have written in this transaction), so no other writer can take the same ids."""
    if conn.dialect.name == "sqlite":
        top = conn.execute(text(f'SELECT COALESCE(MAX(id), 0) FROM "{table.name}"')).scalar_one()
        return range(top + 1, top + 1 + count)
    return conn.execute(text(f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) "
                             "FROM generate_series(1, :n)"), {"n": count}).scalars().all()
