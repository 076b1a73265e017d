"""The schema migrates on every backend and round-trips the basic tables."""

from sqlmodel import select

from caregaps.db import session
from caregaps.models import Practice


def test_given_migrated_database_when_practice_added_then_it_reads_back(engine, practice):
    with session(engine) as s:
        got = s.exec(select(Practice)).one()
    assert (got.id, got.name, got.timezone) == ("p1", "Riverside Family Medicine", "America/Chicago")


def test_given_all_migrations_applied_then_the_schema_matches_the_models(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []


def test_given_sqlite_when_looking_up_current_versions_then_the_partial_index_is_used(sqlite_template):
    """A full scan here made every ingest batch slower as the store grew."""
    from caregaps.db import make_engine
    from caregaps.ingest.store import current_versions_sql

    engine = make_engine(f"sqlite:///{sqlite_template}")
    with engine.connect() as conn:
        sql = current_versions_sql("sqlite", 2)
        plan = " ".join(str(row) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, ("p1", "Observation", "a", "b")))
    engine.dispose()
    assert "ux_raw_current" in plan
