"""Store an evaluation as a run, and carry each patient's care gap forward from run to run.

A run records the measure and its version, the period, the day the data is as of, and every
patient's populations, gap status and evidence. The `care_gap` row of a patient and measure
remembers when the gap was first detected, when and by which evidence it closed, and how often
it reopened; `gap_event` keeps each change.
"""

from __future__ import annotations

from datetime import date, datetime, timezone, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, bindparam, insert, select, update

from caregaps.engine.catalog import Measure
from caregaps.engine.evaluate import PatientResult, evaluate
from caregaps.engine.codes import GAP_STATUSES, POPULATIONS, GapChange, GapStatus, Population
from caregaps.engine.gaps import gap_change
from caregaps.engine.period import Period
from caregaps.ingest.bulk import insert_rows
from caregaps.models import CareGap, GapEvent, MeasureResult, MeasureRun, Practice, utcnow

RUN, RESULT, GAP, EVENT, PRACTICE = (MeasureRun.__table__, MeasureResult.__table__, CareGap.__table__,
                                     GapEvent.__table__, Practice.__table__)
RESULT_COLUMNS = ("run_id", "patient_id", *(p.column for p in Population), "gap_status", "likely_data_gap",
                  "evidence")


def practice_timezone(conn: Connection, practice_id: str) -> ZoneInfo:
    """The practice's timezone; a LookupError for an unknown practice."""
    tz = conn.execute(select(PRACTICE.c.timezone).where(PRACTICE.c.id == practice_id)).scalar()
    if tz is None:
        raise LookupError(f"no practice {practice_id!r}; add it with `caregaps practice add`")
    return ZoneInfo(tz)


def practice_period(conn: Connection, practice_id: str, start: date, end: date) -> Period:
    """The period in the practice's timezone; a LookupError for an unknown practice."""
    return Period(start, end, practice_timezone(conn, practice_id))


def system_clock() -> datetime:
    """This instant (aware, UTC): the clock of every command and of the app unless one is given."""
    return datetime.now(timezone.utc)


def local_today(tz: tzinfo, now: datetime | None = None) -> date:
    """The calendar day at `tz` at the instant `now` (aware, or naive UTC as the store keeps
    instants; default: this instant). Never the server's own date: at 23:30 on Dec 31 in Chicago
    it is already Jan 1 in UTC."""
    now = now or system_clock()
    return (now if now.tzinfo else now.replace(tzinfo=timezone.utc)).astimezone(tz).date()


def practice_today(engine: Engine, practice_id: str, now: datetime | None = None) -> date:
    """Today at the practice, in its timezone; a LookupError for an unknown practice."""
    with engine.connect() as conn:
        return local_today(practice_timezone(conn, practice_id), now)


def calendar_year(day: date) -> tuple[date, date]:
    """The measurement period `day` falls in: its calendar year."""
    return date(day.year, 1, 1), date(day.year, 12, 31)


def default_period(engine: Engine, *practice_ids: str, now: datetime | None = None) -> tuple[date, date]:
    """The measurement period when none is asked for: the calendar year of today at the practice.

    Over several practices (a dashboard, a report of them all) it is the year of the earliest of
    their todays: the year that has not yet ended for one of them, so that around New Year no
    practice is shown a year it has not begun. With no practice, the year of today in UTC.
    A LookupError for an unknown practice. Callers that also need the day itself (the as-of day
    of a run) take `practice_today` and `calendar_year`, reading the clock once.
    """
    zones: dict[str, str] = {}
    if practice_ids:
        with engine.connect() as conn:
            zones = dict(conn.execute(select(PRACTICE.c.id, PRACTICE.c.timezone)
                                      .where(PRACTICE.c.id.in_(set(practice_ids)))).all())
    if unknown := sorted(set(practice_ids) - set(zones)):
        raise LookupError(f"no practice {', '.join(map(repr, unknown))}; add it with `caregaps practice add`")
    days = [local_today(ZoneInfo(tz), now) for tz in set(zones.values())] or [local_today(timezone.utc, now)]
    return calendar_year(min(days))


