"""Dashboard JSON API (the twin of the /dashboard pages): measure rates for the ACO and each
practice, breakdowns, trends, the patients behind a number (JSON or CSV), targets, exports.

Everyone sees the practices they may see; the ACO figures (each person once) are for admins and
quality leads, who also set targets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel

from caregaps.aco import ACO_ID
from caregaps.dashboard import exports, queries
from caregaps.dashboard.targets import measure_targets, set_target
from caregaps.engine.codes import Population
from caregaps.engine.runs import calendar_year, default_period
from caregaps.web.deps import EngineDep, NowDep, SettingsDep, Viewer, ViewerDep

router = APIRouter(prefix="/api/dashboard", tags=["Dashboard"])
LEADS = ("admin", "quality-lead")


class TargetChange(BaseModel):
    target: float | None  # 0..1; null clears it


@dataclass
class Scope:
    practices: list[str]  # the member practices shown
    with_aco: bool
    start: date
    end: date


def scope_of(engine, viewer: Viewer, now: datetime, period_start: date | None, period_end: date | None,
             practice: str | None = None) -> Scope:
    """What a viewer sees: their practices (or the one asked for), the ACO for leads, the period
    (by default `default_period` of the member practices in view; for the ACO, of all theirs)."""
    with_aco = viewer.role in LEADS
    members = practices = [p for p in viewer.practices if p != ACO_ID]
    if practice is not None:
        if practice != ACO_ID or not with_aco:
            if practice not in members:
                raise HTTPException(404, f"no practice {practice!r} among yours")
            members = [practice]
        practices = [practice]
    start = period_start or default_period(engine, *members, now=now)[0]
    end = period_end or calendar_year(start)[1]
    if end < start:
        raise HTTPException(400, f"periodEnd {end} is before periodStart {start}")
    return Scope(practices, with_aco and practice in (None, ACO_ID), start, end)


def measure_of(request: Request, engine, measure_id: str):
    from caregaps.web.fhir_measures import catalog_of

    measure = catalog_of(request, engine).measures.get(measure_id)
    if measure is None:
        raise HTTPException(404, f"no measure {measure_id!r}")
    return measure


@router.get("", summary="Rates of every measure for the ACO and each practice, with targets and gaps to close")
def dashboard(request: Request, viewer: ViewerDep, engine: EngineDep, now: NowDep, periodStart: date | None = None,
              periodEnd: date | None = None) -> dict:
    from caregaps.web.fhir_measures import catalog_of

    s = scope_of(engine, viewer, now, periodStart, periodEnd)
    rows = queries.overview(engine, catalog_of(request, engine), s.practices, s.start, s.end,
                            measure_targets(engine), s.with_aco)
    return {"period": {"start": s.start.isoformat(), "end": s.end.isoformat()}, "measures": rows}


@router.get("/{measure_id}", summary="One measure by practice, clinician, age band, sex, race, ethnicity or payer")
def measure_detail(measure_id: str, request: Request, viewer: ViewerDep, engine: EngineDep, now: NowDep,
                   by: str = "practice", periodStart: date | None = None, periodEnd: date | None = None) -> dict:
    measure = measure_of(request, engine, measure_id)
    s = scope_of(engine, viewer, now, periodStart, periodEnd)
    target = measure_targets(engine).get(measure.id)
    try:
        rows = queries.breakdown(engine, measure, s.practices, s.start, s.end, by, target)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    trends = {p: [(d.isoformat(), r) for d, r in queries.trend(engine, measure.id, s.start, s.end, p)]
              for p in s.practices + ([ACO_ID] if s.with_aco else [])}
    return {"measure": measure.id, "title": measure.title, "inverse": measure.inverse, "target": target, "by": by,
            "period": {"start": s.start.isoformat(), "end": s.end.isoformat()}, "rows": rows, "trends": trends}


@router.get("/{measure_id}/patients", summary="The patients behind a number (format=csv for CSV)")
def patients(measure_id: str, request: Request, viewer: ViewerDep, engine: EngineDep, now: NowDep,
             population: str = Population.DENOMINATOR, by: str | None = None, group: str | None = None,
             practice: str | None = None, periodStart: date | None = None, periodEnd: date | None = None,
             format: str = "json"):
    from caregaps.web.worklist_api import audit

    measure = measure_of(request, engine, measure_id)
    s = scope_of(engine, viewer, now, periodStart, periodEnd, practice)
    try:
        found = queries.patients_behind(engine, measure, s.practices, s.start, s.end, population, by, group)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    audit(engine, viewer.actor, "view", practice, None, str(request.url.path) + f"?population={population}")
    if format == "csv":
        name = f"{measure.id}-{population}-{practice or 'all'}-{s.start.year}.csv"
        return Response(exports.patients_csv(found), media_type="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return {"measure": measure.id, "population": population, "by": by, "group": group, "total": len(found),
            "patients": found}


@router.put("/targets/{measure_id}", summary="Set (or clear) a measure's target rate; admins and quality leads")
def put_target(measure_id: str, body: TargetChange, request: Request, viewer: ViewerDep, engine: EngineDep) -> dict:
    from caregaps.web.fhir_measures import catalog_of

    if viewer.role not in LEADS:
        raise HTTPException(403, "only admins and quality leads set targets")
    try:
        set_target(engine, measure_id, body.target, viewer.actor, set(catalog_of(request, engine).measures))
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    return {"measure": measure_id, "target": body.target}


@router.get("/export/qpp", summary="QPP submission JSON of the APP Plus eCQMs for the ACO or one practice")
def export_qpp(request: Request, viewer: ViewerDep, engine: EngineDep, now: NowDep, settings: SettingsDep,
               practice: str = ACO_ID, periodStart: date | None = None, periodEnd: date | None = None) -> dict:
    from caregaps.web.fhir_measures import catalog_of

    s = scope_of(engine, viewer, now, periodStart, periodEnd, practice)
    entity = ("apmEntity", settings.aco_entity_id) if practice == ACO_ID else ("group", practice)
    return exports.qpp_submission(engine, catalog_of(request, engine), s.practices[0], s.start, s.end, *entity)


@router.get("/export/measurereport/{measure_id}", summary="FHIR MeasureReport (summary or subject-list)")
def export_measurereport(measure_id: str, request: Request, viewer: ViewerDep, engine: EngineDep, now: NowDep,
                         practice: str = ACO_ID, type: str = "summary", periodStart: date | None = None,
                         periodEnd: date | None = None) -> Response:
    measure = measure_of(request, engine, measure_id)
    s = scope_of(engine, viewer, now, periodStart, periodEnd, practice)
    if type not in ("summary", "subject-list"):
        raise HTTPException(400, f"type: summary or subject-list, got {type!r}")
    build = exports.summary if type == "summary" else exports.subject_list
    report = build(engine, measure, s.practices[0], s.start, s.end)
    if report is None:
        raise HTTPException(404, f"no run of {measure.id} for {practice} in {s.start}..{s.end}; evaluate first")
    return Response(report.model_dump_json(by_alias=True, exclude_none=True), media_type="application/fhir+json")
