"""Read stored runs back: the latest run per practice, a patient's latest result, result rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select

from caregaps.engine.catalog import Measure
from caregaps.engine.codes import Population
from caregaps.models import MeasureResult, MeasureRun, Practice

RUN, RESULT, PRACTICE = MeasureRun.__table__, MeasureResult.__table__, Practice.__table__
CSV_POPULATIONS = tuple(p for p in Population if p != Population.NUMERATOR_EXCLUSION)  # no measure defines it
CSV_COLUMNS = ("practice", "patient", *(p.column for p in CSV_POPULATIONS), "gap_status", "likely_data_gap",
               "evidence")


@dataclass
class StoredResult:
    run_id: int
    populations: dict[str, bool]
    gap: str
    evidence: list[dict]
    likely_data_gap: bool
    tz: tzinfo


def populations_of(row) -> dict[str, bool]:
    return {code.value: bool(getattr(row, code.column)) for code in Population}


def latest_runs(engine: Engine, measure_id: str, start: date, end: date,
                practice_id: str | None = None) -> list[MeasureRun]:
    """The newest finished run of the measure and period for each practice (or the one given)."""
    newest = (select(RUN.c.practice_id, func.max(RUN.c.id).label("id"))
              .where(RUN.c.measure_id == measure_id, RUN.c.period_start == start, RUN.c.period_end == end,
                     RUN.c.finished_at.is_not(None))
              .group_by(RUN.c.practice_id))
    if practice_id:
        newest = newest.where(RUN.c.practice_id == practice_id)
    ids = select(newest.subquery().c.id)
    with engine.connect() as conn:
        rows = conn.execute(select(RUN).where(RUN.c.id.in_(ids)).order_by(RUN.c.practice_id)).mappings().all()
    return [MeasureRun(**row) for row in rows]


def latest_result(engine: Engine, measure: Measure, practice_id: str, patient_id: str,
                  start: date, end: date) -> StoredResult:
    """The patient's result in the latest run; LookupError naming what is missing."""
    runs = latest_runs(engine, measure.id, start, end, practice_id)
    if not runs:
        raise LookupError(f"no run of {measure.id} for practice {practice_id!r} and {start}..{end}; "
                          f"run `caregaps evaluate --measure {measure.id} --practice {practice_id}` first")
    with engine.connect() as conn:
        row = conn.execute(select(RESULT).where(RESULT.c.run_id == runs[0].id,
                                                RESULT.c.patient_id == patient_id)).first()
        tz = conn.execute(select(PRACTICE.c.timezone).where(PRACTICE.c.id == practice_id)).scalar_one()
    if row is None:
        raise LookupError(f"no patient {patient_id!r} in practice {practice_id!r} (run {runs[0].id})")
    return StoredResult(runs[0].id, populations_of(row), row.gap_status, row.evidence or [],
                        bool(row.likely_data_gap), ZoneInfo(tz))


def run_results(engine: Engine, run_id: int) -> list:
    with engine.connect() as conn:
        return conn.execute(select(RESULT).where(RESULT.c.run_id == run_id).order_by(RESULT.c.patient_id)).all()


def run_rows(engine: Engine, runs: list[MeasureRun]):
    """CSV rows (CSV_COLUMNS) of every patient in the runs."""
    for run in runs:
        for row in run_results(engine, run.id):
            evidence = "; ".join(f"{e['query']}: {e['resource']}" for e in (row.evidence or []))
            yield [run.practice_id, row.patient_id, *(int(getattr(row, p.column)) for p in CSV_POPULATIONS),
                   row.gap_status, int(row.likely_data_gap), evidence]
