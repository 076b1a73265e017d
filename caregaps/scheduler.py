"""The scheduler: APScheduler 3 with its jobs kept in the database, run by one process at a time.

Every process that may schedule (each `caregaps serve` with CAREGAPS_SCHEDULER=embedded, and
`caregaps scheduler`) runs a small loop that tries to take or renew a lease row in the
database. Only the holder starts APScheduler; the others wait, and take over when the holder
stops renewing (it died, or lost the database) for CAREGAPS_SCHEDULER_LEASE_SECONDS. Each job
renews the lease before it acts, and deliveries are claimed row by row (caregaps.delivery.
dispatch), so even two leaders overlapping for a moment could not send a slot twice.

Jobs (thin: the work is in caregaps.pipeline and caregaps.delivery):
  nightly-reevaluation  re-evaluates each practice once a day after CAREGAPS_REEVALUATE_AT,
                        its local time (or at start-up if that was missed), then rebuilds
                        and evaluates the ACO roll-up (caregaps.aco);
  deliveries            re-evaluates first any practice whose nightly run is still due, then
                        records the due slots and sends them.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from caregaps.config import Settings
from caregaps.delivery.models import SchedulerLease
from caregaps.models import Practice, utcnow

log = logging.getLogger("caregaps.scheduler")
LEASE, PRACTICE = SchedulerLease.__table__, Practice.__table__
LEASE_NAME = "scheduler"
_active: "SchedulerService | None" = None
_reevaluating = threading.Lock()
_failed_at: dict[str, datetime] = {}  # practice -> when its re-evaluation last failed (this process)
RETRY_FAILED_AFTER = timedelta(hours=1)


class Lease:
    """A row that says which process may act, until when."""

    def __init__(self, engine: Engine, holder: str, seconds: float, name: str = LEASE_NAME):
        self.engine, self.holder, self.seconds, self.name = engine, holder, seconds, name

    def acquire(self, now: datetime | None = None) -> bool:
        """Take the lease if it is free or expired, or renew it if ours; whether we hold it now."""
        now = now or utcnow()
        until = now + timedelta(seconds=self.seconds)
        with self.engine.begin() as conn:
            taken = conn.execute(update(LEASE).where(LEASE.c.name == self.name,
                                                     (LEASE.c.holder == self.holder) | (LEASE.c.expires_at < now))
                                 .values(holder=self.holder, expires_at=until)).rowcount
        if taken:
            return True
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(LEASE).values(name=self.name, holder=self.holder, expires_at=until))
            return True
        except IntegrityError:
            return False

    def release(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(LEASE).where(LEASE.c.name == self.name, LEASE.c.holder == self.holder)
                         .values(expires_at=datetime(1970, 1, 1)))

    def holder_now(self) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(LEASE.c.holder, LEASE.c.expires_at).where(LEASE.c.name == self.name)).first()
        return row.holder if row is not None and row.expires_at >= utcnow() else None


def reevaluate_due(engine: Engine, settings: Settings, now: datetime | None = None) -> list[str]:
    """Re-evaluate each practice whose nightly run (CAREGAPS_REEVALUATE_AT, local) is due; their ids."""
    from caregaps.delivery.schedule import make_schedule
    from caregaps.pipeline import last_evaluated, prepare, refresh_practice

    now = now or utcnow()
    done, catalog = [], None
    with _reevaluating:
        with engine.connect() as conn:
            practices = conn.execute(select(PRACTICE.c.id, PRACTICE.c.timezone).where(PRACTICE.c.kind != "aco")
                                     .order_by(PRACTICE.c.id)).all()
        for practice_id, tz in practices:
            if now - _failed_at.get(practice_id, datetime(1970, 1, 1)) < RETRY_FAILED_AFTER:
                continue
            try:
                nightly = make_schedule("daily", settings.reevaluate_at, tz)
                last = last_evaluated(engine, practice_id) or datetime(1970, 1, 1)
                if nightly.latest_due(last, now) is None:
                    continue
                catalog = catalog or prepare(engine)
                refreshed = refresh_practice(engine, catalog, practice_id, now=now)  # the period of today there
            except Exception:  # noqa: BLE001  (one practice's failure must not stop the others or the deliveries)
                log.exception("could not re-evaluate %s; trying again in %s", practice_id, RETRY_FAILED_AFTER)
                _failed_at[practice_id] = now
                continue
            log.info("re-evaluated %s: worklist %s", practice_id, refreshed.worklist)
            _failed_at.pop(practice_id, None)
            done.append(practice_id)
        if done:
            _refresh_aco(engine, catalog, now)
    return done


def _refresh_aco(engine: Engine, catalog, now: datetime) -> None:
    """After members were re-evaluated: rebuild the ACO roll-up and evaluate it (a failure is
    logged, so that deliveries still go out)."""
    from caregaps.aco.evaluate import refresh_aco

    try:
        evaluated = refresh_aco(engine, catalog, now=now)
    except Exception:  # noqa: BLE001
        log.exception("could not rebuild and evaluate the ACO roll-up")
        return
    log.info("ACO roll-up: %s persons from %s records", evaluated.rebuilt.persons, evaluated.rebuilt.records)


def run_reevaluation() -> None:
    """Job: the nightly re-evaluation."""
    service = _active
    if service is not None and service.lease.acquire():
        reevaluate_due(service.engine, service.settings)


def deliveries_pass(engine: Engine, settings: Settings, holder: str | None = None, now: datetime | None = None):
    """Re-evaluate any practice whose nightly run is still due, then deliver every due slot."""
    from caregaps.delivery.dispatch import deliver_due

    try:
        reevaluate_due(engine, settings, now)
    except Exception:  # noqa: BLE001  (deliver what there is even when re-evaluation cannot run)
        log.exception("re-evaluation failed; delivering the worklists as they stand")
    outcomes = deliver_due(engine, settings, now=now, holder=holder)
    for outcome in outcomes:
        log.info("delivery %s (%s): %s%s", outcome.delivery_id, outcome.channel, outcome.status,
                 f" ({outcome.error})" if outcome.error else "")
    return outcomes


def run_deliveries() -> None:
    """Job: the deliveries pass, by the lease holder."""
    service = _active
    if service is not None and service.lease.acquire():
        deliveries_pass(service.engine, service.settings, holder=service.lease.holder)


class SchedulerService:
    """Competes for the lease; while it holds it, runs APScheduler with the jobs above."""

    def __init__(self, settings: Settings, engine: Engine):
        from caregaps.delivery.dispatch import holder_name

        self.settings, self.engine = settings, engine
        self.lease = Lease(engine, holder_name(), settings.scheduler_lease_seconds)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._scheduler = None

    @property
    def leading(self) -> bool:
        return self._scheduler is not None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="caregaps-scheduler-lease", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._stand_down()
        self.lease.release()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                held = self.lease.acquire()
            except Exception:  # noqa: BLE001  (the database may be away for a while; keep trying)
                log.exception("scheduler: could not reach the lease")
                held = False
            if held and not self.leading:
                try:
                    self._lead()
                except Exception:  # noqa: BLE001  (e.g. the job store could not start: try again next round)
                    log.exception("scheduler: could not start the jobs")
                    self._stand_down()
            elif not held and self.leading:
                log.warning("scheduler: lost the lease to another process; standing down")
                self._stand_down()
            self._stop.wait(max(0.2, self.settings.scheduler_lease_seconds / 3))

    def _lead(self) -> None:
        global _active
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.background import BackgroundScheduler

        _active = self
        scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=self.engine, tablename="apscheduler_jobs")},
            executors={"default": ThreadPoolExecutor(2)}, timezone="UTC",
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None})
        every = self.settings.scheduler_tick_seconds
        scheduler.add_job(run_deliveries, "interval", seconds=every, id="deliveries", replace_existing=True,
                          next_run_time=datetime.now().astimezone())
        scheduler.add_job(run_reevaluation, "interval", minutes=15, id="nightly-reevaluation",
                          replace_existing=True)
        scheduler.start()
        self._scheduler = scheduler
        log.info("scheduler: %s holds the lease and runs the jobs", self.lease.holder)

    def _stand_down(self) -> None:
        global _active
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
        if _active is self:
            _active = None
