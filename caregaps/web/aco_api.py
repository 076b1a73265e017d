"""ACO matches JSON API: the persons matched across practices, and splitting a wrong match.

Admins only (403 for everyone else, tokens included): a match shows patients of several
practices side by side. Every view and split goes to the audit log.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel

from caregaps.web.deps import EngineDep, ViewerDep, check_admin

router = APIRouter(prefix="/api/aco", tags=["ACO"])


class SplitRequest(BaseModel):
    a: str  # practice/patient id
    b: str


def read_matches(engine, actor: str, path: str, limit: int, offset: int = 0) -> dict:
    """The person counts and the persons with several records (audited as a view)."""
    from caregaps.aco import ACO_ID
    from caregaps.aco.people import person_counts, shared_persons
    from caregaps.web.worklist_api import audit

    audit(engine, actor, "view", ACO_ID, None, path)
    counts = person_counts(engine)
    return {"persons": counts.persons, "records": counts.records, "shared_persons": counts.shared_persons,
            "by_rule": counts.by_rule, "matches": shared_persons(engine, limit, offset)}


def split(engine, actor: str, a: str, b: str, path: str) -> dict:
    """Split two matched records (audited as a change); 400 with the reason if it cannot be done."""
    from caregaps.aco import ACO_ID
    from caregaps.aco.people import SplitError, parse_record, split_records
    from caregaps.web.worklist_api import audit

    try:
        rebuilt = split_records(engine, parse_record(a), parse_record(b), actor)
    except SplitError as exc:
        raise HTTPException(400, str(exc)) from None
    for record in (a, b):
        practice_id, _, patient_id = record.partition("/")
        audit(engine, actor, "change", practice_id, patient_id, path)
    audit(engine, actor, "change", ACO_ID, None, path)
    return rebuilt


@router.get("/matches", summary="Persons with records at more than one practice, and how they matched")
def matches(viewer: ViewerDep, engine: EngineDep, limit: int = 100, offset: int = 0) -> dict:
    check_admin(viewer)
    return read_matches(engine, viewer.actor, "/api/aco/matches", min(max(limit, 1), 1000), max(offset, 0))


@router.post("/matches/split", summary="Two matched records are different people: split them and rebuild")
def post_split(body: SplitRequest, viewer: ViewerDep, engine: EngineDep) -> dict:
    check_admin(viewer)
    return split(engine, viewer.actor, body.a, body.b, "/api/aco/matches/split")
