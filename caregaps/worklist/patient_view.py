"""Everything the patient page shows, as plain data (the page and its JSON twin share it)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select

from caregaps.engine.catalog import Catalog
from caregaps.models import (CareGap, Fact, FactCode, MeasureResult, MeasureRun, Patient, Practice, RiskScore,
                             WorklistItem)
from caregaps.worklist.queries import get_item

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


def patient_view(engine: Engine, catalog: Catalog, practice_id: str, patient_id: str) -> dict | None:
    """Demographics, gaps with evidence, risk, timeline, worklist item and history; None if unknown."""
    with engine.connect() as conn:
        person = conn.execute(select(PATIENT).where(PATIENT.c.practice_id == practice_id,
                                                    PATIENT.c.resource_id == patient_id)).mappings().first()
        if person is None:
            return None
        tz = ZoneInfo(conn.execute(select(Practice.__table__.c.timezone)
                                   .where(Practice.__table__.c.id == practice_id)).scalar_one())
        latest = (select(RUN.c.measure_id, func.max(RUN.c.id).label("id"))
                  .where(RUN.c.practice_id == practice_id, RUN.c.finished_at.is_not(None))
                  .group_by(RUN.c.measure_id).subquery())
        results = conn.execute(select(RESULT, RUN.c.measure_id, RUN.c.period_start, RUN.c.period_end)
                               .join(RUN, RUN.c.id == RESULT.c.run_id)
                               .where(RESULT.c.run_id.in_(select(latest.c.id)), RESULT.c.patient_id == patient_id)
                               .order_by(RUN.c.measure_id)).mappings().all()
        risk = conn.execute(select(RISK).where(RISK.c.practice_id == practice_id, RISK.c.patient_id == patient_id)
                            .order_by(RISK.c.as_of.desc()).limit(1)).mappings().first()
        facts = conn.execute(select(FACT.c.id, FACT.c.kind, FACT.c.resource_type, FACT.c.resource_id, FACT.c.start,
                                    FACT.c.end, FACT.c.value_num, FACT.c.value_unit, FACT.c.status)
                             .where(FACT.c.practice_id == practice_id, FACT.c.patient_id == patient_id,
                                    FACT.c.component.is_(None), FACT.c.kind.in_(TIMELINE_KINDS))
                             .order_by(func.coalesce(FACT.c.end, FACT.c.start).desc()).limit(60)).mappings().all()
        codes = {}
        if facts:
            for row in conn.execute(select(CODE.c.fact_id, CODE.c.system, CODE.c.code)
                                    .where(CODE.c.fact_id.in_([f["id"] for f in facts]), CODE.c.element == "code")):
                codes.setdefault(row.fact_id, f"{row.code}")
        item_id = conn.execute(select(ITEM.c.id).where(ITEM.c.practice_id == practice_id,
                                                       ITEM.c.patient_id == patient_id)).scalar()
    gaps = []
    for r in results:
        measure = catalog.measures.get(r["measure_id"])
        if measure is None:
            continue
        gaps.append({"measure": measure.id, "title": measure.title, "status": r["gap_status"],
                     "inverse": measure.inverse, "likely_data_gap": bool(r["likely_data_gap"]),
                     "period": f"{r['period_start']} to {r['period_end']}",
                     "evidence": [evidence_text(e, tz) for e in (r["evidence"] or [])],
                     "to_close": " ".join(measure.guidance.split()) if r["gap_status"] in ("open-gap", "prospective-gap")
                     else None})
    gaps.sort(key=lambda g: ("open-gap", "prospective-gap", "closed-gap", "not-applicable").index(g["status"]))
    return {
        "practice_id": practice_id, "patient_id": patient_id,
        "name": " ".join(x for x in (person["given"], person["family"]) if x) or patient_id,
        "birth_date": person["birth_date"].isoformat() if person["birth_date"] else None,
        "age": _age(person["birth_date"]), "gender": person["gender"],
        "general_practitioner": person["general_practitioner"],
        "gaps": gaps,
        "risk": None if risk is None else {"tier": risk["tier"], "score": risk["score"], "factors": risk["factors"],
                                           "hcc_score": risk["hcc_score"], "as_of": risk["as_of"].isoformat()},
        "timeline": [{"when": when(f["end"] or f["start"], tz), "kind": f["kind"], "code": codes.get(f["id"]),
                      "value": None if f["value_num"] is None else f"{f['value_num']:g} {f['value_unit'] or ''}".strip(),
                      "status": f["status"], "resource": f"{f['resource_type']}/{f['resource_id']}"} for f in facts],
        "item": get_item(engine, item_id, [practice_id]) if item_id else None,
    }


def _age(birth: date | None) -> int | None:
    if birth is None:
        return None
    today = date.today()
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
