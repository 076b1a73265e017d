"""The one orchestration path after ingest: evaluate every measure, score risk, refresh the
worklist, for one practice on the data as it stands. The demo, the scheduler's nightly
re-evaluation and deliveries all go through `refresh_practice`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Engine, func, select

from caregaps.engine.catalog import Catalog, default_root, load_catalog
from caregaps.engine.risk_runs import score_practice
from caregaps.engine.runs import calendar_year, practice_today, run_measure
from caregaps.models import MeasureRun
from caregaps.terminology import load_valuesets
from caregaps.worklist.sync import refresh_worklist

RISK_MODEL = "chronic-risk"


@dataclass
class Refreshed:
    practice_id: str
    period: tuple[date, date]
    today: date
    runs: dict[str, dict[str, int]] = field(default_factory=dict)  # measure -> counts
    risk_tiers: dict[str, int] = field(default_factory=dict)
    worklist: dict[str, int] = field(default_factory=dict)


def prepare(engine: Engine) -> Catalog:
    """Load the value sets and the measure catalog (once per pass over several practices)."""
    load_valuesets(engine, default_root() / "valuesets")
    return load_catalog()


def refresh_practice(engine: Engine, catalog: Catalog, practice_id: str, today: date | None = None,
                     now: datetime | None = None) -> Refreshed:
    """Evaluate the practice's measures over the calendar year of `today` (default: the practice's
    today at `now`), score risk, refresh its worklist."""
    today = today or practice_today(engine, practice_id, now)
    start, end = calendar_year(today)
    done = Refreshed(practice_id, (start, end), today)
    for measure in catalog.measures.values():
        done.runs[measure.id] = run_measure(engine, measure, practice_id, start, end, as_of=today).counts
    for result, _ in score_practice(engine, catalog.risk_model(RISK_MODEL), practice_id, today):
        done.risk_tiers[result.tier] = done.risk_tiers.get(result.tier, 0) + 1
    done.worklist = refresh_worklist(engine, practice_id, start, end, today)
    return done


def last_evaluated(engine: Engine, practice_id: str) -> datetime | None:
    """When the practice's latest measure run finished (naive UTC), or None."""
    with engine.connect() as conn:
        return conn.execute(select(func.max(MeasureRun.__table__.c.finished_at))
                            .where(MeasureRun.__table__.c.practice_id == practice_id)).scalar()
