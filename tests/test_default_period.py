"""The default measurement period: the calendar year of today at the practice, in its timezone,
read by one function (`caregaps.engine.runs.default_period`) everywhere a period may be left out.

The clock stands at 23:30 on Dec 31, 2026 in Chicago, which is already 05:30 on Jan 1, 2027 in
UTC: a Chicago practice is still in 2026, a UTC practice already in 2027. The clock is given to
the function (`now=`), to the command line (`main(obj=clock)`) and to the app
(`create_app(clock=...)`); nothing reads the server's own date.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select

from caregaps.aco.evaluate import rebuild_and_evaluate
from caregaps.cli import main
from caregaps.config import get_settings
from caregaps.engine.catalog import load_catalog
from caregaps.engine.runs import default_period, local_today, practice_today
from caregaps.models import MeasureRun
from caregaps.pipeline import refresh_practice
from caregaps.practices import add_practice, create_token
from caregaps.web.app import create_app

NOW = datetime(2027, 1, 1, 5, 30, tzinfo=timezone.utc)
YEAR_2026, YEAR_2027 = (date(2026, 1, 1), date(2026, 12, 31)), (date(2027, 1, 1), date(2027, 12, 31))
CATALOG = load_catalog()


@pytest.fixture
def two_clocks(engine):
    """A practice in Chicago (still Dec 31) and one in UTC (already Jan 1)."""
    add_practice(engine, "chicago", "Lakeshore Clinic", "America/Chicago")
    add_practice(engine, "greenwich", "Meridian Clinic", "UTC")
    return engine


def _runs(engine) -> dict[str, tuple[date, date, date]]:
    """practice -> (period start, period end, as of) of its stored runs (each must agree)."""
    table = MeasureRun.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(table.c.practice_id, table.c.period_start, table.c.period_end, table.c.as_of)).all()
    found = {}
    for practice_id, *period in rows:
        assert found.setdefault(practice_id, tuple(period)) == tuple(period)
    return found


def test_the_clock_is_late_on_new_years_eve_in_chicago_and_past_midnight_in_utc():
    assert NOW.astimezone(ZoneInfo("America/Chicago")).replace(tzinfo=None) == datetime(2026, 12, 31, 23, 30)
    assert local_today(ZoneInfo("America/Chicago"), NOW) == date(2026, 12, 31)
    assert local_today(timezone.utc, NOW.replace(tzinfo=None)) == date(2027, 1, 1)  # naive means UTC


def test_given_two_timezones_when_the_period_is_left_out_then_each_practice_gets_the_year_of_its_own_today(two_clocks):
    assert practice_today(two_clocks, "chicago", NOW) == date(2026, 12, 31)
    assert practice_today(two_clocks, "greenwich", NOW) == date(2027, 1, 1)
    assert default_period(two_clocks, "chicago", now=NOW) == YEAR_2026
    assert default_period(two_clocks, "greenwich", now=NOW) == YEAR_2027


def test_given_several_practices_then_the_period_is_the_year_not_yet_over_for_one_of_them(two_clocks):
    assert default_period(two_clocks, "greenwich", "chicago", now=NOW) == YEAR_2026
    assert default_period(two_clocks, now=NOW) == YEAR_2027  # no practice: UTC
    with pytest.raises(LookupError, match="'nowhere'"):
        default_period(two_clocks, "chicago", "nowhere", now=NOW)


def test_given_the_cli_clock_when_evaluating_without_a_period_then_each_practice_runs_its_own_year(
        two_clocks, database_url, monkeypatch):
    monkeypatch.setenv("CAREGAPS_DATABASE_URL", database_url)
    evaluated = CliRunner().invoke(main, ["evaluate", "--measure", "CMS122"], obj=lambda: NOW)
    assert evaluated.exit_code == 0, evaluated.output
    assert "period 2026-01-01 to 2026-12-31" in evaluated.output
    assert "period 2027-01-01 to 2027-12-31" in evaluated.output
    assert _runs(two_clocks) == {"chicago": (*YEAR_2026, date(2026, 12, 31)),
                                 "greenwich": (*YEAR_2027, date(2027, 1, 1))}


def test_given_the_pipeline_and_the_aco_at_the_same_instant_then_they_read_the_practice_today(two_clocks):
    assert refresh_practice(two_clocks, CATALOG, "chicago", now=NOW).period == YEAR_2026
    assert refresh_practice(two_clocks, CATALOG, "greenwich", now=NOW).period == YEAR_2027
    aco = rebuild_and_evaluate(two_clocks, catalog=CATALOG, measure_ids=["CMS122"], now=NOW)
    assert (aco.period, aco.as_of) == (YEAR_2026, date(2026, 12, 31))  # tie of zones: the first by name, Chicago


@pytest.fixture
def app_at_new_year(two_clocks, database_url, tmp_path):
    settings = get_settings(database_url=database_url, data_dir=tmp_path / "var")
    with TestClient(create_app(settings, clock=lambda: NOW)) as client:
        yield client


@pytest.mark.parametrize("practice, year, today", [("chicago", YEAR_2026, date(2026, 12, 31)),
                                                   ("greenwich", YEAR_2027, date(2027, 1, 1))])
def test_given_the_app_clock_when_a_route_leaves_the_period_out_then_it_is_the_practice_year(
        app_at_new_year, two_clocks, practice, year, today):
    auth = {"Authorization": f"Bearer {create_token(two_clocks, practice)}"}
    report = app_at_new_year.get("/fhir/Measure/CMS122/$evaluate-measure", params={"reportType": "population"},
                                 headers=auth)
    assert report.status_code == 200, report.text
    assert (report.json()["period"]["start"], report.json()["period"]["end"]) == tuple(d.isoformat() for d in year)
    assert _runs(two_clocks)[practice] == (*year, today)  # evaluated as of the practice's today

    dashboard = app_at_new_year.get("/api/dashboard", headers=auth).json()
    assert dashboard["period"] == {"start": year[0].isoformat(), "end": year[1].isoformat()}


def test_given_the_nightly_reevaluation_at_new_year_then_each_practice_and_the_aco_run_their_own_year(two_clocks):
    from caregaps.aco import ACO_ID
    from caregaps.scheduler import reevaluate_due

    assert reevaluate_due(two_clocks, get_settings(reevaluate_at="00:00"), now=NOW.replace(tzinfo=None)) == [
        "chicago", "greenwich"]
    runs = _runs(two_clocks)
    assert runs["chicago"] == (*YEAR_2026, date(2026, 12, 31))
    assert runs["greenwich"] == (*YEAR_2027, date(2027, 1, 1))
    assert runs[ACO_ID] == (*YEAR_2026, date(2026, 12, 31))


def test_given_the_app_clock_then_the_patient_page_gives_the_age_on_the_practice_today(
        app_at_new_year, two_clocks, tmp_path):
    from caregaps.worklist.patient_view import patient_view
    from tests.measure_data import load, patient

    for practice in ("chicago", "greenwich"):
        load(two_clocks, practice, [patient("pat", birth="1960-01-01")], tmp_path / practice)
    ages = {p: patient_view(two_clocks, CATALOG, p, "pat", NOW)["age"] for p in ("chicago", "greenwich")}
    assert ages == {"chicago": 66, "greenwich": 67}  # the 67th birthday is Jan 1, already come in UTC
    auth = {"Authorization": f"Bearer {create_token(two_clocks, 'chicago')}"}
    page = app_at_new_year.get("/api/worklist/patients/chicago/pat", headers=auth)
    assert page.status_code == 200, page.text
    assert page.json()["age"] == 66
