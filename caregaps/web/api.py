"""JSON API: health, practices, import jobs and data-quality reports."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from caregaps.db import session
from caregaps.models import ImportJob, utcnow
from caregaps.quality import import_quality, practice_quality
from caregaps.web.deps import EngineDep, PracticeDep

router = APIRouter(prefix="/api", tags=["API"])


@router.get("/health", summary="Liveness")
def health() -> dict:
    return {"status": "ok"}


@router.get("/practice", summary="The practice the token belongs to")
def current_practice(practice: PracticeDep) -> dict:
    return {"id": practice.id, "name": practice.name, "timezone": practice.timezone}


@router.get("/quality", summary="Data-quality report of the token's practice")
def quality(practice: PracticeDep, engine: EngineDep) -> dict:
    with session(engine) as s:
        return practice_quality(s, practice.id, utcnow())


@router.get("/imports", summary="The practice's import jobs, newest first")
def imports(practice: PracticeDep, engine: EngineDep, limit: int = 50) -> list[dict]:
    from sqlmodel import select

    with session(engine) as s:
        jobs = s.exec(select(ImportJob).where(ImportJob.practice_id == practice.id)
                      .order_by(ImportJob.created_at.desc()).limit(limit)).all()
    return [_job_json(j) for j in jobs]


@router.get("/imports/{import_id}", summary="One import job with its data-quality report")
def import_detail(import_id: str, practice: PracticeDep, engine: EngineDep) -> dict:
    with session(engine) as s:
        job = s.get(ImportJob, import_id)
        if job is None or job.practice_id != practice.id:
            raise HTTPException(404, f"no import {import_id} for this practice")
        return _job_json(job) | {"quality": import_quality(s, import_id, utcnow(), practice_id=practice.id)}


def _job_json(job: ImportJob) -> dict:
    return {"id": job.id, "source": job.source, "status": job.status, "strict": job.strict,
            "created_at": job.created_at.isoformat() + "Z",
            "finished_at": job.finished_at.isoformat() + "Z" if job.finished_at else None,
            "files": [{"name": f["name"], "done": f["done"]} for f in job.files],
            "counts": job.counts, "error": job.error}
