"""What the dashboard reads from stored runs: rates per measure for the ACO and each practice,
breakdowns by practice, clinician and stratum, the patients behind any number, and trends.

Every figure comes from the latest finished run of the measure and period for each practice
(the ACO's from the ACO pseudo-practice, where each person counts once with all their data).
The page and its JSON twin both call these functions.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, select

from caregaps.aco import ACO_ID
from caregaps.dashboard.attribution import attributed_clinicians, clinician_names, primary_payers
from caregaps.dashboard.rates import age_band, gaps_to_target, tally
from caregaps.engine import results
from caregaps.engine.catalog import Catalog, Measure
from caregaps.engine.codes import POPULATIONS, Population
from caregaps.engine.gaps import eligible, performance_rate
from caregaps.models import MeasureResult, MeasureRun, Patient, Practice

RUN, RESULT, PATIENT, PRACTICE = MeasureRun.__table__, MeasureResult.__table__, Patient.__table__, Practice.__table__
OMB = {"1002-5": "American Indian or Alaska Native", "2028-9": "Asian", "2054-5": "Black or African American",
       "2076-8": "Native Hawaiian or Other Pacific Islander", "2106-3": "White", "2131-1": "Other Race",
       "2135-2": "Hispanic or Latino", "2186-5": "Not Hispanic or Latino"}  # US Core race/ethnicity categories
BREAKDOWNS = ("practice", "clinician", "age", "sex", "race", "ethnicity", "payer")
LISTS = POPULATIONS + ("not-met",)  # not-met: eligible and not in the numerator
_FLAGS = [RESULT.c[p.column].label(p.value) for p in Population]


def figure(label: str, key: str, counts: dict[str, int], measure: Measure, target: float | None) -> dict:
    """One line of the dashboard: counts of every population, the rate, and the gaps to target."""
    counts = {k: int(counts.get(k, 0)) for k in POPULATIONS}
    return {"label": label, "key": key, "counts": counts, "eligible": eligible(counts),
            "rate": performance_rate(counts), "target": target,
            "gaps_to_target": gaps_to_target(counts, target, measure.inverse)}


def latest_runs(engine: Engine, measure_id: str, start: date, end: date, practices: list[str]) -> dict[str, MeasureRun]:
    """practice id -> its newest finished run of the measure for the period (of those asked for)."""
    wanted = set(practices)
    return {r.practice_id: r for r in results.latest_runs(engine, measure_id, start, end) if r.practice_id in wanted}


def overview(engine: Engine, catalog: Catalog, practices: list[str], start: date, end: date,
             targets: dict[str, float], with_aco: bool) -> list[dict]:
    """For every measure: the ACO figure (when shown and built), each practice's, and their plain sum."""
    with engine.connect() as conn:
        names = dict(conn.execute(select(PRACTICE.c.id, PRACTICE.c.name).where(PRACTICE.c.id.in_(practices))).all())
    members = [p for p in practices if p != ACO_ID]
    out = []
    for measure in catalog.measures.values():
        target = targets.get(measure.id)
        runs = latest_runs(engine, measure.id, start, end, members + ([ACO_ID] if with_aco else []))
        rows = [figure(names.get(p, p), p, runs[p].counts, measure, target) for p in members if p in runs]
        summed = {k: sum(r["counts"][k] for r in rows) for k in POPULATIONS}
        aco = runs.get(ACO_ID)
        out.append({"measure": measure.id, "title": measure.title, "inverse": measure.inverse, "target": target,
                    "aco": figure("ACO (each person once)", ACO_ID, aco.counts, measure, target) if aco else None,
                    "aco_as_of": aco.as_of.isoformat() if aco else None,
                    "sum_of_practices": figure("Sum of practices", "sum", summed, measure, target),
                    "practices": rows})
    return out