def run_measure(engine: Engine, measure: Measure, practice_id: str, start: date, end: date,
                as_of: date | None = None, now: datetime | None = None) -> MeasureRun:
    """Evaluate `measure` for the practice and period, store the run and update its care gaps.
    The data is as of `as_of`, by default the practice's today at `now`."""
    with engine.begin() as conn:
        period = practice_period(conn, practice_id, start, end)
        as_of = as_of or local_today(period.tz, now)
        run_id = conn.execute(insert(RUN).values(
            measure_id=measure.id, measure_version=measure.version, practice_id=practice_id,
            period_start=start, period_end=end, as_of=as_of, started_at=utcnow(), counts={})
            .returning(RUN.c.id)).scalar_one()
        results = evaluate(conn, measure, period, practice_id, as_of)
        insert_rows(conn, RESULT, RESULT_COLUMNS, [_result_row(run_id, r) for r in results])
        _carry_gaps(conn, measure, practice_id, start, end, run_id, results)
        counts = count_results(results)
        conn.execute(update(RUN).where(RUN.c.id == run_id).values(finished_at=utcnow(), counts=counts))
        return MeasureRun(id=run_id, measure_id=measure.id, measure_version=measure.version,
                          practice_id=practice_id, period_start=start, period_end=end, as_of=as_of, counts=counts)


def count_results(results: list[PatientResult]) -> dict[str, int]:
    counts = {key: sum(r.populations[key] for r in results) for key in POPULATIONS}
    counts.update({status: 0 for status in GAP_STATUSES})
    for r in results:
        counts[r.gap] = counts.get(r.gap, 0) + 1
    counts["likely-data-gap"] = sum(r.likely_data_gap for r in results)
    counts["patients"] = len(results)
    return counts


def _result_row(run_id: int, r: PatientResult) -> tuple:
    evidence = _json([e.as_json() for e in r.evidence])
    return (run_id, r.patient_id, *(r.populations[code] for code in POPULATIONS), r.gap, r.likely_data_gap, evidence)


def _json(value):
    import orjson
    return orjson.dumps(value).decode()


def _carry_gaps(conn: Connection, measure: Measure, practice_id: str, start: date, end: date, run_id: int,
                results: list[PatientResult]) -> None:
    key = (GAP.c.practice_id == practice_id, GAP.c.measure_id == measure.id,
           GAP.c.period_start == start, GAP.c.period_end == end)
    known = {row.patient_id: row for row in conn.execute(
        select(GAP.c.id, GAP.c.patient_id, GAP.c.status, GAP.c.reopened_count).where(*key))}
    now = utcnow()
    new_rows, changed, events = [], [], []
    for r in results:
        previous = known.get(r.patient_id)
        before = previous.status if previous else None
        if before == r.gap or (previous is None and r.gap in (GapStatus.CLOSED, GapStatus.NOT_APPLICABLE)):
            continue
        event = gap_change(before, r.gap)
        evidence = [e.as_json() for e in r.evidence]
        if previous is None:
            new_rows.append({"practice_id": practice_id, "measure_id": measure.id, "period_start": start,
                             "period_end": end, "patient_id": r.patient_id, "status": r.gap,
                             "first_detected_at": now, "closed_at": None, "closed_evidence": [],
                             "reopened_count": 0, "last_run_id": run_id, "updated_at": now})
            continue
        changed.append({"gap_id": previous.id, "status": r.gap, "updated_at": now, "last_run_id": run_id,
                        "closed_at": now if r.gap == GapStatus.CLOSED else None,
                        "closed_evidence": evidence if r.gap == GapStatus.CLOSED else [],
                        "reopened_count": previous.reopened_count + (event == GapChange.REOPENED)})
        if event:
            events.append({"gap_id": previous.id, "run_id": run_id, "at": now, "event": event,
                           "status": r.gap, "evidence": evidence})
    if new_rows:
        conn.execute(insert(GAP), new_rows)
        patients = [row["patient_id"] for row in new_rows]
        ids = {}
        for i in range(0, len(patients), 500):
            ids.update(conn.execute(select(GAP.c.patient_id, GAP.c.id).where(
                *key, GAP.c.patient_id.in_(patients[i:i + 500]))).all())
        by_patient = {r.patient_id: r for r in results}
        events += [{"gap_id": ids[row["patient_id"]], "run_id": run_id, "at": now, "event": GapChange.DETECTED,
                    "status": row["status"], "evidence": [e.as_json() for e in by_patient[row["patient_id"]].evidence]}
                   for row in new_rows]
    if changed:
        conn.execute(update(GAP).where(GAP.c.id == bindparam("gap_id")).values(
            status=bindparam("status"), updated_at=bindparam("updated_at"), last_run_id=bindparam("last_run_id"),
            closed_at=bindparam("closed_at"), closed_evidence=bindparam("closed_evidence"),
            reopened_count=bindparam("reopened_count")), changed)
    if events:
        conn.execute(insert(EVENT), events)
