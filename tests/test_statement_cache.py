"""One process evaluates many practices, timezones and measures: no result may depend on what the
process compiled or evaluated before it.

Given the same patients in practices in three timezones, when every shipped measure is evaluated
for all of them in one process, in two different orders, then each practice's results equal the
results of that practice evaluated alone in a fresh process. And the custom SQL constructs keep
every amount out of the compiled SQL, so SQLAlchemy's statement cache cannot hand one practice's
statement to another.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Column, DateTime, MetaData, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite

from caregaps.engine.catalog import default_root, load_catalog
from caregaps.engine.evaluate import evaluate
from caregaps.engine.runs import practice_period
from caregaps.engine.sqlfuncs import shifted, shifted_day
from caregaps.ingest.jobs import create_job, run_job
from caregaps.practices import add_practice
from caregaps.terminology import load_valuesets
from tests.builders import ndjson

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "fhir_samples" / "bundles" / "p1").glob("*.json.gz"))[:15]
ZONES = {"utc": "UTC", "chicago": "America/Chicago", "auckland": "Pacific/Auckland"}
START, END = date(2026, 1, 1), date(2026, 12, 31)

# Run in a fresh interpreter: evaluate one practice alone and print its results as JSON.
ALONE = """
import json, sys
from datetime import date
from caregaps.db import make_engine
from caregaps.engine.catalog import load_catalog
from caregaps.engine.evaluate import evaluate
from caregaps.engine.runs import practice_period
engine = make_engine(sys.argv[1])
out = {}
with engine.begin() as conn:
    for measure in load_catalog().measures.values():
        period = practice_period(conn, sys.argv[2], date(2026, 1, 1), date(2026, 12, 31))
        for r in evaluate(conn, measure, period, sys.argv[2]):
            out[f"{measure.id}|{r.patient_id}"] = [r.populations, r.gap]
print(json.dumps(out, sort_keys=True))
"""


def _boundary_resources() -> list[dict]:
    """Times whose meaning depends on the practice's timezone at instant precision."""
    pid = "tz-edge"
    subject = {"reference": f"Patient/{pid}"}
    encounter = {"resourceType": "Encounter", "id": "tz-visit", "status": "finished", "subject": subject,
                 "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                 "type": [{"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "99213"}]}],
                 "period": {"start": "2026-06-10T15:00:00Z", "end": "2026-06-10T15:30:00Z"}}
    hypertension = {"resourceType": "Condition", "id": "tz-htn", "subject": subject,
                    "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                                   "code": "active"}]},
                    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "59621000"}]},
                    # CMS165: overlaps [start of MP, start of MP + 6 months) at instant precision
                    "onsetDateTime": "2026-07-01T03:00:00Z"}
    hiv_test = {"resourceType": "Observation", "id": "tz-hiv", "status": "final", "subject": subject,
                "code": {"coding": [{"system": "http://loinc.org", "code": "75622-1"}]},
                "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": "260385009"}]},
                # CMS349: starts before end of MP at instant precision: Dec 31 in Chicago only
                "effectiveDateTime": "2027-01-01T03:00:00Z"}
    readings = [{"resourceType": "Observation", "id": f"tz-bp-{i}", "status": "final", "subject": subject,
                 "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                           "code": "vital-signs"}]}],
                 "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
                 "effectiveDateTime": when,
                 "component": [
                     {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
                      "valueQuantity": {"value": sys_, "unit": "mm[Hg]", "code": "mm[Hg]"}},
                     {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]},
                      "valueQuantity": {"value": 80, "unit": "mm[Hg]", "code": "mm[Hg]"}}]}
                for i, (when, sys_) in enumerate([("2026-11-30T22:00:00Z", 150), ("2026-12-01T02:00:00Z", 120)])]
    return [{"resourceType": "Patient", "id": pid, "birthDate": "1970-05-01", "gender": "female"},
            encounter, hypertension, hiv_test, *readings]


def _load(engine, tmp_path) -> None:
    extra = tmp_path / "edge.ndjson"
    extra.write_bytes(ndjson(*_boundary_resources()))
    files = [(p, p.name) for p in SAMPLES] + [(extra, extra.name)]
    for practice, zone in ZONES.items():
        add_practice(engine, practice, practice, zone)
        run_job(engine, create_job(engine, practice, "cli", files, False).id, workers=0)
    load_valuesets(engine, default_root() / "valuesets")


def _evaluate_in_order(engine, order: list[str]) -> dict[str, dict]:
    catalog = load_catalog()
    out: dict[str, dict] = {p: {} for p in order}
    with engine.begin() as conn:
        for measure in catalog.measures.values():
            for practice in order:
                period = practice_period(conn, practice, START, END)
                for r in evaluate(conn, measure, period, practice):
                    out[practice][f"{measure.id}|{r.patient_id}"] = [r.populations, r.gap]
    return out


def _alone(url: str, practice: str) -> dict:
    done = subprocess.run([sys.executable, "-c", ALONE, url, practice], cwd=ROOT, capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout)


