"""Small builders for FHIR R4 test resources (add only what a test needs)."""

from __future__ import annotations

import orjson


def patient(pid: str = "pat1", **kw) -> dict:
    return {"resourceType": "Patient", "id": pid, "gender": "female", "birthDate": "1950-03-04", **kw}


def observation(oid: str, pid: str = "pat1", code: str = "4548-4", value: float | None = 9.4,
                when: str = "2026-03-02T10:00:00-05:00", **kw) -> dict:
    resource = {"resourceType": "Observation", "id": oid, "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
                "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": when}
    if value is not None:
        resource["valueQuantity"] = {"value": value, "unit": "%", "code": "%"}
    return {**resource, **kw}


def condition(cid: str, pid: str = "pat1", code: str = "E11.9", **kw) -> dict:
    return {"resourceType": "Condition", "id": cid, "subject": {"reference": f"Patient/{pid}"},
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                           "code": "active"}]},
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": code}]},
            "onsetDateTime": "2020-05-01", **kw}


def encounter(eid: str, pid: str = "pat1", start: str = "2026-03-02T09:00:00-05:00", **kw) -> dict:
    return {"resourceType": "Encounter", "id": eid, "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            "type": [{"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "99213"}]}],
            "subject": {"reference": f"Patient/{pid}"}, "period": {"start": start}, **kw}


def ndjson(*resources) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in resources)
