"""Rebuild the ACO and evaluate its measures: the ACO-level rates, each person counted once.

The measures run through the same `run_measure` as every practice's (stored runs, care gaps
with their history), on the ACO pseudo-practice. The ACO gets no risk scores, no worklist and
no deliveries: nobody works an ACO-level worklist, the practices work theirs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Engine

from caregaps.aco import ACO_ID
from caregaps.aco.rollup import Rebuilt, rebuild_aco
from caregaps.engine.catalog import Catalog
from caregaps.fhir.measurereport import performance_rate  # noqa: F401  (re-exported for the CLI)


@dataclass
class AcoEvaluation:
    rebuilt: Rebuilt
    period: tuple[date, date]
    as_of: date
    runs: dict[str, dict[str, int]] = field(default_factory=dict)  # measure -> counts
    run_ids: dict[str, int] = field(default_factory=dict)  # measure -> measure_run.id


def rebuild_and_evaluate(engine: Engine, start: date, end: date, as_of: date | None = None,
                         catalog: Catalog | None = None, measure_ids: list[str] | None = None) -> AcoEvaluation:
    """Rebuild the ACO from its members' data and evaluate the measures (default: all) for the period."""
    from caregaps.engine.runs import run_measure
    from caregaps.pipeline import prepare

    catalog = catalog or prepare(engine)
    rebuilt = rebuild_aco(engine)
    as_of = as_of or aco_today(engine)
    done = AcoEvaluation(rebuilt, (start, end), as_of)
    for measure in catalog.measures.values():
        if measure_ids and measure.id not in measure_ids:
            continue
        run = run_measure(engine, measure, ACO_ID, start, end, as_of=as_of)
        done.runs[measure.id], done.run_ids[measure.id] = run.counts, run.id
    return done


def refresh_aco(engine: Engine, catalog: Catalog | None = None, today: date | None = None) -> AcoEvaluation:
    """Rebuild and evaluate the ACO for the calendar year of today (the ACO's timezone)."""
    today = today or aco_today(engine)
    return rebuild_and_evaluate(engine, date(today.year, 1, 1), date(today.year, 12, 31), today, catalog)


def aco_today(engine: Engine) -> date:
    """Today in the ACO's timezone (the members' most common one; UTC before the first rebuild)."""
    from zoneinfo import ZoneInfo

    from caregaps.pipeline import practice_today

    try:
        return practice_today(engine, ACO_ID)
    except LookupError:
        return datetime.now(ZoneInfo("UTC")).date()
