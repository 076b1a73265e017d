"""Submission exports: FHIR MeasureReports (summary, subject-list) for a practice or the ACO, the
QPP submission JSON of the APP Plus eCQMs, and CSV of any patient list.

QPP: one `quality` measurement set submitted as `electronicHealthRecord` under `app_plus`, one
measurement per eCQM (its QPP quality id) with
    eligiblePopulation           = denominator
    eligiblePopulationExclusion  = denominator exclusions
    eligiblePopulationException  = denominator exceptions
    performanceMet               = numerator
    performanceNotMet            = eligiblePopulation - exclusions - exceptions - performanceMet
For the inverse CMS122 (poor control, QPP 001) performance met is the numerator too: lower is better.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from fhir.resources.R4B.measurereport import MeasureReport

from caregaps.dashboard.queries import LISTS, latest_runs, result_rows
from caregaps.engine.catalog import Catalog, Measure
from caregaps.engine.codes import POPULATIONS, Population
from caregaps.engine.gaps import eligible
from caregaps.fhir.measurereport import subject_list_report, summary_report

APP_PLUS = ("CMS122", "CMS165", "CMS125", "CMS130", "CMS2")  # the APP Plus eCQMs (QPP 001, 236, 112, 113, 134)
PATIENT_COLUMNS = ("practice_id", "patient_id", "name", "birth_date", "gender", "gap_status") + POPULATIONS


def _with_reporter(report: MeasureReport, practice_id: str) -> MeasureReport:
    body = report.model_dump(mode="json", by_alias=True, exclude_none=True)
    body["reporter"] = {"reference": f"Organization/{practice_id}"}
    return MeasureReport.model_validate(body)


def summary(engine, measure: Measure, practice_id: str, start: date, end: date) -> MeasureReport | None:
    """The practice's (or the ACO's) latest run as a summary MeasureReport; None without a run."""
    run = latest_runs(engine, measure.id, start, end, [practice_id]).get(practice_id)
    return None if run is None else _with_reporter(summary_report(measure, [run], start, end), practice_id)


def subject_list(engine, measure: Measure, practice_id: str, start: date, end: date) -> MeasureReport | None:
    """The same with a contained List of the patients of each population; None without a run."""
    rows = result_rows(engine, measure.id, start, end, [practice_id])
    if not rows:
        return None
    members = {k: sorted(r["patient_id"] for r in rows if r[k]) for k in POPULATIONS}
    return _with_reporter(subject_list_report(measure, members, start, end), practice_id)


def qpp_submission(engine, catalog: Catalog, practice_id: str, start: date, end: date, entity_type: str,
                   entity_id: str) -> dict:
    """The QPP submission JSON of the APP Plus eCQMs, from the latest runs of the period."""
    measurements = []
    for measure in (catalog.measures[m] for m in APP_PLUS if m in catalog.measures):
        run = latest_runs(engine, measure.id, start, end, [practice_id]).get(practice_id)
        if run is None:
            continue
        c = {k: run.counts.get(k, 0) for k in POPULATIONS}
        measurements.append({"measureId": measure.qpp, "value": {
            "isEndToEndReported": True, "eligiblePopulation": c[Population.DENOMINATOR],
            "eligiblePopulationExclusion": c[Population.DENOMINATOR_EXCLUSION],
            "eligiblePopulationException": c[Population.DENOMINATOR_EXCEPTION],
            "performanceMet": c[Population.NUMERATOR],
            "performanceNotMet": max(0, eligible(c) - c[Population.NUMERATOR])}})
    return {"entityType": entity_type, "entityId": entity_id, "performanceYear": start.year,
            "measurementSets": [{"category": "quality", "submissionMethod": "electronicHealthRecord",
                                 "programName": "app_plus", "performanceStart": start.isoformat(),
                                 "performanceEnd": end.isoformat(), "measurements": measurements}]}


def patients_csv(patients: list[dict]) -> str:
    """A patient list (queries.patients_behind) as CSV."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(PATIENT_COLUMNS)
    for p in patients:
        writer.writerow([p.get(k) if not isinstance(p.get(k), bool) else int(p[k]) for k in PATIENT_COLUMNS])
    return out.getvalue()


__all__ = ["APP_PLUS", "LISTS", "patients_csv", "qpp_submission", "subject_list", "summary"]
