"""Worklist JSON API: list (filter, sort, paginate), one item with its history, changes, bulk
assignment, refresh from the latest results. Every route sees only the viewer's practices."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel

from caregaps.engine.runs import calendar_year, practice_today
from caregaps.models import AuditLog, utcnow
from caregaps.worklist.changes import Change, ChangeError, apply_change
from caregaps.worklist.queries import Filters, get_item, list_items
from caregaps.worklist.sync import refresh_worklist
from caregaps.web.deps import EngineDep, NowDep, PageTurn, ViewerDep

router = APIRouter(prefix="/api/worklist", tags=["Worklist"])


class ItemChange(BaseModel):
    status: str | None = None
    assignee_id: int | None = None
    unassign: bool = False
    due_date: date | None = None
    dismissed_reason: str | None = None
    dismissed_until: date | None = None
    note: str | None = None


class BulkAssign(BaseModel):
    item_ids: list[int]
    assignee_id: int | None = None


_AUDIT = AuditLog.__table__.insert()  # built once: every patient view writes one row


def audit(engine, actor: str, action: str, practice_id: str | None, patient_id: str | None, path: str) -> None:
    """Record who viewed or changed which patient, committed before the answer goes out."""
    with engine.begin() as conn:
        conn.execute(_AUDIT, {"at": utcnow(), "actor": actor, "action": action, "practice_id": practice_id,
                              "patient_id": patient_id, "path": path})


@router.get("", summary="The worklist of the viewer's practices", dependencies=[PageTurn])
def worklist(viewer: ViewerDep, engine: EngineDep, practice: str | None = None,
             status: Annotated[list[str] | None, Query()] = None, tier: Annotated[list[str] | None, Query()] = None,
             measure: str | None = None, assignee_id: int | None = None, sort: str = "priority",
             page: int = 1, per_page: int = 50) -> dict:
    practices = viewer.practices if practice is None else [p for p in viewer.practices if p == practice]
    if practice is not None and not practices:
        raise HTTPException(404, f"no practice {practice!r} among yours")
    try:
        total, items = list_items(engine, Filters(practices, status or [], tier or [], measure, assignee_id, sort,
                                                  page, min(max(per_page, 1), 200)))
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    return {"total": total, "page": page, "per_page": per_page, "items": items}


@router.get("/patients/{practice_id}/{patient_id}", summary="The patient page's data: gaps, evidence, risk, timeline",
            dependencies=[PageTurn])
def patient(practice_id: str, patient_id: str, request: Request, viewer: ViewerDep, engine: EngineDep,
            now: NowDep) -> dict:
    from caregaps.web.fhir_measures import catalog_of
    from caregaps.worklist.patient_view import patient_view

    view = patient_view(engine, catalog_of(request, engine), practice_id, patient_id, now) \
        if practice_id in viewer.practices else None
    if view is None:
        raise HTTPException(404, f"no patient {patient_id} in your practices")
    audit(engine, viewer.actor, "view", practice_id, patient_id, str(request.url.path))
    return view


@router.get("/{item_id}", summary="One worklist item with its history")
def worklist_item(item_id: int, viewer: ViewerDep, engine: EngineDep) -> dict:
    item = get_item(engine, item_id, viewer.practices)
    if item is None:
        raise HTTPException(404, f"no worklist item {item_id} among your practices")
    audit(engine, viewer.actor, "view", item["practice_id"], item["patient_id"], f"/api/worklist/{item_id}")
    return item


@router.patch("/{item_id}", summary="Change status, assignee, due date or dismissal, or add a note")
def change_item(item_id: int, body: ItemChange, viewer: ViewerDep, engine: EngineDep) -> dict:
    item = get_item(engine, item_id, viewer.practices)
    if item is None:
        raise HTTPException(404, f"no worklist item {item_id} among your practices")
    try:
        apply_change(engine, item_id, Change(**body.model_dump()), viewer.actor)
    except ChangeError as exc:
        raise HTTPException(400, str(exc)) from None
    audit(engine, viewer.actor, "change", item["practice_id"], item["patient_id"], f"/api/worklist/{item_id}")
    return get_item(engine, item_id, viewer.practices)


@router.post("/assign", summary="Assign several items to a care manager (or unassign)")
def assign(body: BulkAssign, viewer: ViewerDep, engine: EngineDep) -> dict:
    for item_id in body.item_ids:
        if get_item(engine, item_id, viewer.practices) is None:
            raise HTTPException(404, f"no worklist item {item_id} among your practices")
    for item_id in body.item_ids:
        apply_change(engine, item_id, Change(assignee_id=body.assignee_id, unassign=body.assignee_id is None),
                     viewer.actor)
    return {"assigned": len(body.item_ids), "assignee_id": body.assignee_id}


@router.post("/refresh", summary="Rebuild the worklists from the latest care gaps and risk scores")
def refresh(viewer: ViewerDep, engine: EngineDep, now: NowDep, periodStart: date | None = None,
            periodEnd: date | None = None) -> dict:
    """Each practice's worklist as of its today, for the period asked for or else its default period."""
    done = {}
    for pid in viewer.practices:
        today = practice_today(engine, pid, now)
        start = periodStart or calendar_year(today)[0]
        done[pid] = refresh_worklist(engine, pid, start, periodEnd or calendar_year(start)[1], today)
    return done
