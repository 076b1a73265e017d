"""A worklist as a FHIR R4 Bundle of Task resources (one per item), for webhook delivery.

Each Task asks the practice to close a patient's care gaps: `for` the patient, owned by the
practice (Organization), with the worklist status as its business status, the open and
prospective gaps as `input`, and the due date as its restriction period. Built with
fhir.resources.R4B models so it is valid by construction.
"""

from __future__ import annotations

import uuid
from datetime import timezone

from fhir.resources.R4B.bundle import Bundle

from caregaps.delivery.content import Digest
from caregaps.engine.codes import GAPS
from caregaps.fhir.caregaps import GAP_STATUS_SYSTEM

ITEM_SYSTEM = "urn:caregaps:worklist-item"
STATUS_SYSTEM = "urn:caregaps:worklist-status"
# worklist status -> Task.status
TASK_STATUS = {"new": "requested", "in-progress": "in-progress", "outreach-attempted": "in-progress",
               "scheduled": "accepted", "closed-by-data": "completed", "dismissed": "cancelled"}
# risk tier -> Task.priority
TASK_PRIORITY = {"high": "urgent", "rising": "asap"}


def task_for(digest: Digest, item: dict) -> dict:
    gaps = [g for g in item["gaps"] if g["status"] in GAPS]
    task = {
        "resourceType": "Task", "id": f"worklist-{item['id']}",
        "identifier": [{"system": ITEM_SYSTEM, "value": f"{digest.practice_id}/{item['id']}"}],
        "status": TASK_STATUS.get(item["status"], "requested"), "intent": "plan",
        "priority": TASK_PRIORITY.get(item["risk_tier"] or "", "routine"),
        "businessStatus": {"coding": [{"system": STATUS_SYSTEM, "code": item["status"]}], "text": item["status"]},
        "code": {"text": "Close care gaps"},
        "description": "Care gaps: " + (", ".join(f"{g['measure']} ({g['status']})" for g in gaps) or "none")
                       + (f"; risk {item['risk_tier']} ({item['risk_score']})" if item["risk_tier"] else ""),
        "for": {"reference": f"Patient/{item['patient_id']}", "display": item["patient_name"] or item["patient_id"]},
        "owner": {"reference": f"Organization/{digest.practice_id}", "display": digest.practice_name},
        "authoredOn": digest.generated_at.replace(tzinfo=timezone.utc).isoformat(),
        "lastModified": (item["updated_at"] + "+00:00") if "+" not in item["updated_at"] else item["updated_at"],
        "input": [{"type": {"text": "care-gap"},
                   "valueCodeableConcept": {"coding": [{"system": GAP_STATUS_SYSTEM, "code": g["status"]}],
                                            "text": g["measure"]}} for g in gaps] or None,
        "note": [{"text": f"Assigned to {item['assignee']}"}] if item["assignee"] else None,
    }
    if item["due_date"]:
        task["restriction"] = {"period": {"end": item["due_date"]}}
    return {k: v for k, v in task.items() if v is not None}


def task_bundle(digest: Digest) -> Bundle:
    """A collection Bundle with one Task per worklist item, highest priority first."""
    return Bundle.model_validate({
        "resourceType": "Bundle", "id": str(uuid.uuid4()), "type": "collection",
        "timestamp": digest.generated_at.replace(tzinfo=timezone.utc).isoformat(),
        "entry": [{"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": task_for(digest, item)}
                  for item in digest.items],
    })
