"""Time semantics on purpose: date against dateTime, the last day and 23:59:59 of the period,
timezone offsets against the practice's timezone, birthdays on the period's boundaries."""

from __future__ import annotations

import json
import shutil
from datetime import date

import pytest

from caregaps.engine.catalog import default_root, load_catalog
from caregaps.engine.evaluate import evaluate
from caregaps.engine.runs import practice_period
from caregaps.ingest.jobs import create_job, run_job
from caregaps.practices import add_practice
from caregaps.terminology import load_valuesets

MEASURE = """
id: TIME1
title: Time test
url: https://example.org/Measure/TIME1
version: "1"
define:
  Reading:
    from: observation
    code: LOINC 4548-4
    status: final
    time: ends during measurement period
populations:
  initial-population: {age: 18 or older}
  denominator: initial-population
  numerator: {exists: Reading}
"""


@pytest.fixture
def catalog(tmp_path):
    root = tmp_path / "measures"
    (root / "library").mkdir(parents=True)
    (root / "valuesets").mkdir()
    shutil.copy(next((default_root() / "valuesets").glob("*.json")), root / "valuesets")
    (root / "TIME1.yaml").write_text(MEASURE)
    (root / "TIME2.yaml").write_text(MEASURE.replace("TIME1", "TIME2").replace(
        "ends during measurement period", "ends during day of measurement period"))
    return load_catalog(root)


def _load(engine, tmp_path, practice: str, tz: str, patients: list[tuple[str, str, str | None]]) -> None:
    """patients: (id, birthDate, effective of one reading or None)."""
    add_practice(engine, practice, practice, tz)
    lines = []
    for pid, birth, effective in patients:
        lines.append({"resourceType": "Patient", "id": pid, "birthDate": birth})
        if effective:
            lines.append({"resourceType": "Observation", "id": f"{pid}-obs", "status": "final",
                          "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]},
                          "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": effective,
                          "valueQuantity": {"value": 7.0, "unit": "%"}})
    path = tmp_path / f"{practice}.ndjson"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    run_job(engine, create_job(engine, practice, "cli", [(path, path.name)], False).id, workers=0)


def _numerators(engine, catalog, practice: str, measure: str = "TIME1") -> dict[str, dict]:
    load_valuesets(engine, default_root() / "valuesets")
    with engine.begin() as conn:
        period = practice_period(conn, practice, date(2026, 1, 1), date(2026, 12, 31))
        return {r.patient_id: r.populations for r in evaluate(conn, catalog.get(measure), period, practice)}


def test_dates_and_date_times_at_the_ends_of_the_period(engine, catalog, tmp_path):
    _load(engine, tmp_path, "utc", "UTC", [
        ("date-last-day", "1950-01-01", "2026-12-31"),
        ("at-23-59-59", "1950-01-01", "2026-12-31T23:59:59Z"),
        ("last-ms", "1950-01-01", "2026-12-31T23:59:59.999Z"),
        ("next-midnight", "1950-01-01", "2027-01-01T00:00:00Z"),
        ("first-second", "1950-01-01", "2026-01-01T00:00:00Z"),
        ("first-ms", "1950-01-01", "2026-01-01T00:00:00.000Z"),
        ("day-before", "1950-01-01", "2025-12-31"),
        ("month-only", "1950-01-01", "2026-12"),
        ("mid-month", "1950-01-01", "2026-06"),
        ("year-only", "1950-01-01", "2027"),
    ])
    by_day = {pid: p["numerator"] for pid, p in _numerators(engine, catalog, "utc", "TIME2").items()}
    assert by_day == {  # `ends during day of measurement period`: days as written
        "date-last-day": True, "at-23-59-59": True, "last-ms": True, "next-midnight": False, "first-second": True,
        "first-ms": True, "day-before": False,
        "month-only": False,  # December: its last day may be after the period, for all that is known
        "mid-month": True, "year-only": False}
    instant = {pid: p["numerator"] for pid, p in _numerators(engine, catalog, "utc", "TIME1").items()}
    assert instant == {  # `ends during measurement period`: milliseconds; a coarser time that agrees
        # with a boundary as far as it goes is not known to be inside (CQL: null)
        "date-last-day": False, "at-23-59-59": False, "last-ms": True, "next-midnight": False,
        "first-second": False, "first-ms": True, "day-before": False, "month-only": False, "mid-month": True,
        "year-only": False}


def test_offsets_are_read_against_the_practices_timezone(engine, catalog, tmp_path):
    reading = "2027-01-01T03:00:00+00:00"  # still Dec 31 in Chicago, already 2027 in UTC
    _load(engine, tmp_path, "chicago", "America/Chicago", [("late", "1950-01-01", reading),
                                                            ("local-midnight", "1950-01-01", "2026-01-01T00:30:00-06:00"),
                                                            ("utc-new-year", "1950-01-01", "2026-01-01T03:00:00Z")])
    _load(engine, tmp_path, "utc", "UTC", [("late-utc", "1950-01-01", reading)])
    chicago = _numerators(engine, catalog, "chicago")
    assert chicago["late"]["numerator"] and chicago["local-midnight"]["numerator"]
    assert not chicago["utc-new-year"]["numerator"]  # 2025-12-31 21:00 in Chicago
    assert not _numerators(engine, catalog, "utc")["late-utc"]["numerator"]


def test_birthdays_on_the_boundaries_of_the_period(engine, catalog, tmp_path):
    _load(engine, tmp_path, "ages", "UTC", [
        ("18-on-last-day", "2008-12-31", None),   # turns 18 on the period's last day: 18 at its end
        ("18-day-after", "2009-01-01", None),     # turns 18 the day after: 17
        ("leap-born", "2008-02-29", None),        # 18 at the end of 2026
    ])
    got = {pid: p["initial-population"] for pid, p in _numerators(engine, catalog, "ages").items()}
    assert got == {"18-on-last-day": True, "18-day-after": False, "leap-born": True}
