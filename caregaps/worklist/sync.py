"""Build and refresh a practice's worklist from its care gaps and risk scores.

An item per patient with an open or prospective gap, or in the high risk tier. Refreshing never
erases notes, assignments, due dates or dismissals: it updates the gaps, risk and priority, and
applies `rules.after_reevaluation` (closed by data when nothing is left, reopened when a gap
returns, a dismissal kept until its reason expires or the gaps change), recording each change.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Engine, func, insert, select, update

from caregaps.engine.codes import GAPS, GapStatus
from caregaps.models import CareGap, RiskScore, WorklistEvent, WorklistItem, utcnow
from caregaps.worklist.rules import after_reevaluation, gap_signature, priority

GAP, RISK, ITEM, EVENT = CareGap.__table__, RiskScore.__table__, WorklistItem.__table__, WorklistEvent.__table__
SYSTEM = "system"


def _current_gaps(conn, practice_id: str, start: date, end: date) -> dict[str, list[dict]]:
    rows = conn.execute(select(GAP.c.patient_id, GAP.c.measure_id, GAP.c.status, GAP.c.first_detected_at,
                               GAP.c.closed_evidence)
                        .where(GAP.c.practice_id == practice_id, GAP.c.period_start == start, GAP.c.period_end == end))
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(r.patient_id, []).append({
            "measure": r.measure_id, "status": r.status, "closed_evidence": r.closed_evidence or [],
            "since": r.first_detected_at.date().isoformat() if isinstance(r.first_detected_at, datetime) else None})
    return out


def _latest_risk(conn, practice_id: str) -> dict[str, tuple[int, str]]:
    latest = conn.execute(select(func.max(RISK.c.as_of)).where(RISK.c.practice_id == practice_id)).scalar()
    if latest is None:
        return {}
    rows = conn.execute(select(RISK.c.patient_id, RISK.c.score, RISK.c.tier)
                        .where(RISK.c.practice_id == practice_id, RISK.c.as_of == latest))
    return {r.patient_id: (r.score, r.tier) for r in rows}


def refresh_worklist(engine: Engine, practice_id: str, start: date, end: date, today: date) -> dict[str, int]:
    """Bring the practice's worklist up to date; counts of items created, updated, closed, reopened.
    The ACO roll-up has no worklist (its persons are worked at their practices)."""
    from caregaps.aco import ACO_ID

    counts = {"created": 0, "updated": 0, "closed-by-data": 0, "reopened": 0}
    if practice_id == ACO_ID:
        return counts
    now = utcnow()
    period_days = (end - start).days + 1
    days_left = (end - today).days
    with engine.begin() as conn:
        gaps_by_patient = _current_gaps(conn, practice_id, start, end)
        risk = _latest_risk(conn, practice_id)
        items = {r.patient_id: r for r in conn.execute(select(ITEM).where(ITEM.c.practice_id == practice_id))}
        patients = set(items) | {p for p, gaps in gaps_by_patient.items() if any(g["status"] in GAPS for g in gaps)} \
            | {p for p, (_, tier) in risk.items() if tier == "high"}
        for patient_id in sorted(patients):
            all_gaps = gaps_by_patient.get(patient_id, [])
            live = [g for g in all_gaps if g["status"] in GAPS]
            score, tier = risk.get(patient_id, (None, None))
            signature = gap_signature(live) + (";RISK:high" if tier == "high" else "")
            days_open = max(((today - date.fromisoformat(g["since"])).days for g in live if g["since"]), default=0)
            values = {"gaps": [{k: g[k] for k in ("measure", "status", "since")} for g in live],
                      "risk_score": score, "risk_tier": tier, "updated_at": now,
                      "priority": priority(score, sum(g["status"] == GapStatus.OPEN for g in live),
                                           sum(g["status"] == GapStatus.PROSPECTIVE for g in live),
                                           days_left, period_days, days_open)}
            item = items.get(patient_id)
            if item is None:
                conn.execute(insert(ITEM).values(practice_id=practice_id, patient_id=patient_id, status="new",
                                                 gap_signature=signature, closed_evidence=[], created_at=now, **values))
                counts["created"] += 1
                continue
            change = after_reevaluation(item.status, item.dismissed_until, item.gap_signature, signature, today)
            if change.status != "dismissed" or change.event:
                values["gap_signature"] = signature
            values["status"] = change.status
            if change.event == "closed-by-data":
                values["closed_evidence"] = [e for g in all_gaps for e in g["closed_evidence"]]
            if change.event == "reopened":
                values.update(dismissed_reason=None, dismissed_until=None, closed_evidence=[])
            conn.execute(update(ITEM).where(ITEM.c.id == item.id).values(**values))
            counts["updated"] += 1
            if change.event:
                counts[change.event] += 1
                conn.execute(insert(EVENT).values(item_id=item.id, at=now, actor=SYSTEM, kind="status",
                                                  old=item.status, new=change.status,
                                                  text=f"{change.event} by re-evaluation"))
    return counts

