"""The quality dashboard: rates, gaps to target, breakdowns by practice, clinician and stratum,
drill-down to patients, trends from stored runs, exports (QPP, MeasureReport, CSV), and who sees
what — over real databases."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.measurereport import MeasureReport

from caregaps.config import get_settings
from caregaps.dashboard import queries
from caregaps.dashboard.charts import trend_svg
from caregaps.dashboard.exports import qpp_submission
from caregaps.dashboard.rates import age_band, gaps_to_target, tally
from caregaps.engine.catalog import load_catalog
from caregaps.engine.runs import run_measure
from caregaps.practices import add_practice
from caregaps.users import add_user
from caregaps.web.app import create_app
from tests.measure_data import diabetic, hba1c, load

START, END = date(2026, 1, 1), date(2026, 12, 31)
CATALOG = load_catalog()
CMS122 = CATALOG.get("CMS122")
PASSWORD = "correct horse battery"


def counts(den=0, excl=0, exc=0, num=0) -> dict:
    return {"initial-population": den, "denominator": den, "denominator-exclusion": excl,
            "denominator-exception": exc, "numerator": num, "numerator-exclusion": 0}


@pytest.mark.parametrize("c, target, inverse, expected", [
    (counts(100, 10, 0, 60), 0.8, False, 12),  # 72 of 90 needed
    (counts(100, 10, 0, 80), 0.8, False, 0),   # already there
    (counts(10, 0, 0, 7), 0.75, False, 1),     # 7.5 rounds up to 8
    (counts(100, 0, 0, 30), 0.2, True, 10),    # inverse: at most 20 may stay poorly controlled
    (counts(100, 0, 0, 15), 0.2, True, 0),
    (counts(0), 0.8, False, 0),
    (counts(100, 0, 0, 30), None, False, None),
])
def test_gaps_to_target_for_normal_and_inverse_measures(c, target, inverse, expected):
    assert gaps_to_target(c, target, inverse) == expected


@pytest.mark.parametrize("birth, band", [(date(1960, 12, 31), "65-74"), (date(1961, 1, 1), "65-74"),
                                         (date(1962, 1, 1), "64" and "45-64"), (date(1941, 12, 31), "85+"),
                                         (None, "unknown"), (date(2027, 5, 1), "unknown")])
def test_age_bands_are_read_on_the_last_day_of_the_period(birth, band):
    assert age_band(birth, END) == band


def test_tally_counts_each_population_per_group():
    rows = [{**{k: 0 for k in counts()}, "denominator": 1, "numerator": 1, "sex": "female"},
            {**{k: 0 for k in counts()}, "denominator": 1, "sex": "female"},
            {**{k: 0 for k in counts()}, "denominator": 1, "sex": None}]
    out = tally(rows, lambda r: r["sex"])
    assert out["female"]["denominator"] == 2 and out["female"]["numerator"] == 1
    assert out["unknown"]["denominator"] == 1


def test_trend_chart_draws_a_point_per_day_and_the_target():
    svg = trend_svg([(date(2026, 3, 1), 0.5), (date(2026, 6, 1), 0.625), (date(2026, 9, 1), None)], 0.8, False, "t")
    assert svg.startswith("<svg") and svg.count('class="point"') == 2 and 'data-rate="0.6250"' in svg
    assert 'class="target"' in svg and "target &#8805; 80%" in svg
    assert "no runs yet" in trend_svg([], None)


@pytest.fixture
def two_practices(engine, tmp_path):
    """p1: a poorly controlled, a controlled and an untested diabetic (two with Dr One as GP);
    p2: one poorly controlled diabetic. CMS122 evaluated twice for p1 (as of Jun 1 and Nov 22)."""
    add_practice(engine, "p1", "Riverside", "America/Chicago")
    add_practice(engine, "p2", "Lakeside", "America/Chicago")
    load(engine, "p1", diabetic("a", 9.5, gp="Practitioner/dr1") + diabetic("b", 7.0, gp="Practitioner/dr1")
         + diabetic("c", None, birth="1985-02-02") +
         [{"resourceType": "Practitioner", "id": "dr1", "name": [{"given": ["Olu"], "family": "One"}]}], tmp_path)
    load(engine, "p1", [{"resourceType": "Coverage", "id": "cov-a", "status": "active", "order": 1,
                         "beneficiary": {"reference": "Patient/a"}, "payor": [{"display": "Medicare"}],
                         "type": {"coding": [{"system": "urn:oid:2.16.840.1.113883.3.221.5", "code": "111",
                                              "display": "Medicare HMO"}]}}], tmp_path)
    black = {"url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race", "extension": [
        {"url": "ombCategory", "valueCoding": {"system": "urn:oid:2.16.840.1.113883.6.238", "code": "2054-5"}}]}
    d = diabetic("d", 10.2)
    d[0]["extension"].append(black)
    load(engine, "p2", d, tmp_path)
    run_measure(engine, CMS122, "p1", START, END, as_of=date(2026, 6, 1))
    load(engine, "p1", [hba1c("c-a1c", "c", 6.5, "2026-09-01")], tmp_path)  # c is tested and in control later
    run_measure(engine, CMS122, "p1", START, END, as_of=date(2026, 11, 22))
    run_measure(engine, CMS122, "p2", START, END, as_of=date(2026, 11, 22))
    return engine


def test_overview_gives_each_practice_its_latest_run_and_gaps_to_target(two_practices):
    [m] = [m for m in queries.overview(two_practices, CATALOG, ["p1", "p2"], START, END, {"CMS122": 0.2}, False)
           if m["measure"] == "CMS122"]
    assert m["inverse"] and m["aco"] is None
    p1, p2 = m["practices"]
    assert (p1["key"], p1["counts"]["denominator"], p1["counts"]["numerator"]) == ("p1", 3, 1)  # only a now
    assert p1["rate"] == round(1 / 3, 4) and p1["gaps_to_target"] == 1  # at most 0.6 -> 0 may stay
    assert (p2["counts"]["denominator"], p2["counts"]["numerator"]) == (1, 1)
    assert m["sum_of_practices"]["counts"]["denominator"] == 4


def test_breakdowns_by_clinician_and_age_and_the_patients_behind_a_number(two_practices):
    by_clinician = {r["key"]: r for r in queries.breakdown(two_practices, CMS122, ["p1"], START, END, "clinician", None)}
    assert by_clinician["p1:Practitioner/dr1"]["label"] == "Olu One (p1)"
    assert by_clinician["p1:Practitioner/dr1"]["counts"]["denominator"] == 2
    assert by_clinician["p1:unattributed"]["counts"]["denominator"] == 1
    by_age = {r["key"]: r["counts"]["denominator"] for r in
              queries.breakdown(two_practices, CMS122, ["p1", "p2"], START, END, "age", None)}
    assert by_age == {"18-44": 1, "65-74": 3}
    by_payer = {r["key"]: r["counts"]["denominator"] for r in
                queries.breakdown(two_practices, CMS122, ["p1"], START, END, "payer", None)}
    assert by_payer == {"Medicare HMO": 1, "unknown": 2}
    by_race = {r["label"]: r["counts"]["numerator"] for r in
               queries.breakdown(two_practices, CMS122, ["p1", "p2"], START, END, "race", None)}
    assert by_race == {"Black or African American": 1, "unknown": 1}
    numerator = queries.patients_behind(two_practices, CMS122, ["p1", "p2"], START, END, "numerator")
    assert [(p["practice_id"], p["patient_id"]) for p in numerator] == [("p1", "a"), ("p2", "d")]
    not_met = queries.patients_behind(two_practices, CMS122, ["p1"], START, END, "not-met")
    assert [p["patient_id"] for p in not_met] == ["b", "c"]
    one_doctor = queries.patients_behind(two_practices, CMS122, ["p1"], START, END, "denominator", "clinician",
                                         "p1:Practitioner/dr1")
    assert [p["patient_id"] for p in one_doctor] == ["a", "b"]
    with pytest.raises(ValueError, match="by: one of practice"):
        queries.breakdown(two_practices, CMS122, ["p1"], START, END, "shoe size", None)


def test_trend_has_one_point_per_run_day(two_practices):
    assert queries.trend(two_practices, "CMS122", START, END, "p1") == [(date(2026, 6, 1), round(2 / 3, 4)),
                                                                        (date(2026, 11, 22), round(1 / 3, 4))]


def test_qpp_submission_and_measurereport_exports(two_practices):
    from caregaps.dashboard.exports import subject_list, summary

    body = qpp_submission(two_practices, CATALOG, "p1", START, END, "group", "p1")
    [mset] = body["measurementSets"]
    assert body["performanceYear"] == 2026 and mset["programName"] == "app_plus" and mset["category"] == "quality"
    [m] = [m for m in mset["measurements"] if m["measureId"] == "001"]
    assert m["value"] == {"isEndToEndReported": True, "eligiblePopulation": 3, "eligiblePopulationExclusion": 0,
                          "eligiblePopulationException": 0, "performanceMet": 1, "performanceNotMet": 2}
    report = summary(two_practices, CMS122, "p1", START, END)
    assert report.type == "summary" and report.reporter.reference == "Organization/p1"
    assert float(report.group[0].measureScore.value) == pytest.approx(1 / 3, abs=1e-4)
    listed = subject_list(two_practices, CMS122, "p1", START, END)
    MeasureReport.model_validate_json(listed.model_dump_json(by_alias=True, exclude_none=True))
    numerator_list = next(c for c in listed.contained if c.id == "list-numerator")
    assert [e.item.reference for e in numerator_list.entry] == ["Patient/a"]


@pytest.fixture
def web(two_practices, database_url, tmp_path):
    add_user(two_practices, "lead@example.org", "Quinn Lead", "quality-lead", PASSWORD, [])
    add_user(two_practices, "nurse@example.org", "Nurse Joy", "care-manager", PASSWORD, ["p1"])
    with TestClient(create_app(get_settings(database_url=database_url, data_dir=tmp_path / "var"))) as client:
        yield client


def _signin(client, email):
    client.cookies.clear()
    assert client.post("/signin", data={"email": email, "password": PASSWORD},
                       follow_redirects=False).status_code == 303


def test_a_care_manager_sees_only_her_practice_and_sets_no_target(web):
    _signin(web, "nurse@example.org")
    body = web.get("/api/dashboard?periodStart=2026-01-01&periodEnd=2026-12-31").json()
    [m] = [m for m in body["measures"] if m["measure"] == "CMS122"]
    assert [r["key"] for r in m["practices"]] == ["p1"] and m["aco"] is None
    assert web.get("/api/dashboard/CMS122/patients?practice=p2&periodStart=2026-01-01").status_code == 404
    assert web.put("/api/dashboard/targets/CMS122", json={"target": 0.2}).status_code == 403
    page = web.get("/dashboard?periodStart=2026-01-01&periodEnd=2026-12-31").text
    assert "Lakeside" not in page and "Riverside" in page


def test_a_quality_lead_sets_a_target_drills_down_and_downloads_csv(web):
    _signin(web, "lead@example.org")
    assert web.put("/api/dashboard/targets/CMS122", json={"target": 1.5}).json()["detail"].startswith("target:")
    assert web.put("/api/dashboard/targets/CMS122", json={"target": 0.2}).status_code == 200
    page = web.get("/dashboard?periodStart=2026-01-01&periodEnd=2026-12-31").text
    assert "inverse measure: lower is better" in page and "<svg" in page
    assert "/dashboard/CMS122/patients?population=numerator&practice=p1" in page
    drill = web.get("/dashboard/CMS122/patients?population=numerator&practice=p1&periodStart=2026-01-01"
                    "&periodEnd=2026-12-31").text
    assert 'href="/patients/p1/a"' in drill and "/patients/p1/b" not in drill
    detail = web.get("/api/dashboard/CMS122?by=clinician&periodStart=2026-01-01&periodEnd=2026-12-31").json()
    assert detail["target"] == 0.2
    assert {r["label"] for r in detail["rows"]} == {"Olu One (p1)", "unattributed (p1)", "unattributed (p2)"}
    assert [p for p, _ in detail["trends"]["p1"]] == ["2026-06-01", "2026-11-22"]
    table = web.get("/api/dashboard/CMS122/patients?population=denominator&format=csv&periodStart=2026-01-01"
                    "&periodEnd=2026-12-31")
    assert table.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert sorted(r["patient_id"] for r in rows) == ["a", "b", "c", "d"]
    report = web.get("/api/dashboard/export/measurereport/CMS122?practice=p2&type=summary&periodStart=2026-01-01"
                     "&periodEnd=2026-12-31")
    assert report.status_code == 200 and MeasureReport.model_validate_json(report.text).type == "summary"


def test_the_aco_line_drills_down_to_each_persons_page(web, two_practices):
    from caregaps.aco.evaluate import rebuild_and_evaluate

    rebuild_and_evaluate(two_practices, START, END, as_of=date(2026, 11, 22), measure_ids=["CMS122"])
    _signin(web, "lead@example.org")
    [m] = [m for m in web.get("/api/dashboard?periodStart=2026-01-01&periodEnd=2026-12-31").json()["measures"]
           if m["measure"] == "CMS122"]
    assert m["aco"]["counts"]["denominator"] == 4  # four different people, nobody shared
    listed = web.get("/api/dashboard/CMS122/patients?practice=aco&population=numerator&periodStart=2026-01-01"
                     "&periodEnd=2026-12-31").json()["patients"]
    assert len(listed) == 2 and all(p["patient_id"].startswith("person-") for p in listed)
    page = web.get(f"/patients/aco/{listed[0]['patient_id']}")
    assert page.status_code == 200 and listed[0]["patient_id"] in page.text and "CMS122" in page.text
    _signin(web, "nurse@example.org")  # a care manager sees no ACO line and no ACO person
    assert web.get("/api/dashboard/CMS122/patients?practice=aco&periodStart=2026-01-01").status_code == 404
