"""Runs are stored, gaps have a history across runs, and the measure CLI works end to end."""

from __future__ import annotations

from datetime import date

import orjson
from click.testing import CliRunner
from sqlmodel import select

from caregaps.cli import main
from caregaps.db import session
from caregaps.engine.catalog import load_catalog
from caregaps.engine.results import latest_result
from caregaps.engine.runs import run_measure
from caregaps.models import CareGap, GapEvent, MeasureResult
from caregaps.practices import add_practice
from tests.measure_data import colonoscopy, diabetic, load, office_visit, patient

CATALOG = load_catalog()
START, END = date(2026, 1, 1), date(2026, 12, 31)


def _gap(engine, patient_id: str, measure: str = "CMS122") -> CareGap:
    with session(engine) as s:
        return s.exec(select(CareGap).where(CareGap.patient_id == patient_id, CareGap.measure_id == measure)).one()


def _events(engine, gap_id: int) -> list[str]:
    with session(engine) as s:
        return [e.event for e in s.exec(select(GapEvent).where(GapEvent.gap_id == gap_id).order_by(GapEvent.id))]


def test_given_a_run_when_stored_then_every_patient_has_populations_gap_and_evidence(engine, tmp_path):
    add_practice(engine, "p1", "Riverside", "UTC")
    load(engine, "p1", diabetic("high", 9.4) + diabetic("ok", 7.1) + diabetic("none", None), tmp_path)
    run = run_measure(engine, CATALOG.get("CMS122"), "p1", START, END, as_of=date(2026, 11, 22))
    assert run.counts["denominator"] == 3 and run.counts["numerator"] == 2
    with session(engine) as s:
        rows = {r.patient_id: r for r in s.exec(select(MeasureResult).where(MeasureResult.run_id == run.id))}
    assert rows["high"].gap_status == "open-gap"  # inverse measure: in the numerator is the gap
    assert rows["ok"].gap_status == "closed-gap"
    assert rows["none"].gap_status == "open-gap"  # no HbA1c at all counts as poor control
    lowest = rows["high"].evidence[0]
    assert lowest["query"] == "Lowest Glycemic Status Reading on Most Recent Day"
    assert (lowest["resource"], lowest["value"], lowest["unit"]) == ("Observation/high-a1c", 9.4, "%")


def test_given_new_data_between_runs_when_reevaluated_then_the_gap_closes_and_reopens_with_history(engine, tmp_path):
    add_practice(engine, "p1", "Riverside", "UTC")
    measure = CATALOG.get("CMS122")
    load(engine, "p1", diabetic("pat", 9.4), tmp_path)
    run_measure(engine, measure, "p1", START, END)
    first = _gap(engine, "pat")
    assert first.status == "open-gap" and first.first_detected_at is not None

    load(engine, "p1", [{**diabetic("pat", 6.8)[-1], "id": "pat-a1c-2", "effectiveDateTime": "2026-06-01T10:00:00Z"}],
         tmp_path)
    second_run = run_measure(engine, measure, "p1", START, END)
    closed = _gap(engine, "pat")
    assert closed.status == "closed-gap" and closed.closed_at is not None
    assert closed.closed_evidence[0]["resource"] == "Observation/pat-a1c-2"
    assert closed.first_detected_at == first.first_detected_at and closed.last_run_id == second_run.id

    load(engine, "p1", [{**diabetic("pat", 10.2)[-1], "id": "pat-a1c-3", "effectiveDateTime": "2026-09-01T10:00:00Z"}],
         tmp_path)
    run_measure(engine, measure, "p1", START, END)
    reopened = _gap(engine, "pat")
    assert reopened.status == "open-gap" and reopened.reopened_count == 1
    assert _events(engine, reopened.id) == ["detected", "closed", "reopened"]


