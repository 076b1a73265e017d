"""The scheduler: a lease in the database lets one process act at a time (two real `caregaps
scheduler` processes at once, and a take-over when the leader dies), jobs kept in the database,
and the scheduler embedded in the web app."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from caregaps.config import get_settings
from caregaps.delivery.dispatch import record_now
from caregaps.delivery.log import delivery_log
from caregaps.delivery.settings import add_channel, set_schedule
from caregaps.models import utcnow
from caregaps.pipeline import prepare, refresh_practice
from caregaps.practices import add_practice
from caregaps.scheduler import Lease
from caregaps.web.app import create_app
from tests.measure_data import diabetic, load
from tests.receivers import smtp_server


def wait_for(predicate, seconds: float = 30, what: str = "condition"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def test_one_lease_holder_at_a_time_and_take_over_after_expiry(engine):
    a, b = Lease(engine, "a", 60), Lease(engine, "b", 60)
    now = utcnow()
    assert a.acquire(now) and not b.acquire(now)
    assert a.acquire(now + timedelta(seconds=30))  # renewing
    assert not b.acquire(now + timedelta(seconds=80))  # renewed at +30: good until +90
    assert b.acquire(now + timedelta(seconds=91)) and not a.acquire(now + timedelta(seconds=92))
    b.release()
    assert a.acquire(now + timedelta(seconds=93))


@pytest.fixture
def practice_ready(engine, tmp_path):
    """p1 evaluated today (so no nightly run is due), with an email channel and a paused schedule."""
    add_practice(engine, "p1", "Riverside Family Medicine", "America/Chicago")
    load(engine, "p1", diabetic("high", 9.4) + diabetic("missing", None), tmp_path)
    refresh_practice(engine, prepare(engine), "p1")
    add_channel(engine, "p1", "email", "care@riverside.example")
    set_schedule(engine, "p1", enabled=False)  # deliveries below are send-now ones
    return "p1"


def _scheduler(database_url: str, port: int, log_path) -> subprocess.Popen:
    env = {**os.environ, "CAREGAPS_DATABASE_URL": database_url, "CAREGAPS_SMTP_PORT": str(port),
           "CAREGAPS_SMTP_HOST": "127.0.0.1", "CAREGAPS_SCHEDULER_TICK_SECONDS": "0.5",
           "CAREGAPS_SCHEDULER_LEASE_SECONDS": "2"}
    return subprocess.Popen([sys.executable, "-m", "caregaps", "scheduler"], env=env,
                            stdout=open(log_path, "wb"), stderr=subprocess.STDOUT)


def _holder(engine) -> str | None:
    return Lease(engine, "test", 1).holder_now()


def test_two_scheduler_processes_send_once_and_the_second_takes_over_when_the_first_dies(
        engine, database_url, practice_ready, tmp_path):
    with smtp_server() as (_, port, inbox):
        # given two scheduler processes started at once on the same database
        processes = [_scheduler(database_url, port, tmp_path / f"scheduler-{i}.log") for i in range(2)]
        try:
            holder = wait_for(lambda: _holder(engine), what="a lease holder")
            # when a delivery is recorded, then it is sent exactly once
            record_now(engine, "p1", utcnow())
            wait_for(lambda: inbox.messages, what="the first message")
            time.sleep(2)  # both processes tick several times meanwhile
            assert len(inbox.messages) == 1
            with engine.connect() as conn:
                jobs = set(conn.execute(text("SELECT id FROM apscheduler_jobs")).scalars())
            assert jobs == {"deliveries", "nightly-reevaluation"}  # the jobs are kept in the database
            # when the leader is killed, then the other process takes the lease and sends the next one
            leader = next(p for p in processes if holder.endswith(f":{p.pid}"))
            leader.send_signal(signal.SIGKILL)
            leader.wait()
            record_now(engine, "p1", utcnow() + timedelta(seconds=1))
            new_holder = wait_for(lambda: (_holder(engine) or holder) != holder and _holder(engine),
                                  what="the take-over")
            wait_for(lambda: len(inbox.messages) == 2, what="the second message")
            time.sleep(1.5)
            assert len(inbox.messages) == 2 and new_holder != holder
            assert [d["status"] for d in delivery_log(engine, "p1")] == ["sent", "sent"]
        finally:
            for p in processes:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
                    p.wait(timeout=30)
        survivor = next(p for p in processes if p is not leader)
        assert survivor.returncode == 0  # a clean stop on SIGTERM


def test_the_web_app_runs_the_scheduler_embedded(engine, database_url, practice_ready, tmp_path):
    with smtp_server() as (host, port, inbox):
        settings = get_settings(database_url=database_url, data_dir=tmp_path / "var", scheduler="embedded",
                                scheduler_tick_seconds=0.5, scheduler_lease_seconds=2, smtp_host=host, smtp_port=port)
        with TestClient(create_app(settings)) as client:
            wait_for(lambda: client.app.state.scheduler.leading, what="the embedded scheduler to lead")
            record_now(engine, "p1", utcnow())
            wait_for(lambda: inbox.messages, what="the delivery")
        assert _holder(engine) is None  # the lease is released on shutdown


def test_the_nightly_reevaluation_runs_once_a_day_after_its_local_time(engine, tmp_path):
    from datetime import datetime, time, timezone
    from zoneinfo import ZoneInfo

    from caregaps.scheduler import reevaluate_due

    add_practice(engine, "p1", "Riverside", "America/Chicago")
    load(engine, "p1", diabetic("high", 9.4), tmp_path)
    settings = get_settings(reevaluate_at="01:00")
    # never evaluated: due now
    assert reevaluate_due(engine, settings) == ["p1"]
    assert reevaluate_due(engine, settings) == []  # just evaluated
    chicago = ZoneInfo("America/Chicago")
    tomorrow = datetime.now(chicago).date() + timedelta(days=1)
    before = datetime.combine(tomorrow, time(0, 59), chicago).astimezone(timezone.utc).replace(tzinfo=None)
    after = before + timedelta(minutes=2)  # 01:01 in Chicago
    assert reevaluate_due(engine, settings, now=before) == []
    assert reevaluate_due(engine, settings, now=after) == ["p1"]


def test_a_delivery_pass_reevaluates_a_stale_practice_before_it_sends(engine, database_url, tmp_path):
    from caregaps.delivery.models import DeliveryChannel
    from caregaps.scheduler import deliveries_pass
    from sqlalchemy import update

    add_practice(engine, "p1", "Riverside", "America/Chicago")
    load(engine, "p1", diabetic("high", 9.4), tmp_path)  # data arrived; the practice was never evaluated
    add_channel(engine, "p1", "email", "care@riverside.example")
    set_schedule(engine, "p1", days="daily", at="00:00")
    with engine.begin() as conn:
        conn.execute(update(DeliveryChannel.__table__).values(created_at=utcnow() - timedelta(days=2)))
    with smtp_server() as (host, port, inbox):
        settings = get_settings(database_url=database_url, smtp_host=host, smtp_port=port)
        [outcome] = deliveries_pass(engine, settings)
    assert outcome.status == "sent" and outcome.item_count == 1  # the worklist the evaluation just built
    assert "1 patient," in inbox.messages[0][2]["Subject"]


def test_only_the_first_of_several_web_workers_resumes_unfinished_imports(engine):
    from caregaps.ingest.runner import JobRunner
    from caregaps.web.app import _resume_imports_once

    runner = JobRunner(engine, 100, 0)
    try:
        assert _resume_imports_once(engine, runner, "host:1") == []  # resumed (nothing was left)
        assert _resume_imports_once(engine, runner, "host:2") is None  # another worker, same start: skips
        assert _resume_imports_once(engine, runner, "host:1") == []
    finally:
        runner.shutdown()


def test_a_practice_that_cannot_be_reevaluated_does_not_stop_the_others_or_the_deliveries(engine, database_url,
                                                                                           tmp_path):
    from caregaps.delivery.models import DeliveryChannel
    from caregaps.models import Practice
    from caregaps.scheduler import _failed_at, deliveries_pass
    from sqlalchemy import update

    add_practice(engine, "p0", "Broken", "America/Chicago")
    with engine.begin() as conn:  # a timezone that went bad in the store: its nightly run cannot be computed
        conn.execute(update(Practice.__table__).where(Practice.__table__.c.id == "p0").values(timezone="Mars/Olympus"))
    add_practice(engine, "p1", "Riverside", "America/Chicago")
    load(engine, "p1", diabetic("high", 9.4), tmp_path)
    add_channel(engine, "p1", "email", "care@riverside.example")
    set_schedule(engine, "p1", days="daily", at="00:00")
    with engine.begin() as conn:
        conn.execute(update(DeliveryChannel.__table__).values(created_at=utcnow() - timedelta(days=2)))
    _failed_at.clear()
    with smtp_server() as (host, port, inbox):
        [outcome] = deliveries_pass(engine, get_settings(database_url=database_url, smtp_host=host, smtp_port=port))
    assert outcome.status == "sent" and outcome.item_count == 1 and "p0" in _failed_at
    _failed_at.clear()