def result_rows(engine: Engine, measure_id: str, start: date, end: date, practices: list[str]) -> list[dict]:
    """Every patient of the latest runs: practice, patient, demographics and population flags."""
    runs = latest_runs(engine, measure_id, start, end, practices)
    if not runs:
        return []
    run_practice = {r.id: p for p, r in runs.items()}
    query = (select(RUN.c.practice_id, RESULT.c.patient_id, RESULT.c.gap_status, *_FLAGS, PATIENT.c.given,
                    PATIENT.c.family, PATIENT.c.birth_date, PATIENT.c.gender, PATIENT.c.race, PATIENT.c.ethnicity)
             .join(RUN, RUN.c.id == RESULT.c.run_id)
             .outerjoin(PATIENT, (PATIENT.c.practice_id == RUN.c.practice_id)
                        & (PATIENT.c.resource_id == RESULT.c.patient_id))
             .where(RESULT.c.run_id.in_(list(run_practice))))
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def _keyed(engine: Engine, rows: list[dict], by: str, end: date) -> tuple[callable, dict[str, str]]:
    """A key function for the breakdown `by`, and display labels of the keys."""
    if by == "practice":
        return (lambda r: r["practice_id"]), {}
    if by == "age":
        return (lambda r: age_band(r["birth_date"], end)), {}
    if by in ("sex", "race", "ethnicity"):
        column = {"sex": "gender"}.get(by, by)
        return (lambda r: r[column]), OMB
    lookup, labels = {}, {}
    with engine.connect() as conn:
        for practice_id in sorted({r["practice_id"] for r in rows}):
            if by == "clinician":  # Practitioner ids are the practice's own: keyed and named per practice
                names = clinician_names(conn, practice_id)
                found = {pid: f"{practice_id}:{ref}" for pid, ref in
                         attributed_clinicians(conn, practice_id, end).items()}
                labels.update({key: f"{names.get(key.split(':', 1)[1], key.split(':', 1)[1])} ({practice_id})"
                               for key in found.values()})
            else:
                found = primary_payers(conn, practice_id)
            lookup.update({(practice_id, pid): v for pid, v in found.items()})
    return (lambda r: lookup.get((r["practice_id"], r["patient_id"]))), labels


def breakdown(engine: Engine, measure: Measure, practices: list[str], start: date, end: date, by: str,
              target: float | None) -> list[dict]:
    """The measure's figures per practice, clinician, age band, sex, race, ethnicity or payer."""
    if by not in BREAKDOWNS:
        raise ValueError(f"by: one of {', '.join(BREAKDOWNS)}, got {by!r}")
    rows = result_rows(engine, measure.id, start, end, [p for p in practices if p != ACO_ID])
    key, labels = _keyed(engine, rows, by, end)
    return [figure(labels.get(group, group), group, counts, measure, target)
            for group, counts in tally(rows, key).items()]


def patients_behind(engine: Engine, measure: Measure, practices: list[str], start: date, end: date,
                    population: str, by: str | None = None, group: str | None = None) -> list[dict]:
    """The patients counted in one number of the dashboard (a population, optionally of one group)."""
    if population not in LISTS:
        raise ValueError(f"population: one of {', '.join(LISTS)}, got {population!r}")
    if by is not None and by not in BREAKDOWNS:
        raise ValueError(f"by: one of {', '.join(BREAKDOWNS)}, got {by!r}")
    rows = result_rows(engine, measure.id, start, end, practices)
    if by is not None:
        key, _ = _keyed(engine, rows, by, end)
        rows = [r for r in rows if (key(r) or "unknown") == group]
    if population == "not-met":
        chosen = [r for r in rows if r[Population.DENOMINATOR] and not (
            r[Population.DENOMINATOR_EXCLUSION] or r[Population.DENOMINATOR_EXCEPTION] or r[Population.NUMERATOR])]
    else:
        chosen = [r for r in rows if r[population]]
    return [{"practice_id": r["practice_id"], "patient_id": r["patient_id"],
             "name": " ".join(x for x in (r["given"], r["family"]) if x) or None,
             "birth_date": r["birth_date"].isoformat() if r["birth_date"] else None, "gender": r["gender"],
             "gap_status": r["gap_status"], **{k: bool(r[k]) for k in POPULATIONS}}
            for r in sorted(chosen, key=lambda r: (r["practice_id"], r["patient_id"]))]


def trend(engine: Engine, measure_id: str, start: date, end: date, practice_id: str) -> list[tuple[date, float | None]]:
    """The rate of each day's last run of the measure and period for one practice (or the ACO)."""
    with engine.connect() as conn:
        runs = conn.execute(select(RUN.c.as_of, RUN.c.counts).where(
            RUN.c.measure_id == measure_id, RUN.c.period_start == start, RUN.c.period_end == end,
            RUN.c.practice_id == practice_id, RUN.c.finished_at.is_not(None)).order_by(RUN.c.as_of, RUN.c.id)).all()
    by_day = {as_of: counts for as_of, counts in runs}
    return [(day, performance_rate({k: counts.get(k, 0) for k in POPULATIONS})) for day, counts in by_day.items()]
