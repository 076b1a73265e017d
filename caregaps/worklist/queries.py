"""Read worklists: filtered, sorted, paginated lists, and one item with its patient and history."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy import Connection, Engine, Integer, String, bindparam, cast, func, select

from caregaps.models import Patient, User, WorklistEvent, WorklistItem

ITEM, EVENT, PATIENT, USER = WorklistItem.__table__, WorklistEvent.__table__, Patient.__table__, User.__table__
SORTS = {"priority": ITEM.c.priority.desc(), "updated": ITEM.c.updated_at.desc(), "due": ITEM.c.due_date.asc(),
         "risk": ITEM.c.risk_score.desc()}


@dataclass
class Filters:
    practices: list[str]
    status: list[str] = field(default_factory=list)
    tier: list[str] = field(default_factory=list)
    measure: str | None = None
    assignee_id: int | None = None
    sort: str = "priority"
    page: int = 1
    per_page: int = 50


def _where(shape: tuple) -> list:
    one_practice, status, tier, measure, assignee = shape
    # one practice as an equality, so its priority index also gives the order
    where = [ITEM.c.practice_id == bindparam("practice") if one_practice
             else ITEM.c.practice_id.in_(bindparam("practices", expanding=True))]
    if status:
        where.append(ITEM.c.status.in_(bindparam("status", expanding=True)))
    if tier:
        where.append(ITEM.c.risk_tier.in_(bindparam("tier", expanding=True)))
    if measure:  # the JSON list of gaps holds '"measure": "CMS122"'
        where.append(cast(ITEM.c.gaps, String).like(bindparam("gap_pattern")))
    if assignee:
        where.append(ITEM.c.assignee_id == bindparam("assignee_id"))
    return where


@lru_cache(maxsize=128)
def _statements(shape: tuple, sort: str):
    """(count, page) for one combination of filters, built once: building a statement costs more
    than running it. The page's ids come first (for the priority order from ix_worklist_page
    alone), then their rows: a deep page skips index entries, not joined rows."""
    where = _where(shape)
    page = (select(ITEM.c.id).where(*where).order_by(SORTS[sort], ITEM.c.id)
            .limit(bindparam("limit", type_=Integer)).offset(bindparam("offset", type_=Integer)).subquery("page"))
    rows = (select(ITEM, PATIENT.c.family, PATIENT.c.given, PATIENT.c.birth_date, USER.c.name.label("assignee"))
            .select_from(page.join(ITEM, ITEM.c.id == page.c.id)
                         .outerjoin(PATIENT, (PATIENT.c.practice_id == ITEM.c.practice_id)
                                    & (PATIENT.c.resource_id == ITEM.c.patient_id))
                         .outerjoin(USER, USER.c.id == ITEM.c.assignee_id))
            .order_by(SORTS[sort], ITEM.c.id))
    return select(func.count()).select_from(ITEM).where(*where), rows


def list_items(engine: Engine, f: Filters) -> tuple[int, list[dict]]:
    """(total matching, the page of items with patient names and assignee)."""
    if f.sort not in SORTS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)}")
    shape = (len(f.practices) == 1, bool(f.status), bool(f.tier), bool(f.measure), f.assignee_id is not None)
    count, page = _statements(shape, f.sort)
    params = {"practice": f.practices[0] if f.practices else None, "practices": f.practices, "status": f.status,
              "tier": f.tier, "gap_pattern": f'%"{f.measure}"%', "assignee_id": f.assignee_id,
              "limit": f.per_page, "offset": (max(f.page, 1) - 1) * f.per_page}
    with engine.connect() as conn:
        total = conn.execute(count, params).scalar_one()
        rows = [dict(r) for r in conn.execute(page, params).mappings()]
    return total, [_item_json(r) for r in rows]


def _item_json(r: dict) -> dict:
    return {"id": r["id"], "practice_id": r["practice_id"], "patient_id": r["patient_id"],
            "patient_name": " ".join(x for x in (r.get("given"), r.get("family")) if x) or None,
            "birth_date": r["birth_date"].isoformat() if r.get("birth_date") else None,
            "status": r["status"], "priority": r["priority"], "risk_tier": r["risk_tier"],
            "risk_score": r["risk_score"], "gaps": r["gaps"] or [], "assignee_id": r["assignee_id"],
            "assignee": r.get("assignee"), "due_date": r["due_date"].isoformat() if r["due_date"] else None,
            "dismissed_reason": r["dismissed_reason"],
            "dismissed_until": r["dismissed_until"].isoformat() if r["dismissed_until"] else None,
            "closed_evidence": r["closed_evidence"] or [], "updated_at": r["updated_at"].isoformat()}


_ITEM = (select(ITEM, PATIENT.c.family, PATIENT.c.given, PATIENT.c.birth_date, USER.c.name.label("assignee"))
         .select_from(ITEM.outerjoin(PATIENT, (PATIENT.c.practice_id == ITEM.c.practice_id)
                                     & (PATIENT.c.resource_id == ITEM.c.patient_id))
                      .outerjoin(USER, USER.c.id == ITEM.c.assignee_id))
         .where(ITEM.c.id == bindparam("item_id"), ITEM.c.practice_id.in_(bindparam("practices", expanding=True))))
_HISTORY = select(EVENT).where(EVENT.c.item_id == bindparam("item_id")).order_by(EVENT.c.at, EVENT.c.id)


def get_item(engine: Engine, item_id: int, practices: list[str]) -> dict | None:
    """One item of the given practices with its history, or None (also for another practice's item)."""
    with engine.connect() as conn:
        return item_with_history(conn, item_id, practices)


def item_with_history(conn: Connection, item_id: int, practices: list[str]) -> dict | None:
    """get_item on an open connection (the patient page reads everything on one)."""
    row = conn.execute(_ITEM, {"item_id": item_id, "practices": practices}).mappings().first()
    if row is None:
        return None
    events = conn.execute(_HISTORY, {"item_id": item_id}).mappings()
    history = [{"at": e["at"].isoformat(), "actor": e["actor"], "kind": e["kind"], "old": e["old"],
                "new": e["new"], "text": e["text"]} for e in events]
    return {**_item_json(dict(row)), "history": history}