def test_given_a_colonoscopy_that_counts_today_but_not_for_the_period_then_the_gap_is_prospective(engine, tmp_path):
    add_practice(engine, "p1", "Riverside", "UTC")
    # For 2026 a colonoscopy counts from 2017-01-01 on. On 2026-03-01 a 2016-12-15 colonoscopy still
    # covers the patient on the rolling year ending that day (window from 2016-03-02), not for 2026.
    lapsing = [patient("lapsing"), office_visit("v1", "lapsing"), colonoscopy("c1", "lapsing", "2016-12-15")]
    never = [patient("never"), office_visit("v2", "never")]
    covered = [patient("covered"), office_visit("v3", "covered"), colonoscopy("c3", "covered", "2019-05-10")]
    load(engine, "p1", lapsing + never + covered, tmp_path)
    measure = CATALOG.get("CMS130")
    run = run_measure(engine, measure, "p1", START, END, as_of=date(2026, 3, 1))
    status = {pid: latest_result(engine, measure, "p1", pid, START, END).gap for pid in ("lapsing", "never", "covered")}
    assert status == {"lapsing": "prospective-gap", "never": "open-gap", "covered": "closed-gap"}
    assert run.counts["prospective-gap"] == 1
    after_the_period = run_measure(engine, measure, "p1", START, END, as_of=date(2027, 1, 15))
    assert after_the_period.counts["prospective-gap"] == 0 and after_the_period.counts["open-gap"] == 2


def test_given_no_hba1c_anywhere_in_the_practice_then_open_gaps_are_flagged_as_likely_data_gaps(engine, tmp_path):
    add_practice(engine, "p1", "Riverside", "UTC")
    load(engine, "p1", diabetic("a", None) + diabetic("b", None), tmp_path)
    run = run_measure(engine, CATALOG.get("CMS122"), "p1", START, END)
    assert run.counts["likely-data-gap"] == 2
    add_practice(engine, "p2", "Lakeside", "UTC")
    load(engine, "p2", diabetic("c", None) + diabetic("d", 7.0), tmp_path)
    assert run_measure(engine, CATALOG.get("CMS122"), "p2", START, END).counts["likely-data-gap"] == 0


def test_cli_evaluate_explain_and_report(engine, tmp_path, monkeypatch, database_url):
    monkeypatch.setenv("CAREGAPS_DATABASE_URL", database_url)
    add_practice(engine, "p1", "Riverside", "UTC")
    load(engine, "p1", diabetic("high", 9.4) + diabetic("ok", 7.1), tmp_path)
    runner = CliRunner()
    evaluated = runner.invoke(main, ["evaluate", "--period-start", "2026-01-01", "--measure", "CMS122"])
    assert evaluated.exit_code == 0, evaluated.output
    line = next(x for x in evaluated.output.splitlines() if x.startswith("p1"))
    assert line.split()[1:6] == ["CMS122", "2", "2", "0", "1"]

    explained = runner.invoke(main, ["explain", "--practice", "p1", "--patient", "high", "--measure", "CMS122",
                                     "--period-start", "2026-01-01"])
    assert explained.exit_code == 0, explained.output
    assert "OPEN gap" in explained.output
    assert "9.4 % on 2026-03-02 (Observation/high-a1c)" in explained.output

    report = runner.invoke(main, ["report", "--measure", "CMS122", "--period-start", "2026-01-01"])
    assert report.exit_code == 0, report.output
    body = orjson.loads(report.output)
    counts = {p["code"]["coding"][0]["code"]: p["count"] for p in body["group"][0]["population"]}
    assert counts == {"initial-population": 2, "denominator": 2, "denominator-exclusion": 0, "numerator": 1}
    assert body["group"][0]["measureScore"]["value"] == 0.5

    as_csv = runner.invoke(main, ["report", "--measure", "CMS122", "--format", "csv", "--period-start", "2026-01-01"])
    assert as_csv.exit_code == 0 and "p1,high,1,1,0,0,1,open-gap" in as_csv.output

    unknown = runner.invoke(main, ["explain", "--practice", "p1", "--patient", "nobody", "--measure", "CMS122",
                                   "--period-start", "2026-01-01"])
    assert unknown.exit_code == 4 and "no patient 'nobody'" in unknown.output


def test_cli_measures_check_reports_file_line_and_key(tmp_path):
    (tmp_path / "valuesets").mkdir()
    (tmp_path / "library").mkdir()
    (tmp_path / "BAD.yaml").write_text("id: BAD\ntitle: t\nurl: u\nversion: '1'\nscoring: proportion\ncolour: red\n"
                                       "populations: {initial-population: {sex: female}, denominator: initial-population,"
                                       " numerator: {sex: female}}\n")
    result = CliRunner().invoke(main, ["measures", "check", "--root", str(tmp_path)])
    assert result.exit_code == 2
    assert f"{tmp_path / 'BAD.yaml'}:6: colour: unknown key" in result.output
