"""Pure worklist rules: an item's priority, and what re-evaluation does to its status.

Priority (higher first), from four parts a care manager can check by hand:

    risk        3 x the risk-model score, at most 36 (a high-tier patient scores 18 or more)
    gaps        8 per open gap + 4 per prospective gap
    time left   up to 10: 10 x (1 - days left in the period / days in the period)
    days open   up to 6: 1 per 30 days the oldest gap has been open

Statuses: new, in-progress, outreach-attempted, scheduled (worked by people); closed-by-data
(re-evaluation found no open or prospective gap left); dismissed (with a reason, until a day).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

WORKED = ("new", "in-progress", "outreach-attempted", "scheduled")
STATUSES = WORKED + ("closed-by-data", "dismissed")
# DEQM care-gap remark reasons a care manager can dismiss an item with
DISMISS_REASONS = ("patient-refused", "satisfied-elsewhere", "pending-record", "not-applicable", "deceased",
                   "moved-or-left-practice")


def priority(risk_score: int | None, open_gaps: int, prospective_gaps: int, days_left: int, period_days: int,
             days_open: int) -> float:
    """The item's priority (see the module docstring)."""
    risk = min(3 * (risk_score or 0), 36)
    gaps = 8 * open_gaps + 4 * prospective_gaps
    pressure, age = 0.0, 0
    if open_gaps or prospective_gaps:
        pressure = 10 * (1 - max(0, min(days_left, period_days)) / period_days) if period_days > 0 else 10
        age = min(max(days_open, 0) // 30, 6)
    return round(risk + gaps + pressure + age, 2)


def gap_signature(gaps: list[dict]) -> str:
    """Which measures have which gap: an item's dismissal lasts while this does not change."""
    return ";".join(sorted(f"{g['measure']}:{g['status']}" for g in gaps))


@dataclass(frozen=True)
class Reevaluated:
    status: str
    event: str | None  # closed-by-data, reopened, or None


def after_reevaluation(status: str, dismissed_until: date | None, old_signature: str, new_signature: str,
                       today: date) -> Reevaluated:
    """The item's status once new results are in.

    | status now          | gaps now | other                                        | becomes        |
    |---------------------|----------|----------------------------------------------|----------------|
    | worked (new ... )   | none     |                                              | closed-by-data |
    | closed-by-data      | some     |                                              | new (reopened) |
    | dismissed           | some     | reason expired, or the gaps changed          | new (reopened) |
    | dismissed           | any      | otherwise                                    | dismissed      |
    | anything else       |          |                                              | unchanged      |
    """
    has_gaps = bool(new_signature)
    if status == "dismissed":
        expired = dismissed_until is not None and dismissed_until < today
        if has_gaps and (expired or new_signature != old_signature):
            return Reevaluated("new", "reopened")
        return Reevaluated(status, None)
    if status == "closed-by-data":
        return Reevaluated("new", "reopened") if has_gaps else Reevaluated(status, None)
    if not has_gaps:
        return Reevaluated("closed-by-data", "closed-by-data")
    return Reevaluated(status, None)
