"""The Da Vinci DEQM gaps-in-care report: one document Bundle per patient, valid by fhir.resources.R4B.

Per measure it holds an individual MeasureReport, a DetectedIssue carrying the gap status, and a
GuidanceResponse with the reason and what would close the gap; a Composition ties them together.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from fhir.resources.R4B.bundle import Bundle

from caregaps.engine.catalog import Measure
from caregaps.engine.codes import GAPS
from caregaps.fhir.measurereport import individual_report
from caregaps.models import utcnow

DEQM = "http://hl7.org/fhir/us/davinci-deqm"
GAP_STATUS_SYSTEM = f"{DEQM}/CodeSystem/gaps-status"
GAP_REASON_SYSTEM = f"{DEQM}/CodeSystem/care-gap-reason"
GAP_STATUS_EXTENSION = f"{DEQM}/StructureDefinition/extension-gapStatus"


@dataclass
class MeasureGap:
    measure: Measure
    populations: dict[str, bool]
    gap: str
    evidence: list[dict]


def gap_reason(item: MeasureGap) -> tuple[str, str]:
    """(code, display) of the DEQM care-gap reason for an open or prospective gap."""
    if not item.evidence:
        return "NotFound", "Data Element Not Found"
    if item.measure.inverse:
        return "InvalidAttribute", "Attribute is Invalid"
    return "Present", "Data Element is Present"


def _full_url(resource: dict) -> str:
    return f"urn:uuid:{resource['id']}"


def _entries(item: MeasureGap, patient_ref: str, start: date, end: date, now: str) -> list[dict]:
    report = individual_report(item.measure, patient_ref.split("/", 1)[1], item.populations, start, end,
                               item.evidence).model_dump(mode="json", exclude_none=True)
    issue = {
        "resourceType": "DetectedIssue", "id": str(uuid.uuid4()), "status": "final",
        "modifierExtension": [{"url": GAP_STATUS_EXTENSION, "valueCodeableConcept": {
            "coding": [{"system": GAP_STATUS_SYSTEM, "code": item.gap}]}}],
        "code": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "CAREGAP",
                             "display": "Care Gaps"}]},
        "patient": {"reference": patient_ref}, "identifiedDateTime": now,
        "evidence": [{"detail": [{"reference": _full_url(report)}]}],
    }
    entries = [report, issue]
    if item.gap in GAPS:
        code, display = gap_reason(item)
        guidance = {
            "resourceType": "GuidanceResponse", "id": str(uuid.uuid4()), "status": "data-required",
            "moduleUri": item.measure.url, "subject": {"reference": patient_ref}, "occurrenceDateTime": now,
            "reasonCode": [{"coding": [{"system": GAP_REASON_SYSTEM, "code": code, "display": display}]}],
            "note": [{"text": " ".join(item.measure.guidance.split()) or f"Meet the numerator of {item.measure.id}."}],
        }
        issue["evidence"].append({"detail": [{"reference": _full_url(guidance)}]})
        entries.append(guidance)
    return entries


def gaps_bundle(patient_id: str, practice_name: str, items: list[MeasureGap], start: date, end: date) -> Bundle:
    """The DEQM gaps-in-care document Bundle for one patient."""
    now = utcnow().isoformat(timespec="seconds") + "Z"
    patient_ref = f"Patient/{patient_id}"
    per_measure = [(item, _entries(item, patient_ref, start, end, now)) for item in items]
    composition = {
        "resourceType": "Composition", "id": str(uuid.uuid4()), "status": "final",
        "type": {"coding": [{"system": "http://loinc.org", "code": "96315-7", "display": "Gaps in care report"}]},
        "subject": {"reference": patient_ref}, "date": now, "author": [{"display": practice_name}],
        "title": f"Gaps in care report {start} to {end}",
        "section": [{"title": item.measure.title, "focus": {"reference": _full_url(entries[0])},
                     "entry": [{"reference": _full_url(entries[1])}]} for item, entries in per_measure],
    }
    resources = [composition] + [r for _, entries in per_measure for r in entries]
    body = {"resourceType": "Bundle", "id": str(uuid.uuid4()), "type": "document", "timestamp": now,
            "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{uuid.uuid4()}"},
            "entry": [{"fullUrl": _full_url(r), "resource": r} for r in resources]}
    return Bundle.model_validate(body)
