"""FHIR R4 MeasureReports (individual, subject-list, summary), validated by fhir.resources.R4B."""

from __future__ import annotations

import uuid
from datetime import date

from fhir.resources.R4B.measure import Measure as FhirMeasure
from fhir.resources.R4B.measurereport import MeasureReport

from caregaps.engine.catalog import Measure
from caregaps.engine.codes import POPULATIONS, Population
from caregaps.engine.gaps import performance_rate
from caregaps.models import MeasureRun, utcnow

POPULATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/measure-population"
IMPROVEMENT_SYSTEM = "http://terminology.hl7.org/CodeSystem/measure-improvement-notation"
SCORING_SYSTEM = "http://terminology.hl7.org/CodeSystem/measure-scoring"


def canonical(measure: Measure) -> str:
    return f"{measure.url}|{measure.version}"


def improvement(measure: Measure) -> dict:
    return {"coding": [{"system": IMPROVEMENT_SYSTEM, "code": measure.improvement}]}


def _population(code: str, count: int, subject_list: str | None = None) -> dict:
    item = {"code": {"coding": [{"system": POPULATION_SYSTEM, "code": code, "display": Population(code).display}]},
            "count": count}
    if subject_list:
        item["subjectResults"] = {"reference": f"#{subject_list}"}
    return item


def _report(measure: Measure, kind: str, start: date, end: date, group: dict, **extra) -> MeasureReport:
    body = {"resourceType": "MeasureReport", "id": str(uuid.uuid4()), "status": "complete", "type": kind,
            "measure": canonical(measure), "date": utcnow().isoformat() + "Z",
            "period": {"start": start.isoformat(), "end": end.isoformat()},
            "improvementNotation": improvement(measure), "group": [group], **extra}
    return MeasureReport.model_validate(body)


def _defined(measure: Measure) -> list[str]:
    return [code for code in POPULATIONS if code in measure.populations]


def individual_report(measure: Measure, patient_id: str, populations: dict[str, bool], start: date,
                      end: date, evidence: list[dict] = ()) -> MeasureReport:
    """One patient's populations (count 0 or 1) and the resources that decided them."""
    group = {"population": [_population(code, int(populations.get(code, False))) for code in _defined(measure)]}
    extra = {"subject": {"reference": f"Patient/{patient_id}"}}
    if evidence:
        extra["evaluatedResource"] = [{"reference": e["resource"]} for e in evidence]
    return _report(measure, "individual", start, end, group, **extra)


def summary_report(measure: Measure, runs: list[MeasureRun], start: date, end: date) -> MeasureReport:
    """Population counts summed over the runs (one per practice) with the performance rate."""
    counts = {code: sum(run.counts.get(code, 0) for run in runs) for code in POPULATIONS}
    group = {"population": [_population(code, counts[code]) for code in _defined(measure)]}
    rate = performance_rate(counts)
    if rate is not None:
        group["measureScore"] = {"value": rate}
    return _report(measure, "summary", start, end, group)


def subject_list_report(measure: Measure, members: dict[str, list[str]], start: date, end: date) -> MeasureReport:
    """Counts with, for each population, a contained List of its patients."""
    contained, populations = [], []
    for code in _defined(measure):
        patients = members.get(code, [])
        list_id = f"list-{code}"
        contained.append({"resourceType": "List", "id": list_id, "status": "current", "mode": "snapshot",
                          "title": Population(code).display,
                          "entry": [{"item": {"reference": f"Patient/{p}"}} for p in patients]})
        populations.append(_population(code, len(patients), list_id))
    counts = {code: len(members.get(code, [])) for code in POPULATIONS}
    group = {"population": populations}
    if (rate := performance_rate(counts)) is not None:
        group["measureScore"] = {"value": rate}
    return _report(measure, "subject-list", start, end, group, contained=contained)


def measure_resource(measure: Measure) -> FhirMeasure:
    """The Measure resource a client sees: its CMS id, the official canonical url and version."""
    body = {
        "resourceType": "Measure", "id": measure.id, "url": measure.url, "version": measure.version,
        "name": measure.id, "title": measure.title, "status": "active",
        "description": " ".join(measure.description.split()) or measure.title,
        "scoring": {"coding": [{"system": SCORING_SYSTEM, "code": measure.scoring}]},
        "improvementNotation": improvement(measure),
        "identifier": [{"system": "https://cms.gov/ecqm", "value": measure.id}]
                      + ([{"system": "https://qpp.cms.gov/quality-id", "value": measure.qpp}] if measure.qpp else []),
        "group": [{"population": [
            {"code": {"coding": [{"system": POPULATION_SYSTEM, "code": code}]},
             "criteria": {"language": "text/x-caregaps-yaml", "expression": code}}
            for code in _defined(measure)]}],
    }
    return FhirMeasure.model_validate(body)
