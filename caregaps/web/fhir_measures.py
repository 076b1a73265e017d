"""FHIR measure endpoints: Measure read/search, $evaluate-measure, and the DEQM $care-gaps operation.

Every call is scoped to one practice: a bearer token's own, or for a signed-in user one of theirs
(`organization=Organization/<id>`); nobody sees another practice's patients.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.parameters import Parameters
from sqlalchemy import select

from caregaps.engine.catalog import Catalog, Measure, default_root, load_catalog
from caregaps.engine.codes import GAP_STATUSES, GAPS, POPULATIONS
from caregaps.engine.results import latest_runs, populations_of, run_results
from caregaps.engine.runs import calendar_year, default_period, run_measure
from caregaps.fhir.caregaps import MeasureGap, gaps_bundle
from caregaps.fhir.measurereport import individual_report, measure_resource, subject_list_report, summary_report
from caregaps.fhir.outcome import error
from caregaps.models import Patient
from caregaps.terminology import load_valuesets
from caregaps.web.deps import EngineDep, NowDep, ScopedPracticeDep
from caregaps.web.fhir_ingest import FHIR_JSON, fhir_response

router = APIRouter(prefix="/fhir", tags=["FHIR measures"])


class FhirError(Exception):
    def __init__(self, status: int, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.status, self.code = status, code


def problem(exc: FhirError) -> Response:
    return Response(error(str(exc), exc.code).model_dump_json(exclude_none=True), status_code=exc.status,
                    media_type=FHIR_JSON)


def catalog_of(request: Request, engine) -> Catalog:
    """The measures, loaded (with their value sets) on first use."""
    if getattr(request.app.state, "catalog", None) is None:
        load_valuesets(engine, default_root() / "valuesets")
        request.app.state.catalog = load_catalog()
    return request.app.state.catalog


def _measure(catalog: Catalog, measure_id: str) -> Measure:
    try:
        return catalog.get(measure_id)
    except KeyError as exc:
        raise FhirError(404, str(exc.args[0]), "not-found") from None


def _period(engine, practice_id: str, now: datetime, start: str | None, end: str | None) -> tuple[date, date]:
    """The period asked for; without periodStart, the practice's default period."""
    try:
        first = date.fromisoformat(start[:10]) if start else default_period(engine, practice_id, now=now)[0]
        last = date.fromisoformat(end[:10]) if end else calendar_year(first)[1]
    except ValueError:
        raise FhirError(400, f"periodStart/periodEnd must be dates (YYYY-MM-DD), got {start!r}, {end!r}") from None
    if last < first:
        raise FhirError(400, f"periodEnd {last} is before periodStart {first}")
    return first, last


def _patient_id(subject: str | None) -> str | None:
    if subject is None:
        return None
    kind, _, pid = subject.partition("/")
    if kind != "Patient" or not pid:
        raise FhirError(400, f"subject must be Patient/<id>, got {subject!r}")
    return pid


@router.get("/Measure", summary="Search the measures")
def search_measures(request: Request, practice: ScopedPracticeDep, engine: EngineDep):
    catalog = catalog_of(request, engine)
    entries = [{"fullUrl": f"{request.base_url}fhir/Measure/{m.id}", "resource": measure_resource(m).model_dump(
        mode="json", exclude_none=True), "search": {"mode": "match"}} for m in catalog.measures.values()]
    bundle = Bundle.model_validate({"resourceType": "Bundle", "type": "searchset", "total": len(entries),
                                    "entry": entries})
    return fhir_response(bundle)


