"""Small FHIR charts for measure tests: diabetic patients for CMS122, adults for CMS130."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine

from caregaps.engine.catalog import default_root
from caregaps.ingest.jobs import create_job, run_job
from caregaps.terminology import load_valuesets

OFFICE_VISIT = {"system": "http://snomed.info/sct", "code": "185349003"}
DIABETES = {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "E11.9"}
HBA1C = {"system": "http://loinc.org", "code": "4548-4"}
COLONOSCOPY = {"system": "http://www.ama-assn.org/go/cpt", "code": "44388"}


def patient(pid: str, birth: str = "1960-05-01", sex: str = "248152002", gp: str | None = None) -> dict:
    resource = {"resourceType": "Patient", "id": pid, "birthDate": birth, "gender": "female",
                "extension": [{"url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-sex",
                               "valueCode": sex}]}
    if gp:
        resource["generalPractitioner"] = [{"reference": gp}]
    return resource


def office_visit(eid: str, pid: str, day: str = "2026-04-01") -> dict:
    return {"resourceType": "Encounter", "id": eid, "status": "finished", "subject": {"reference": f"Patient/{pid}"},
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            "type": [{"coding": [OFFICE_VISIT]}],
            "period": {"start": f"{day}T09:00:00Z", "end": f"{day}T09:30:00Z"}}


def diabetes(cid: str, pid: str) -> dict:
    return {"resourceType": "Condition", "id": cid, "subject": {"reference": f"Patient/{pid}"},
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                           "code": "active"}]},
            "code": {"coding": [DIABETES]}, "onsetDateTime": "2015-01-01"}


def hba1c(oid: str, pid: str, value: float, day: str = "2026-03-02") -> dict:
    return {"resourceType": "Observation", "id": oid, "status": "final", "code": {"coding": [HBA1C]},
            "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": f"{day}T10:00:00Z",
            "valueQuantity": {"value": value, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"}}


def colonoscopy(prid: str, pid: str, day: str) -> dict:
    return {"resourceType": "Procedure", "id": prid, "status": "completed", "code": {"coding": [COLONOSCOPY]},
            "subject": {"reference": f"Patient/{pid}"}, "performedDateTime": day}


def diabetic(pid: str, a1c: float | None, **kw) -> list[dict]:
    """A CMS122 denominator patient, with an HbA1c of `a1c` (or none)."""
    resources = [patient(pid, **kw), office_visit(f"{pid}-visit", pid), diabetes(f"{pid}-dm", pid)]
    if a1c is not None:
        resources.append(hba1c(f"{pid}-a1c", pid, a1c))
    return resources


def load(engine: Engine, practice_id: str, resources: list[dict], folder: Path) -> None:
    """Write the resources as NDJSON and ingest them into the practice (value sets loaded too)."""
    load_valuesets(engine, default_root() / "valuesets")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{practice_id}-{len(list(folder.iterdir()))}.ndjson"
    path.write_text("\n".join(json.dumps(r) for r in resources) + "\n")
    job = create_job(engine, practice_id, "cli", [(path, path.name)], False)
    run_job(engine, job.id, workers=0)
