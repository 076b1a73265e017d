"""Everything the patient page shows, as plain data (the page and its JSON twin share it)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, bindparam, func, select

from caregaps.engine.catalog import Catalog
from caregaps.engine.codes import GAP_STATUSES, GAPS
from caregaps.engine.runs import local_today
from caregaps.models import (CareGap, Fact, FactCode, MeasureResult, MeasureRun, Patient, Practice, RiskScore,
                             WorklistItem)
from caregaps.worklist.queries import item_with_history

RUN, RESULT, GAP, RISK = MeasureRun.__table__, MeasureResult.__table__, CareGap.__table__, RiskScore.__table__
FACT, CODE, PATIENT, ITEM = Fact.__table__, FactCode.__table__, Patient.__table__, WorklistItem.__table__
TIMELINE_KINDS = ("encounter", "observation", "condition", "procedure", "medication-request")


def when(moment: datetime | str | None, tz) -> str:
    """A stored UTC instant as the practice's day, e.g. 'Mar 2, 2026'."""
    if moment is None:
        return "an unknown date"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    day = moment.replace(tzinfo=timezone.utc).astimezone(tz).date()
    return f"{day:%b} {day.day}, {day.year}"


def evidence_text(item: dict, tz) -> str:
    """'Latest HbA1c: 9.4 % on Mar 2, 2026' from a stored evidence entry."""
    value = ""
    if item.get("value") is not None:
        value = f"{item['value']:g}{' ' + item['unit'] if item.get('unit') else ''} "
    return f"{item['query']}: {value}on {when(item.get('end') or item.get('start'), tz)}"


# built once: the page runs these on every view (building a statement costs more than running it)
_PERSON = (select(PATIENT, Practice.__table__.c.timezone, ITEM.c.id.label("item_id"))
           .join(Practice.__table__, Practice.__table__.c.id == PATIENT.c.practice_id)
           .outerjoin(ITEM, (ITEM.c.practice_id == PATIENT.c.practice_id) & (ITEM.c.patient_id == PATIENT.c.resource_id))
           .where(PATIENT.c.practice_id == bindparam("practice_id"), PATIENT.c.resource_id == bindparam("patient_id")))
_LATEST_RUNS = (select(RUN.c.measure_id, func.max(RUN.c.id).label("id"))
                .where(RUN.c.practice_id == bindparam("practice_id"), RUN.c.finished_at.is_not(None))
                .group_by(RUN.c.measure_id).subquery())
_RESULTS = (select(RESULT, RUN.c.measure_id, RUN.c.period_start, RUN.c.period_end)
            .join(RUN, RUN.c.id == RESULT.c.run_id)
            .where(RESULT.c.run_id.in_(select(_LATEST_RUNS.c.id)), RESULT.c.patient_id == bindparam("patient_id"))
            .order_by(RUN.c.measure_id))
_RISK = (select(RISK).where(RISK.c.practice_id == bindparam("practice_id"), RISK.c.patient_id == bindparam("patient_id"))
         .order_by(RISK.c.as_of.desc()).limit(1))
# each fact's first code in the same statement: a second query for the codes of 60 facts cost
# as much as the timeline itself (its 60 bound parameters are rendered on every view)
_FIRST_CODE = (select(CODE.c.code).where(CODE.c.fact_id == FACT.c.id, CODE.c.element == "code")
               .order_by(CODE.c.id).limit(1).scalar_subquery())
_TIMELINE = (select(FACT.c.kind, FACT.c.resource_type, FACT.c.resource_id, FACT.c.start, FACT.c.end,
                    FACT.c.value_num, FACT.c.value_unit, FACT.c.status, _FIRST_CODE.label("code"))
             .where(FACT.c.practice_id == bindparam("practice_id"), FACT.c.patient_id == bindparam("patient_id"),
                    FACT.c.component.is_(None), FACT.c.kind.in_(TIMELINE_KINDS))
             .order_by(func.coalesce(FACT.c.end, FACT.c.start).desc()).limit(60))


def patient_view(engine: Engine, catalog: Catalog, practice_id: str, patient_id: str,
                 now: datetime | None = None) -> dict | None:
    """Demographics, gaps with evidence, risk, timeline, worklist item and history; None if unknown.
    The age is on today at the practice at `now` (default: this instant)."""
    who = {"practice_id": practice_id, "patient_id": patient_id}
    with engine.connect() as conn:
        person = conn.execute(_PERSON, who).mappings().first()
        if person is None:
            return None
        tz = ZoneInfo(person["timezone"])
        results = conn.execute(_RESULTS, who).mappings().all()
        risk = conn.execute(_RISK, who).mappings().first()
        facts = conn.execute(_TIMELINE, who).mappings().all()
        item = item_with_history(conn, person["item_id"], [practice_id]) if person["item_id"] else None
    gaps = []
    for r in results:
        measure = catalog.measures.get(r["measure_id"])
        if measure is None:
            continue
        gaps.append({"measure": measure.id, "title": measure.title, "status": r["gap_status"],
                     "inverse": measure.inverse, "likely_data_gap": bool(r["likely_data_gap"]),
                     "period": f"{r['period_start']} to {r['period_end']}",
                     "evidence": [evidence_text(e, tz) for e in (r["evidence"] or [])],
                     "to_close": " ".join(measure.guidance.split()) if r["gap_status"] in GAPS else None})
    gaps.sort(key=lambda g: GAP_STATUSES.index(g["status"]))  # most urgent first
    return {
        "practice_id": practice_id, "patient_id": patient_id,
        "name": " ".join(x for x in (person["given"], person["family"]) if x) or patient_id,
        "birth_date": person["birth_date"].isoformat() if person["birth_date"] else None,
        "age": _age(person["birth_date"], local_today(tz, now)), "gender": person["gender"],
        "general_practitioner": person["general_practitioner"],
        "gaps": gaps,
        "risk": None if risk is None else {"tier": risk["tier"], "score": risk["score"], "factors": risk["factors"],
                                           "hcc_score": risk["hcc_score"], "as_of": risk["as_of"].isoformat()},
        "timeline": [{"when": when(f["end"] or f["start"], tz), "kind": f["kind"], "code": f["code"],
                      "value": None if f["value_num"] is None else f"{f['value_num']:g} {f['value_unit'] or ''}".strip(),
                      "status": f["status"], "resource": f"{f['resource_type']}/{f['resource_id']}"} for f in facts],
        "item": item,
    }


def _age(birth: date | None, today: date) -> int | None:
    if birth is None:
        return None
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
