"""Shared fixtures: a migrated database on SQLite, and on PostgreSQL too when
CAREGAPS_TEST_DATABASE_URL is set (every test that takes `engine` then runs on both)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel

from caregaps.db import make_engine, migrate, session
from caregaps.models import Practice

# Apps built by tests run no embedded scheduler unless a test asks for one (tests/test_scheduler.py).
os.environ.setdefault("CAREGAPS_SCHEDULER", "off")

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("CAREGAPS_TEST_DATABASE_URL") else [])


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """One migrated SQLite file, copied for each test (migrating each time is slower)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_engine():
    url = os.environ["CAREGAPS_TEST_DATABASE_URL"]
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path, sqlite_template) -> str:
    """A URL to an empty, migrated database of each backend."""
    if request.param == "sqlite":
        path = tmp_path / "caregaps.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    engine = request.getfixturevalue("postgres_engine")
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return os.environ["CAREGAPS_TEST_DATABASE_URL"]


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def practice(engine) -> Practice:
    """A practice `p1` (America/Chicago) to load data into."""
    with session(engine) as s:
        p = Practice(id="p1", name="Riverside Family Medicine", timezone="America/Chicago")
        s.add(p)
        s.commit()
        return p
