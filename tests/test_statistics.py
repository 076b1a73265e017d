"""Planner statistics on a real store: refreshed by every import and ACO rebuild, and the plans
they give the heaviest statement of CMS165 on a store as imported."""

from __future__ import annotations

from datetime import date

from sqlalchemy import event, func, select, text

from caregaps.aco import ACO_ID
from caregaps.aco.rollup import rebuild_aco
from caregaps.engine.catalog import load_catalog
from caregaps.engine.compiler import Compiler
from caregaps.engine.evaluate import _main_roots, _needed, fill_queries, prepare
from caregaps.engine.runs import practice_period
from caregaps.models import Fact
from caregaps.practices import add_practice
from caregaps.statistics import TABLES, refresh_statistics
from tests.measure_data import load, office_visit, patient

# CMS165's heaviest statement by far (timed once on a 2,500-patient synthetic store without
# statistics: 400-510 s of the measure's 404-514 s, ~0.3 s with them); it reads each blood
# pressure reading's `encounter` reference (the "Reading at a Non-Acute Encounter" branch)
HEAVIEST = "Readings on Most Recent Blood Pressure Day"
HYPERTENSION = {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I10"}
LOINC = "http://loinc.org"
IMPORTED = ("patient", "fact", "fact_code", "resource_reference")  # the tables an import (and the ACO) writes


def analyzed_rows(conn, table: str) -> int | None:
    """The row count the planner's statistics hold for `table` (None: never analyzed)."""
    if conn.dialect.name == "sqlite":
        has_stats = conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first()
        stat = has_stats and conn.execute(text("SELECT stat FROM sqlite_stat1 WHERE tbl = :t"), {"t": table}).scalar()
        return int(stat.split()[0]) if stat else None
    # the table the connection's search_path finds (the official cases keep their own schema)
    rows = conn.execute(text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:t)"), {"t": f'"{table}"'}).scalar()
    return None if rows is None or rows < 0 else int(rows)  # -1: never analyzed (TRUNCATE resets it)


def row_count(conn, table: str) -> int:
    return conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()


def reading(oid: str, pid: str, encounter: str, day: str, systolic: float, diastolic: float) -> dict:
    component = [{"code": {"coding": [{"system": LOINC, "code": code}]},
                  "valueQuantity": {"value": value, "unit": "mm[Hg]", "system": "http://unitsofmeasure.org",
                                    "code": "mm[Hg]"}} for code, value in (("8480-6", systolic), ("8462-4", diastolic))]
    return {"resourceType": "Observation", "id": oid, "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "85354-9"}]}, "subject": {"reference": f"Patient/{pid}"},
            "encounter": {"reference": f"Encounter/{encounter}"}, "effectiveDateTime": f"{day}T09:10:00Z",
            "component": component}


def hypertensive(pid: str) -> list[dict]:
    """A CMS165 patient: hypertension, two office visits with a blood pressure reading at each."""
    resources = [patient(pid), {"resourceType": "Condition", "id": f"{pid}-htn", "subject": {"reference": f"Patient/{pid}"},
                                "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                                               "code": "active"}]},
                                "code": {"coding": [HYPERTENSION]}, "onsetDateTime": "2015-01-01"}]
    for n, day in enumerate(("2026-03-02", "2026-09-14")):
        resources += [office_visit(f"{pid}-v{n}", pid, day),
                      reading(f"{pid}-bp{n}", pid, f"{pid}-v{n}", day, 128 + n * 10, 84 + n * 4)]
    return resources


def test_given_an_import_when_it_completes_then_the_planner_has_statistics_of_every_table_measures_read(
        engine, tmp_path):
    add_practice(engine, "p1", "Riverside", "America/Chicago")
    load(engine, "p1", [r for i in range(12) for r in hypertensive(f"pt{i}")], tmp_path)  # the import path
    with engine.connect() as conn:
        assert all(analyzed_rows(conn, t) for t in TABLES)
        # counted exactly: smaller than the sample (value_set_code is estimated from its sample)
        assert {t: analyzed_rows(conn, t) for t in IMPORTED} == {t: row_count(conn, t) for t in IMPORTED}


def test_given_an_aco_rebuild_when_it_commits_then_the_statistics_count_the_aco_rows_too(engine, tmp_path):
    add_practice(engine, "p1", "Riverside", "America/Chicago")
    add_practice(engine, "p2", "Lakeside", "America/Chicago")
    load(engine, "p1", hypertensive("a") + hypertensive("b"), tmp_path)
    load(engine, "p2", hypertensive("c"), tmp_path)
    with engine.connect() as conn:
        members = row_count(conn, "fact")
    rebuild_aco(engine)
    with engine.connect() as conn:
        aco = conn.execute(select(func.count()).where(Fact.__table__.c.practice_id == ACO_ID)).scalar_one()
        assert aco > 0 and analyzed_rows(conn, "fact") == members + aco
        assert {t: analyzed_rows(conn, t) for t in IMPORTED} == {t: row_count(conn, t) for t in IMPORTED}


def heaviest_statement_plan(conn) -> str:
    """EXPLAIN of the SQL, with its parameters, that evaluating CMS165 runs for HEAVIEST."""
    measure = load_catalog().get("CMS165")
    period = practice_period(conn, "p1", date(2026, 1, 1), date(2026, 12, 31))
    prepare(conn)
    compiler = Compiler(measure.definitions, measure.populations, period, "p1")
    names = _needed(measure, _main_roots(measure), compiler)
    fill_queries(conn, compiler, names[:names.index(HEAVIEST)])
    seen: list[tuple[str, object]] = []

    def capture(_conn, _cursor, sql, params, _context, _many):
        seen.append((sql, params))

    event.listen(conn, "before_cursor_execute", capture)
    fill_queries(conn, compiler, [HEAVIEST])
    event.remove(conn, "before_cursor_execute", capture)
    (sql, params), = seen
    explain = "EXPLAIN QUERY PLAN " if conn.dialect.name == "sqlite" else "EXPLAIN "
    return "\n".join(" ".join(map(str, row)) for row in conn.exec_driver_sql(explain + sql, params))


def test_given_a_store_as_imported_then_the_heaviest_statement_of_cms165_finds_each_reading_encounter_by_its_source(
        engine, tmp_path):
    add_practice(engine, "p1", "Riverside", "America/Chicago")
    charts = [hypertensive(f"pt{i}") for i in range(300)]
    load(engine, "p1", [chart[0] for chart in charts], tmp_path)  # the patients first: no references yet
    with engine.connect() as conn:  # open across the next import, as a server's pooled connections are
        row_count(conn, "patient")
        conn.rollback()
        load(engine, "p1", [r for chart in charts for r in chart[1:]], tmp_path)
        plan = heaviest_statement_plan(conn)
    # The reading's encounter is the one reference whose source is that reading: ix_ref_source
    # (practice_id, source_type, source_id) finds it in one row. ix_ref_path (practice_id, path,
    # source_type) also matches three of the lookup's columns, and a planner without statistics
    # takes it, reading every Observation's encounter reference of the practice once per
    # reading: quadratic in the practice's readings (CMS165 > 400 s at 2,500 patients).
    assert "ix_ref_source" in plan, plan
    assert "ix_ref_path" not in plan, plan


def test_given_statistics_refreshed_twice_then_both_succeed_and_leave_no_table_behind(engine, practice):
    assert refresh_statistics(engine) and refresh_statistics(engine)
    with engine.connect() as conn:
        names = set(conn.execute(text("SELECT name FROM sqlite_master" if conn.dialect.name == "sqlite" else
                                      "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())
    assert "caregaps_statistics_reload" not in names
