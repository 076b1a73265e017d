"""Server-rendered pages (Jinja2). For now: the home page with each practice's imports."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlmodel import func, select

from caregaps.db import session
from caregaps.models import ImportJob, Patient, Practice, RawResource
from caregaps.web.deps import EngineDep

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


@router.get("/", response_class=HTMLResponse)
def home(request: Request, engine: EngineDep):
    with session(engine) as s:
        practices = s.exec(select(Practice).order_by(Practice.id)).all()
        patients = dict(s.exec(select(Patient.practice_id, func.count()).group_by(Patient.practice_id)).all())
        resources = dict(s.exec(select(RawResource.practice_id, func.count())
                                .where(RawResource.is_current.is_(True), RawResource.deleted.is_(False))
                                .group_by(RawResource.practice_id)).all())
        jobs = s.exec(select(ImportJob).order_by(ImportJob.created_at.desc()).limit(20)).all()
    rows = [{"practice": p, "patients": patients.get(p.id, 0), "resources": resources.get(p.id, 0)}
            for p in practices]
    imports = [{"job": j, **{k: sum(c.get(k, 0) for c in j.counts.values())
                             for k in ("stored", "unchanged", "rejected")}} for j in jobs]
    return templates.TemplateResponse(request, "home.html", {"rows": rows, "imports": imports})
