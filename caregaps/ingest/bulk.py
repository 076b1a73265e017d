"""Fast multi-row inserts for the ingest hot path, below SQLAlchemy's per-row bookkeeping.

SQLAlchemy Core spends more time building parameters than SQLite spends writing them, so the
large tables (raw resources, facts, codes, references) are written with the driver's
`executemany` over tuples. Fact ids are allocated up front (one statement per batch) so codes
can point at their facts without a RETURNING round trip per row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, DateTime, Table, text


def insert_rows(conn: Connection, table: Table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """INSERT `rows` (tuples in `columns` order) with one executemany."""
    if not rows:
        return
    sqlite = conn.dialect.name == "sqlite"
    mark = "?" if sqlite else "%s"
    names = ", ".join(f'"{c}"' for c in columns)
    sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({", ".join([mark] * len(columns))})'
    if sqlite:
        times = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, DateTime)]
        if times:
            rows = [_sqlite_times(row, times) for row in rows]
    conn.exec_driver_sql(sql, rows)


def _sqlite_times(row: tuple, indexes: list[int]) -> tuple:
    row = list(row)
    for i in indexes:
        if isinstance(row[i], datetime):
            row[i] = row[i].isoformat(" ", "microseconds")  # SQLAlchemy's SQLite DateTime format
    return tuple(row)


def allocate_ids(conn: Connection, table: Table, count: int) -> range | list[int]:
    """`count` fresh primary keys for `table`. On SQLite the caller must already hold the write
    lock (have written in this transaction), so no other writer can take the same ids."""
    if conn.dialect.name == "sqlite":
        top = conn.execute(text(f'SELECT COALESCE(MAX(id), 0) FROM "{table.name}"')).scalar_one()
        return range(top + 1, top + 1 + count)
    return conn.execute(text(f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) "
                             "FROM generate_series(1, :n)"), {"n": count}).scalars().all()