def test_results_never_depend_on_what_the_process_evaluated_before(engine, database_url, tmp_path):
    _load(engine, tmp_path)
    forward = _evaluate_in_order(engine, ["utc", "chicago", "auckland"])
    backward = _evaluate_in_order(engine, ["auckland", "chicago", "utc"])
    for practice in ZONES:
        alone = _alone(database_url, practice)
        assert forward[practice] == alone, practice
        assert backward[practice] == alone, practice
    # the data does tell the timezones apart, so the comparison above can fail
    cms165 = {p: forward[p]["CMS165|tz-edge"][0]["initial-population"] for p in ZONES}
    assert cms165 == {"utc": False, "chicago": True, "auckland": False}
    cms349 = {p: forward[p]["CMS349|tz-edge"][0]["numerator"] for p in ZONES}
    assert cms349 == {"utc": False, "chicago": True, "auckland": False}


COLUMN = Table("t", MetaData(), Column("at", DateTime)).c.at


def test_two_shifts_that_differ_only_in_their_amounts_compile_to_one_sql_with_their_own_parameters():
    for construct in (shifted, shifted_day):
        two_weeks, two_days = select(construct(COLUMN, days=14)), select(construct(COLUMN, days=2))
        key_a, key_b = two_weeks._generate_cache_key(), two_days._generate_cache_key()
        # one cache entry may serve both only because the amounts are parameters, not SQL text
        for dialect in (sqlite.dialect(), postgresql.dialect()):
            sql_a, sql_b = two_weeks.compile(dialect=dialect), two_days.compile(dialect=dialect)
            assert str(sql_a) == str(sql_b)
            assert "14" not in str(sql_a)
            assert 14 in sql_a.params.values() and 2 in sql_b.params.values()
        assert key_a == key_b
        assert [p.value for p in key_a.bindparams] != [p.value for p in key_b.bindparams]


def test_a_shift_gives_each_execution_its_own_amount(engine):
    with engine.connect() as conn:
        moment = datetime(2026, 1, 31, 10, 0)
        table = Table("shift_probe", MetaData(), Column("at", DateTime), prefixes=["TEMPORARY"])
        table.create(conn)
        conn.execute(table.insert().values(at=moment))
        got = [conn.execute(select(shifted(table.c.at, days=d))).scalar_one() for d in (14, 2, -1)]
        days = [conn.execute(select(shifted_day(table.c.at, years=-y))).scalar_one() for y in (18, 65)]
    as_datetimes = [g if isinstance(g, datetime) else datetime.fromisoformat(str(g)) for g in got]
    assert as_datetimes == [datetime(2026, 2, 14, 10), datetime(2026, 2, 2, 10), datetime(2026, 1, 30, 10)]
    assert [str(d)[:10] for d in days] == ["2008-01-31", "1961-01-31"]


CALENDAR = [  # (moment, years, months, days) -> moved, as CQL adds a quantity: months, then days,
    # the day clamped to the end of a shorter month (CQL Author's Guide, Date/Time arithmetic)
    ((datetime(2026, 3, 31, 10, 0, 0, 500000), 0, 6, 0), datetime(2026, 9, 30, 10, 0, 0, 500000)),
    ((datetime(2026, 12, 31, 23, 59, 59), 0, -15, 0), datetime(2025, 9, 30, 23, 59, 59)),
    ((datetime(2028, 2, 29, 8, 0), -18, 0, 0), datetime(2010, 2, 28, 8, 0)),
    ((datetime(2028, 2, 29, 8, 0), 1, 0, 0), datetime(2029, 2, 28, 8, 0)),
    ((datetime(2026, 1, 31, 8, 0), 0, 1, 1), datetime(2026, 3, 1, 8, 0)),  # February 28, then a day
    ((datetime(2026, 1, 30, 8, 0), 0, 1, 0), datetime(2026, 2, 28, 8, 0)),
    ((datetime(2026, 5, 15, 8, 0), 2, -3, -14), datetime(2028, 2, 1, 8, 0)),
    ((datetime(2026, 1, 1, 0, 0), 0, 6, 0), datetime(2026, 7, 1, 0, 0)),
]


def test_a_shift_clamps_the_day_to_a_shorter_month_on_both_databases(engine):
    with engine.connect() as conn:
        table = Table("calendar_probe", MetaData(), Column("at", DateTime), prefixes=["TEMPORARY"])
        table.create(conn)
        got, want = [], []
        for (moment, years, months, days), moved in CALENDAR:
            conn.execute(table.delete())
            conn.execute(table.insert().values(at=moment))
            instant = conn.execute(select(shifted(table.c.at, years, months, days))).scalar_one()
            day = conn.execute(select(shifted_day(func.date(table.c.at), years, months, days))).scalar_one()
            instant = instant if isinstance(instant, datetime) else datetime.fromisoformat(str(instant))
            got.append((moment, instant, str(day)[:10]))
            want.append((moment, moved, moved.date().isoformat()))
    assert got == want
