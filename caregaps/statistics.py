"""Planner statistics of the store, refreshed after every import and every ACO rebuild.

Both planners choose indexes by statistics, and a store as imported has none: SQLite never
analyzes on its own, and PostgreSQL's autovacuum may be off or not have reached the new rows.
Without them SQLite takes `ix_ref_path` (practice, path, source_type) over `ix_ref_source`
(practice, source_type, source_id) to find the encounter of a blood pressure reading (both match
three columns), so each reading reads every encounter reference of the practice: CMS165 took
more than 400 s at 2,500 patients, and 1.3 s once the store had statistics.

SQLite: ANALYZE of each table the measures read, sampling `ANALYSIS_LIMIT` rows of each index.
That takes milliseconds on a store of any size (a full ANALYZE reads every index, ~0.6 s at 2,500
patients, linear in the store), and the sampled statistics gave every statement of the five APP
Plus measures the plan full statistics gave, or a faster one. A connection reads statistics
only with the schema, so the pooled connections of every process would plan with the old ones
until they reopen; creating and dropping a table in the same transaction changes the schema,
and each connection reloads schema and statistics before its next statement. A reader inside
a transaction goes on in its snapshot; writers wait for the write lock as for any import batch.

PostgreSQL: ANALYZE of the same tables (a sample of 300 x default_statistics_target rows each)
in autocommit, so it holds its lock (which blocks neither readers nor writers) for no longer
than it takes, and never runs inside a caller's transaction: it takes an engine, not a
connection. Cached plans of other sessions are invalidated by the new statistics.
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from caregaps.models import Fact, FactCode, Patient, ResourceReference, ValueSetCode

log = logging.getLogger(__name__)
TABLES = tuple(m.__table__.name for m in (Patient, Fact, FactCode, ResourceReference, ValueSetCode))
ANALYSIS_LIMIT = 1000  # rows sampled per index (SQLite's advice: 100 to 1000)
SCHEMA_TOUCH = "caregaps_statistics_reload"  # created and dropped: makes every connection reload


def refresh_statistics(engine: Engine) -> bool:
    """Refresh the planner statistics of the tables measures read. The data is committed before
    this runs, so a store too busy to take the statistics (another writer holding SQLite's lock
    past the busy timeout) is logged and returns False rather than failing the import or the
    rebuild; the next one refreshes them."""
    try:
        if engine.dialect.name == "sqlite":
            _sqlite(engine)
        else:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE " + ", ".join(f'"{t}"' for t in TABLES))
    except OperationalError as exc:
        log.warning("planner statistics not refreshed (the next import or ACO rebuild retries): %s", exc)
        return False
    return True


def _sqlite(engine: Engine) -> None:
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        limit = raw.execute("PRAGMA analysis_limit").fetchone()[0]
        raw.execute(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
        try:
            raw.execute("BEGIN IMMEDIATE")
            for table in TABLES:
                raw.execute(f'ANALYZE "{table}"')
            raw.execute(f'CREATE TABLE IF NOT EXISTS "{SCHEMA_TOUCH}" (x)')
            raw.execute(f'DROP TABLE "{SCHEMA_TOUCH}"')
            raw.execute("COMMIT")
        finally:
            if raw.in_transaction:
                raw.execute("ROLLBACK")
            raw.execute(f"PRAGMA analysis_limit={limit}")
