"""Read and set measure targets (rates 0..1); an error names what is wrong."""

from __future__ import annotations

from sqlalchemy import Engine, delete, select

from caregaps.dashboard.models import MeasureTarget
from caregaps.db import session
from caregaps.models import utcnow

TARGET = MeasureTarget.__table__


def measure_targets(engine: Engine) -> dict[str, float]:
    with engine.connect() as conn:
        return {r.measure_id: r.target for r in conn.execute(select(TARGET.c.measure_id, TARGET.c.target))}


def set_target(engine: Engine, measure_id: str, target: float | None, actor: str, known: set[str]) -> None:
    """Set (or with None clear) a measure's target; ValueError for an unknown measure or a rate out of 0..1."""
    if measure_id not in known:
        raise ValueError(f"measure: no measure {measure_id!r}")
    if target is None:
        with engine.begin() as conn:
            conn.execute(delete(TARGET).where(TARGET.c.measure_id == measure_id))
        return
    if not 0 <= target <= 1:
        raise ValueError(f"target: a rate between 0 and 1 (e.g. 0.8 for 80%), got {target}")
    with session(engine) as s:
        row = s.get(MeasureTarget, measure_id) or MeasureTarget(measure_id=measure_id, target=target, updated_by=actor)
        row.target, row.updated_by, row.updated_at = target, actor, utcnow()
        s.add(row)
        s.commit()
