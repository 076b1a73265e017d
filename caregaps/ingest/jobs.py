"""Import jobs: read inputs, check each resource, store in batches, record every outcome.

Each batch commits its resources, its rejections and the job's progress (how many lines or
entries of each file are done) in one transaction, so a job killed at any point leaves the
store consistent, and running it again resumes after the last committed batch. Re-reading
input that was already stored is harmless: unchanged resources are counted, not stored again.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from contextlib import nullcontext
from pathlib import Path
from typing import Callable, Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, insert, update

from caregaps.ingest.bulk import load_connection
from caregaps.ingest.problems import Issue
from caregaps.ingest.readers import Entry
from caregaps.ingest.results import EntryResult
from caregaps.ingest.store import BatchWriter
from caregaps.ingest.workers import check_entry, checked_entries, checker_pool, rare_gc
from caregaps.models import ImportIssue, ImportJob, Practice, utcnow
from caregaps.db import session
from caregaps.statistics import refresh_statistics

JOB, ISSUE = ImportJob.__table__, ImportIssue.__table__
COUNTED = {"created": "stored", "updated": "stored", "unchanged": "unchanged", "deleted": "deleted"}


def create_job(engine: Engine, practice_id: str, source: str, files: list[tuple[Path, str]],
               strict: bool = False, job_id: str | None = None) -> ImportJob:
    """Record a job over `files` ((path on disk, name to report) pairs) before any work."""
    job = ImportJob(id=job_id or str(uuid.uuid4()), practice_id=practice_id, source=source, strict=strict,
                    files=[{"path": str(p), "name": n, "done": 0} for p, n in files])
    with session(engine) as s:
        if s.get(Practice, practice_id) is None:
            raise LookupError(f"unknown practice {practice_id!r} (add it with `caregaps practice add`)")
        s.add(job)
        s.commit()
    return job


def run_job(engine: Engine, job_id: str, batch_size: int = 2000, workers: int = 1,
            on_progress: Callable[[ImportJob], None] | None = None) -> ImportJob:
    """Run (or resume) a job to the end; returns it with its final counts."""
    with session(engine) as s:
        job = s.get(ImportJob, job_id)
        practice = s.get(Practice, job.practice_id)
    ingest = Ingestor(engine, job, ZoneInfo(practice.timezone), batch_size)
    set_job(engine, job.id, status="running", started_at=job.started_at or utcnow(), error=None, finished_at=None)
    try:
        with rare_gc():
            _run_files(ingest, job, practice.timezone, workers, on_progress)
    except Exception as exc:  # the store stays consistent; the job says why it stopped
        set_job(engine, job.id, status="failed", error=f"{type(exc).__name__}: {exc}", finished_at=utcnow())
        raise
    complete_job(engine, job.id)
    with session(engine) as s:
        return s.get(ImportJob, job.id)


def _run_files(ingest: "Ingestor", job: ImportJob, tz_name: str, workers: int, on_progress) -> None:
    with checker_pool(workers) as pool, load_connection(ingest.engine) as conn:
        for index, spec in enumerate(job.files):
            results = checked_entries(Path(spec["path"]), spec["name"], spec["done"], tz_name, job.strict, pool)
            ingest.store(results, file_index=index, conn=conn)
            if on_progress:
                on_progress(ingest.job)


class Ingestor:
    """Checks entries and writes them in batches, committing progress with each batch."""

    def __init__(self, engine: Engine, job: ImportJob, tz, batch_size: int) -> None:
        self.engine, self.job, self.tz, self.batch_size = engine, job, tz, batch_size
        self.counts = defaultdict(lambda: defaultdict(int), {t: defaultdict(int, c) for t, c in job.counts.items()})

    def run(self, entries: Iterable[Entry], file_index: int | None = None,
            on_result: Callable[[EntryResult], None] | None = None) -> None:
        """Check entries in this process and store them."""
        self.store((check_entry(e, self.tz, self.job.strict) for e in entries), file_index, on_result)

    def store(self, results: Iterable[EntryResult], file_index: int | None = None,
              on_result: Callable[[EntryResult], None] | None = None, conn: Connection | None = None) -> None:
        """Store checked entries in batches; each batch commits with the file's progress. `conn`
        is a connection from `load_connection` that every file of an import shares."""
        with nullcontext(conn) if conn is not None else load_connection(self.engine) as conn:
            self._store(conn, results, file_index, on_result)

    def _store(self, conn: Connection, results: Iterable[EntryResult], file_index, on_result) -> None:
        pending: list[EntryResult] = []
        keys: set[tuple[str, str]] = set()
        done = None
        for result in results:
            item = result.item
            if item is not None and item.key in keys:  # the same resource twice: keep order
                self._flush(conn, pending, file_index, done, on_result)
                pending, keys = [], set()
            pending.append(result)
            if item is not None:
                keys.add(item.key)
            location = result.entry.location
            done = location.line if location.line is not None else (location.entry or 0) + 1
            if len(pending) >= self.batch_size:
                self._flush(conn, pending, file_index, done, on_result)
                pending, keys = [], set()
        self._flush(conn, pending, file_index, done, on_result)

    def _flush(self, conn: Connection, pending: list[EntryResult], file_index, done, on_result) -> None:
        if not pending:
            return
        with conn.begin():
            items = [r.item for r in pending if r.outcome == "pending"]
            outcomes = iter(BatchWriter(conn, self.job.practice_id, self.job.id).write(items))
            for result in pending:
                if result.outcome == "pending":
                    result.outcome = next(outcomes)
                self.counts[result.rtype or "unknown"][COUNTED.get(result.outcome, result.outcome)] += 1
            issues = [_issue_row(self.job.id, i) for r in pending for i in r.issues]
            if issues:
                conn.execute(insert(ISSUE), issues)
            if file_index is not None:
                self.job.files[file_index]["done"] = done
            counts = {t: dict(c) for t, c in self.counts.items()}
            conn.execute(update(JOB).where(JOB.c.id == self.job.id).values(
                files=[dict(f) for f in self.job.files], counts=counts))
            self.job.counts = counts
        if on_result:
            for result in pending:
                on_result(result)


def _issue_row(import_id: str, issue: Issue) -> dict:
    loc = issue.location
    return {"import_id": import_id, "severity": issue.severity, "code": issue.code, "file": loc.file,
            "line": loc.line, "entry": loc.entry, "resource_type": issue.resource_type,
            "resource_id": issue.resource_id, "path": issue.path, "message": issue.message}


def complete_job(engine: Engine, job_id: str) -> None:
    """Mark a job completed once the planner statistics cover what it stored, so that measures
    evaluated as soon as it reads completed are planned with them (caregaps.statistics)."""
    refresh_statistics(engine)
    set_job(engine, job_id, status="completed", finished_at=utcnow())


def set_job(engine: Engine, job_id: str, **values) -> None:
    """Update a job's row (status, times, error)."""
    with engine.begin() as conn:
        conn.execute(update(JOB).where(JOB.c.id == job_id).values(**values))
