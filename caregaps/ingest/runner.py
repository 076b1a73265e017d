"""Runs asynchronous import jobs on a background thread, and resumes unfinished ones at start."""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor

from sqlalchemy import Engine
from sqlmodel import select

from caregaps.db import session
from caregaps.ingest.jobs import run_job
from caregaps.models import ImportJob

log = logging.getLogger(__name__)
ASYNC_SOURCES = ("http-import",)


class JobRunner:
    def __init__(self, engine: Engine, batch_size: int, workers: int = 1) -> None:
        self.engine, self.batch_size, self.workers = engine, batch_size, workers
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="caregaps-import")

    def submit(self, job_id: str) -> Future:
        return self.pool.submit(self._run, job_id)

    def resume_unfinished(self) -> list[str]:
        """Queue every async job a previous process left queued, running or failed (a failed job
        resumes after its last committed batch, so a fixed cause lets it complete)."""
        with session(self.engine) as s:
            ids = s.exec(select(ImportJob.id).where(ImportJob.source.in_(ASYNC_SOURCES),
                                                    ImportJob.status.in_(("queued", "running", "failed")))
                         .order_by(ImportJob.created_at)).all()
        for job_id in ids:
            self.submit(job_id)
        return list(ids)

    def shutdown(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=False)

    def _run(self, job_id: str) -> None:
        try:
            run_job(self.engine, job_id, self.batch_size, self.workers)
        except Exception:  # recorded on the job by run_job; keep the worker alive
            log.exception("import %s failed", job_id)