@router.get("/Measure/$care-gaps", summary="DEQM gaps in care: one document Bundle per patient")
def care_gaps(request: Request, practice: ScopedPracticeDep, engine: EngineDep, now: NowDep,
              periodStart: str | None = None, periodEnd: str | None = None,
              status: Annotated[list[str] | None, Query()] = None, subject: str | None = None,
              organization: str | None = None, practitioner: str | None = None,
              measureId: Annotated[list[str] | None, Query()] = None):
    try:
        catalog = catalog_of(request, engine)
        start, end = _period(engine, practice.id, now, periodStart, periodEnd)
        wanted = set(status or GAPS)
        if bad := wanted - set(GAP_STATUSES):
            raise FhirError(400, f"unknown status {sorted(bad)}; one of {', '.join(GAP_STATUSES)}")
        if organization and organization.partition("/")[2] != practice.id:
            raise FhirError(403, f"organization {organization} is not this token's practice ({practice.id})", "forbidden")
        measures = [_measure(catalog, m) for m in measureId] if measureId else list(catalog.measures.values())
        patients = _scope(engine, practice.id, _patient_id(subject), practitioner)
        per_patient = _gaps_by_patient(engine, measures, practice.id, (start, end), patients, wanted, now)
    except FhirError as exc:
        return problem(exc)
    returns = [{"name": "return", "resource": gaps_bundle(pid, practice.name, items, start, end).model_dump(
        mode="json", exclude_none=True)} for pid, items in sorted(per_patient.items())]
    return fhir_response(Parameters.model_validate({"resourceType": "Parameters", "parameter": returns}))


def _scope(engine, practice_id: str, patient_id: str | None, practitioner: str | None) -> set[str] | None:
    """The patients asked for (None: all of the practice); 404 for a patient the practice lacks."""
    table = Patient.__table__
    if patient_id is None and practitioner is None:
        return None
    query = select(table.c.resource_id).where(table.c.practice_id == practice_id)
    if patient_id:
        query = query.where(table.c.resource_id == patient_id)
    if practitioner:
        query = query.where(table.c.general_practitioner == practitioner)
    with engine.connect() as conn:
        found = set(conn.execute(query).scalars())
    if patient_id and not found:
        raise FhirError(404, f"no Patient/{patient_id} in practice {practice_id}", "not-found")
    return found


def _gaps_by_patient(engine, measures: list[Measure], practice_id: str, period: tuple[date, date],
                     patients: set[str] | None, wanted: set[str], now: datetime) -> dict[str, list[MeasureGap]]:
    out: dict[str, list[MeasureGap]] = {}
    for measure in measures:
        runs = latest_runs(engine, measure.id, *period, practice_id) or [
            run_measure(engine, measure, practice_id, *period, now=now)]
        for row in run_results(engine, runs[0].id):
            if (patients is None or row.patient_id in patients) and row.gap_status in wanted:
                out.setdefault(row.patient_id, []).append(
                    MeasureGap(measure, populations_of(row), row.gap_status, row.evidence or []))
    return out


@router.get("/Measure/{measure_id}", summary="Read a Measure by its CMS id (CMS122, ...)")
def read_measure(measure_id: str, request: Request, practice: ScopedPracticeDep, engine: EngineDep):
    try:
        return fhir_response(measure_resource(_measure(catalog_of(request, engine), measure_id)))
    except FhirError as exc:
        return problem(exc)


@router.api_route("/Measure/{measure_id}/$evaluate-measure", methods=["GET", "POST"],
                  summary="Evaluate a measure for this practice (reportType subject, subject-list or population)")
def evaluate_measure(measure_id: str, request: Request, practice: ScopedPracticeDep, engine: EngineDep,
                     now: NowDep, periodStart: str | None = None, periodEnd: str | None = None,
                     reportType: str | None = None, subject: str | None = None):
    try:
        measure = _measure(catalog_of(request, engine), measure_id)
        start, end = _period(engine, practice.id, now, periodStart, periodEnd)
        patient_id = _patient_id(subject)
        kind = reportType or ("subject" if patient_id else "population")
        if kind not in ("subject", "subject-list", "population"):
            raise FhirError(400, f"reportType must be subject, subject-list or population, got {kind!r}")
        if kind == "subject" and not patient_id:
            raise FhirError(400, "reportType=subject needs subject=Patient/<id>")
        run = run_measure(engine, measure, practice.id, start, end, now=now)
        rows = run_results(engine, run.id)
        if kind == "population":
            return fhir_response(summary_report(measure, [run], start, end))
        if kind == "subject-list":
            members = {code: [r.patient_id for r in rows if populations_of(r)[code]] for code in POPULATIONS}
            return fhir_response(subject_list_report(measure, members, start, end))
        row = next((r for r in rows if r.patient_id == patient_id), None)
        if row is None:
            raise FhirError(404, f"no Patient/{patient_id} in practice {practice.id}", "not-found")
        return fhir_response(individual_report(measure, patient_id, populations_of(row), start, end, row.evidence or []))
    except FhirError as exc:
        return problem(exc)
