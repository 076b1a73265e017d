"""The quality lead's dashboard pages: every measure's rate for the ACO and each practice with
targets and gaps to close and a trend chart; one measure by practice, clinician or stratum; the
patients behind any number, linked to their patient pages. The JSON twin is /api/dashboard."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from caregaps.aco import ACO_ID
from caregaps.dashboard import queries
from caregaps.dashboard.charts import trend_svg
from caregaps.dashboard.targets import measure_targets, set_target
from caregaps.engine.codes import Population
from caregaps.web.dashboard_api import LEADS, measure_of, scope_of
from caregaps.web.deps import EngineDep, NowDep, Viewer
from caregaps.web.fhir_measures import catalog_of
from caregaps.web.pages import templates
from caregaps.web.pages_app import _context, _form

router = APIRouter(include_in_schema=False)
POPULATION_COLUMNS = ((Population.INITIAL_POPULATION, "IP"), (Population.DENOMINATOR, "Denom"),
                      (Population.DENOMINATOR_EXCLUSION, "Excl"), (Population.DENOMINATOR_EXCEPTION, "Excep"),
                      (Population.NUMERATOR, "Numer"))  # the count columns of the dashboard tables


def _viewer(ctx: dict) -> Viewer:
    user = ctx["user"]
    return Viewer(user.email, ctx["practices"], user.id, user.role, ctx["session"])


def _period(periodStart: str, periodEnd: str) -> tuple[date | None, date | None]:
    try:
        return (date.fromisoformat(periodStart) if periodStart else None,
                date.fromisoformat(periodEnd) if periodEnd else None)
    except ValueError as exc:
        raise HTTPException(400, f"periodStart/periodEnd: {exc}") from None


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(request: Request, engine: EngineDep, now: NowDep, periodStart: str = "", periodEnd: str = ""):
    ctx = _context(request, engine)
    s = scope_of(engine, _viewer(ctx), now, *_period(periodStart, periodEnd))
    rows = queries.overview(engine, catalog_of(request, engine), s.practices, s.start, s.end,
                            measure_targets(engine), s.with_aco)
    for m in rows:
        shown = ACO_ID if m["aco"] else (s.practices[0] if s.practices else None)
        points = queries.trend(engine, m["measure"], s.start, s.end, shown) if shown else []
        m["chart"] = trend_svg(points, m["target"], m["inverse"], f"{m['measure']} rate over time ({shown})")
    ctx.update(rows=rows, start=s.start, end=s.end, period=urlencode({"periodStart": s.start, "periodEnd": s.end}),
               leads=ctx["user"].role in LEADS, pops=POPULATION_COLUMNS)
    return templates.TemplateResponse(request, "dashboard.html", ctx)


@router.get("/dashboard/{measure_id}", response_class=HTMLResponse)
def measure_page(measure_id: str, request: Request, engine: EngineDep, now: NowDep, by: str = "practice",
                 periodStart: str = "", periodEnd: str = "", error: str = ""):
    ctx = _context(request, engine)
    measure = measure_of(request, engine, measure_id)
    s = scope_of(engine, _viewer(ctx), now, *_period(periodStart, periodEnd))
    target = measure_targets(engine).get(measure.id)
    try:
        rows = queries.breakdown(engine, measure, s.practices, s.start, s.end, by, target)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    charts = [(p, trend_svg(queries.trend(engine, measure.id, s.start, s.end, p), target, measure.inverse,
                            f"{measure.id} rate over time ({p})"))
              for p in ([ACO_ID] if s.with_aco else []) + s.practices]
    ctx.update(m=measure, rows=rows, by=by, breakdowns=queries.BREAKDOWNS, target=target, charts=charts,
               start=s.start, end=s.end, error=error, leads=ctx["user"].role in LEADS, aco=ACO_ID,
               period=urlencode({"periodStart": s.start, "periodEnd": s.end}), pops=POPULATION_COLUMNS)
    return templates.TemplateResponse(request, "dashboard_measure.html", ctx)


@router.get("/dashboard/{measure_id}/patients", response_class=HTMLResponse)
def patients_page(measure_id: str, request: Request, engine: EngineDep, now: NowDep,
                  population: str = Population.DENOMINATOR,
                  by: str = "", group: str = "", practice: str = "", periodStart: str = "", periodEnd: str = ""):
    from caregaps.web.worklist_api import audit

    ctx = _context(request, engine)
    measure = measure_of(request, engine, measure_id)
    s = scope_of(engine, _viewer(ctx), now, *_period(periodStart, periodEnd), practice or None)
    try:
        found = queries.patients_behind(engine, measure, s.practices, s.start, s.end, population, by or None,
                                        group or None)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    audit(engine, ctx["user"].email, "view", practice or None, None, str(request.url.path) + f"?population={population}")
    query = {"population": population, "by": by, "group": group, "practice": practice,
             "periodStart": s.start, "periodEnd": s.end}
    ctx.update(m=measure, patients=found, population=population, by=by, group=group, practice=practice,
               csv_url=f"/api/dashboard/{measure.id}/patients?" + urlencode({**query, "format": "csv"}),
               linkable=set(ctx["practices"]))
    return templates.TemplateResponse(request, "dashboard_patients.html", ctx)


@router.post("/dashboard/{measure_id}/target")
async def target_form(measure_id: str, request: Request, engine: EngineDep):
    ctx = _context(request, engine)
    if ctx["user"].role not in LEADS:
        raise HTTPException(403, "only admins and quality leads set targets")
    form = await _form(request, ctx)
    raw = str(form.get("target", "")).strip().rstrip("%")
    back = f"/dashboard/{measure_id}"
    try:
        value = None if raw == "" else float(raw) / 100
        set_target(engine, measure_id, value, ctx["user"].email, set(catalog_of(request, engine).measures))
    except ValueError as exc:
        return RedirectResponse(back + "?" + urlencode({"error": f"target: {raw!r}: {exc}"}), status_code=303)
    return RedirectResponse(back, status_code=303)
