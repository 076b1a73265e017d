"""Changes people make to worklist items, each recorded with who and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, insert, select, update

from caregaps.models import User, WorklistEvent, WorklistItem, utcnow
from caregaps.worklist.rules import DISMISS_REASONS, STATUSES

ITEM, EVENT = WorklistItem.__table__, WorklistEvent.__table__


class ChangeError(ValueError):
    """A change that is not allowed, saying which field and why."""


@dataclass
class Change:
    status: str | None = None
    assignee_id: int | None = None
    unassign: bool = False
    due_date: date | None = None
    dismissed_reason: str | None = None
    dismissed_until: date | None = None
    note: str | None = None


def apply_change(engine: Engine, item_id: int, change: Change, actor: str) -> None:
    """Apply `change` to the item and record every field it changes (and the note) as events."""
    if change.status is not None and change.status not in STATUSES:
        raise ChangeError(f"status: must be one of {', '.join(STATUSES)}, got {change.status!r}")
    if change.status == "closed-by-data":
        raise ChangeError("status: closed-by-data is set by re-evaluation, not by hand")
    if change.status == "dismissed" and change.dismissed_reason not in DISMISS_REASONS:
        raise ChangeError(f"dismissed_reason: dismissing needs one of {', '.join(DISMISS_REASONS)}")
    if change.note is not None and not change.note.strip():
        raise ChangeError("note: empty")
    now = utcnow()
    with engine.begin() as conn:
        item = conn.execute(select(ITEM).where(ITEM.c.id == item_id)).first()
        if item is None:
            raise LookupError(f"no worklist item {item_id}")
        if change.assignee_id is not None and conn.execute(
                select(User.__table__.c.id).where(User.__table__.c.id == change.assignee_id)).first() is None:
            raise ChangeError(f"assignee_id: no user {change.assignee_id}")
        values, events = {}, []

        def record(field: str, kind: str, new) -> None:
            old = getattr(item, field)
            if new != old:
                values[field] = new
                events.append({"kind": kind, "old": None if old is None else str(old),
                               "new": None if new is None else str(new)})

        if change.status is not None:
            record("status", "status", change.status)
            if change.status == "dismissed":
                record("dismissed_reason", "dismissed", change.dismissed_reason)
                record("dismissed_until", "dismissed", change.dismissed_until)
        if change.assignee_id is not None or change.unassign:
            record("assignee_id", "assignee", None if change.unassign else change.assignee_id)
        if change.due_date is not None:
            record("due_date", "due-date", change.due_date)
        if values:
            conn.execute(update(ITEM).where(ITEM.c.id == item_id).values(updated_at=now, **values))
        if change.note:
            events.append({"kind": "note", "old": None, "new": None, "text": change.note.strip()})
        if events:
            conn.execute(insert(EVENT), [{"item_id": item_id, "at": now, "actor": actor, "text": None, **e}
                                         for e in events])
