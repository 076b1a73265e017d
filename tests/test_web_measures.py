"""The FHIR measure endpoints over HTTP: Measure read/search, $evaluate-measure and $care-gaps,
each scoped to the practice of the bearer token, every output valid by fhir.resources.R4B."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.measurereport import MeasureReport
from fhir.resources.R4B.parameters import Parameters

from caregaps.config import get_settings
from caregaps.practices import add_practice, create_token
from caregaps.web.app import create_app
from tests.measure_data import diabetic, load

PERIOD = {"periodStart": "2026-01-01", "periodEnd": "2026-12-31"}


@pytest.fixture
def client(engine, database_url, tmp_path):
    add_practice(engine, "p1", "Riverside", "UTC")
    add_practice(engine, "p2", "Lakeside", "UTC")
    load(engine, "p1", diabetic("high", 9.4, gp="Practitioner/dr1") + diabetic("ok", 7.1), tmp_path)
    load(engine, "p2", diabetic("other", 10.0), tmp_path)
    settings = get_settings(database_url=database_url, data_dir=tmp_path / "var")
    with TestClient(create_app(settings)) as test_client:
        test_client.headers["Authorization"] = f"Bearer {create_token(engine, 'p1')}"
        yield test_client


def test_measures_are_listed_and_read_by_cms_id_with_their_canonical_url(client):
    found = client.get("/fhir/Measure")
    assert found.status_code == 200
    bundle = Bundle.model_validate(found.json())
    ids = {e.resource.id for e in bundle.entry}
    assert {"CMS122", "CMS125", "CMS130", "CMS165", "CMS2"} <= ids
    measure = client.get("/fhir/Measure/CMS122").json()
    assert measure["url"] == "https://madie.cms.gov/Measure/CMS122FHIRDiabetesAssessGreaterThan9Percent"
    assert measure["improvementNotation"]["coding"][0]["code"] == "decrease"
    missing = client.get("/fhir/Measure/CMS999")
    assert missing.status_code == 404 and missing.json()["resourceType"] == "OperationOutcome"


def test_evaluate_measure_gives_population_subject_list_and_subject_reports(client):
    summary = client.get("/fhir/Measure/CMS122/$evaluate-measure", params={**PERIOD, "reportType": "population"})
    report = MeasureReport.model_validate(summary.json())
    counts = {p.code.coding[0].code: p.count for p in report.group[0].population}
    assert counts["denominator"] == 2 and counts["numerator"] == 1  # p2's patient is not counted
    assert report.group[0].measureScore.value == 0.5

    listed = client.post("/fhir/Measure/CMS122/$evaluate-measure", params={**PERIOD, "reportType": "subject-list"})
    report = MeasureReport.model_validate(listed.json())
    numerator = next(c for c in report.contained if c.id == "list-numerator")
    assert [e.item.reference for e in numerator.entry] == ["Patient/high"]

    one = client.get("/fhir/Measure/CMS122/$evaluate-measure", params={**PERIOD, "subject": "Patient/high"})
    report = MeasureReport.model_validate(one.json())
    assert report.type == "individual" and report.subject.reference == "Patient/high"
    assert "Observation/high-a1c" in [r.reference for r in report.evaluatedResource]

    other_practice = client.get("/fhir/Measure/CMS122/$evaluate-measure", params={**PERIOD, "subject": "Patient/other"})
    assert other_practice.status_code == 404
    bad = client.get("/fhir/Measure/CMS122/$evaluate-measure", params={"periodStart": "2026-13-01"})
    assert bad.status_code == 400 and "periodStart" in bad.json()["issue"][0]["diagnostics"]


def test_care_gaps_returns_a_deqm_bundle_per_patient_with_an_open_gap(client):
    response = client.get("/fhir/Measure/$care-gaps", params={**PERIOD, "measureId": "CMS122"})
    assert response.status_code == 200
    parameters = Parameters.model_validate(response.json())
    bundles = [p.resource for p in parameters.parameter]
    assert len(bundles) == 1  # "ok" has a closed gap; p2's patient belongs to another practice
    document = bundles[0]
    types = [e.resource.get_resource_type() for e in document.entry]
    assert types == ["Composition", "MeasureReport", "DetectedIssue", "GuidanceResponse"]
    composition, _, issue, guidance = (e.resource for e in document.entry)
    assert composition.subject.reference == "Patient/high"
    assert issue.modifierExtension[0].valueCodeableConcept.coding[0].code == "open-gap"
    assert guidance.reasonCode[0].coding[0].code == "InvalidAttribute"
    assert "9.0%" in guidance.note[0].text

    closed = client.get("/fhir/Measure/$care-gaps", params={**PERIOD, "measureId": "CMS122", "status": "closed-gap"})
    subjects = [p["resource"]["entry"][0]["resource"]["subject"]["reference"] for p in closed.json()["parameter"]]
    assert subjects == ["Patient/ok"]
    by_clinician = client.get("/fhir/Measure/$care-gaps", params={**PERIOD, "measureId": "CMS122",
                                                                  "practitioner": "Practitioner/dr1"})
    assert len(by_clinician.json()["parameter"]) == 1
    foreign = client.get("/fhir/Measure/$care-gaps", params={**PERIOD, "organization": "Organization/p2"})
    assert foreign.status_code == 403


def test_measure_endpoints_need_a_token(client):
    del client.headers["Authorization"]
    assert client.get("/fhir/Measure").status_code == 401
    assert client.get("/fhir/Measure/$care-gaps").status_code == 401
