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
from caregaps.engine.runs import calendar_year, practice_today, run_measure
from caregaps.pipeline import prepare


@dataclass
class AcoEvaluation:
    rebuilt: Rebuilt
    period: tuple[date, date]
    as_of: date
    runs: dict[str, dict[str, int]] = field(default_factory=dict)  # measure -> counts
    run_ids: dict[str, int] = field(default_factory=dict)  # measure -> measure_run.id


def rebuild_and_evaluate(engine: Engine, start: date | None = None, end: date | None = None,
                         as_of: date | None = None, catalog: Catalog | None = None,
                         measure_ids: list[str] | None = None, now: datetime | None = None) -> AcoEvaluation:
    """Rebuild the ACO from its members' data and evaluate the measures (default: all) for the period.

    The period defaults to the calendar year of the ACO's today at `now`, and the data is as of
    that day: both read after the rebuild, which sets the ACO's timezone (its members' most common).
    """
    catalog = catalog or prepare(engine)
    rebuilt = rebuild_aco(engine)
    today = practice_today(engine, ACO_ID, now)
    as_of = as_of or today
    start = start or calendar_year(today)[0]
    end = end or calendar_year(start)[1]
    done = AcoEvaluation(rebuilt, (start, end), as_of)
    for measure in catalog.measures.values():
        if measure_ids and measure.id not in measure_ids:
            continue
        run = run_measure(engine, measure, ACO_ID, start, end, as_of=as_of)
        done.runs[measure.id], done.run_ids[measure.id] = run.counts, run.id
    return done


def refresh_aco(engine: Engine, catalog: Catalog | None = None, today: date | None = None,
                now: datetime | None = None) -> AcoEvaluation:
    """Rebuild and evaluate the ACO for the calendar year of `today` (default: the ACO's today at `now`)."""
    start, end = calendar_year(today) if today else (None, None)
    return rebuild_and_evaluate(engine, start, end, today, catalog, now=now)
