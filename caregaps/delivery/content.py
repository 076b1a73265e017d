"""What a delivery carries: the practice's prioritised worklist and the gaps opened and closed
since its last delivery, as plain data, CSV and JSON (email and FHIR Tasks render from this)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select

from caregaps.engine.codes import GapChange, GapStatus
from caregaps.models import CareGap, GapEvent, Practice
from caregaps.worklist.queries import Filters, list_items
from caregaps.worklist.rules import WORKED

GAP, EVENT = CareGap.__table__, GapEvent.__table__
NEW_EVENTS, CLOSED_EVENTS = (GapChange.DETECTED, GapChange.REOPENED), (GapChange.CLOSED,)
CSV_COLUMNS = ("priority", "patient_id", "patient_name", "birth_date", "risk_tier", "risk_score", "open_gaps",
               "prospective_gaps", "status", "assignee", "due_date", "link")


@dataclass
class Digest:
    practice_id: str
    practice_name: str
    timezone: str
    generated_at: datetime  # naive UTC
    since: datetime | None  # the last delivery to this channel, or when the channel was added
    items: list[dict]  # worked worklist items, highest priority first
    new_gaps: int
    closed_gaps: int
    base_url: str

    @property
    def local_day(self) -> str:
        day = self.generated_at.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(self.timezone))
        return f"{day:%a} {day:%b} {day.day}, {day.year}"

    def link(self, item: dict) -> str:
        return f"{self.base_url.rstrip('/')}/patients/{item['practice_id']}/{item['patient_id']}"

    def subject(self) -> str:
        """The email subject: counts only, never a patient's name or id."""
        patients = f"{len(self.items)} patient{'' if len(self.items) == 1 else 's'}"
        return (f"caregaps worklist for {self.practice_name}, {self.local_day}: {patients}, "
                f"{self.new_gaps} new and {self.closed_gaps} closed gaps")


def worklist_items(engine: Engine, practice_id: str) -> list[dict]:
    """The items a delivery carries: every worked item of the practice, highest priority first."""
    return list_items(engine, Filters([practice_id], list(WORKED), per_page=1_000_000))[1]


def build_digest(engine: Engine, practice_id: str, since: datetime | None, now: datetime, base_url: str,
                 items: list[dict] | None = None) -> Digest:
    """The worklist as it stands (or `items`, already read) and the gap changes after `since` (naive UTC)."""
    items = worklist_items(engine, practice_id) if items is None else items
    with engine.connect() as conn:
        practice = conn.execute(select(Practice.__table__).where(Practice.__table__.c.id == practice_id)).first()
        changes = {}
        if since is not None:
            rows = conn.execute(select(EVENT.c.event, func.count()).join(GAP, GAP.c.id == EVENT.c.gap_id)
                                .where(GAP.c.practice_id == practice_id, EVENT.c.at > since, EVENT.c.at <= now,
                                       EVENT.c.event.in_(NEW_EVENTS + CLOSED_EVENTS))
                                .group_by(EVENT.c.event))
            changes = dict(rows.all())
    return Digest(practice_id, practice.name, practice.timezone, now, since, items,
                  sum(changes.get(e, 0) for e in NEW_EVENTS), sum(changes.get(e, 0) for e in CLOSED_EVENTS), base_url)


def gap_measures(item: dict, status: str) -> str:
    return " ".join(g["measure"] for g in item["gaps"] if g["status"] == status)


def digest_csv(digest: Digest) -> str:
    """Every item as a CSV row (the email's attachment)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for item in digest.items:
        writer.writerow([f"{item['priority']:g}", item["patient_id"], item["patient_name"] or "",
                         item["birth_date"] or "", item["risk_tier"] or "",
                         "" if item["risk_score"] is None else item["risk_score"], gap_measures(item, GapStatus.OPEN),
                         gap_measures(item, GapStatus.PROSPECTIVE), item["status"], item["assignee"] or "",
                         item["due_date"] or "", digest.link(item)])
    return out.getvalue()


def digest_json(digest: Digest, delivery_id: int | None, slot: datetime | None) -> dict:
    """The webhook's JSON body."""
    return {
        "resourceType": "caregaps.Worklist", "delivery_id": delivery_id,
        "slot": None if slot is None else slot.replace(tzinfo=timezone.utc).isoformat(),
        "generated_at": digest.generated_at.replace(tzinfo=timezone.utc).isoformat(),
        "practice": {"id": digest.practice_id, "name": digest.practice_name, "timezone": digest.timezone},
        "since": None if digest.since is None else digest.since.replace(tzinfo=timezone.utc).isoformat(),
        "counts": {"items": len(digest.items), "new_gaps": digest.new_gaps, "closed_gaps": digest.closed_gaps},
        "items": [{k: item[k] for k in ("id", "patient_id", "patient_name", "birth_date", "status", "priority",
                                        "risk_tier", "risk_score", "gaps", "assignee", "due_date")}
                  | {"link": digest.link(item)} for item in digest.items],
    }
