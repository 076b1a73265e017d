"""The chronic-risk model: factors in the measure language, a score and tier per patient, the
CMS-HCC V28 score beside it, stored per day."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from caregaps.db import session
from caregaps.engine.catalog import check, load_catalog
from caregaps.engine.risk import tier_for
from caregaps.engine.risk_runs import age_on, hcc_score, score_practice
from caregaps.models import RiskScore
from caregaps.practices import add_practice
from tests.measure_data import diabetic, load, office_visit, patient

AS_OF = date(2026, 11, 22)


def condition(cid: str, pid: str, icd: str) -> dict:
    return {"resourceType": "Condition", "id": cid, "subject": {"reference": f"Patient/{pid}"},
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                           "code": "active"}]},
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": icd}]},
            "onsetDateTime": "2020-01-01"}


def emergency_visit(eid: str, pid: str, day: str) -> dict:
    return {"resourceType": "Encounter", "id": eid, "status": "finished", "subject": {"reference": f"Patient/{pid}"},
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "EMER"},
            "period": {"start": f"{day}T20:00:00Z", "end": f"{day}T23:00:00Z"}}


@pytest.mark.parametrize("score, tier", [(0, "low"), (2, "low"), (3, "rising"), (5, "rising"), (6, "high"), (11, "high")])
def test_tier_is_the_highest_threshold_reached(score, tier):
    assert tier_for(score, {"high": 6, "rising": 3}) == tier


def test_given_birthdays_then_age_counts_whole_years():
    assert age_on(date(1950, 11, 22), AS_OF) == 76
    assert age_on(date(1950, 11, 23), AS_OF) == 75
    assert age_on(None, AS_OF) is None


def test_hcc_v28_scores_diagnoses_and_needs_demographics():
    with_hf = hcc_score(["I50.9", "E11.9"], 78, "female")
    without = hcc_score(["E11.9"], 78, "female")
    assert with_hf is not None and without is not None and with_hf.score > without.score
    assert hcc_score([], 78, "female") is None and hcc_score(["I50.9"], None, "male") is None


def test_given_patients_when_scored_then_factors_add_up_and_scores_are_stored(engine, tmp_path):
    add_practice(engine, "p1", "Riverside", "UTC")
    sick = diabetic("sick", 9.6, birth="1938-01-01") + [
        condition("hf", "sick", "I50.9"), condition("copd", "sick", "J44.9"),
        emergency_visit("ed1", "sick", "2026-02-01"), emergency_visit("ed2", "sick", "2026-07-01"),
        emergency_visit("old", "sick", "2025-06-01")]  # more than 12 months before the as-of day
    well = [patient("well", birth="1980-01-01"), office_visit("v", "well")]
    load(engine, "p1", sick + well, tmp_path)
    model = load_catalog().risk_model("chronic-risk")
    scored = {r.patient_id: (r, hcc) for r, hcc in score_practice(engine, model, "p1", AS_OF)}

    sick_result, sick_hcc = scored["sick"]
    assert set(sick_result.factors) == {"Diabetes", "Heart failure", "COPD", "HbA1c above 9%",
                                        "Emergency visit in the last 12 months", "Two or more emergency visits",
                                        "Age 85 or older"}
    assert sick_result.score == 1 + 2 + 2 + 2 + 1 + 1 + 2 and sick_result.tier == "high"
    assert sick_hcc is not None and sick_hcc.score > 0 and sick_hcc.hccs
    well_result, _ = scored["well"]
    assert (well_result.score, well_result.tier, well_result.factors) == (0, "low", [])

    score_practice(engine, model, "p1", AS_OF)  # the same day again replaces, never duplicates
    with session(engine) as s:
        stored = s.exec(select(RiskScore).where(RiskScore.patient_id == "sick")).all()
    assert len(stored) == 1 and stored[0].tier == "high" and stored[0].hcc_score == sick_hcc.score


def test_a_risk_factor_naming_a_query_as_a_condition_is_a_type_error(tmp_path):
    (tmp_path / "valuesets").mkdir()
    (tmp_path / "library").mkdir()
    (tmp_path / "risk").mkdir()
    (tmp_path / "risk" / "bad.yaml").write_text(
        "id: bad\ntitle: t\ndefine:\n  Visits: {from: encounter}\nfactors:\n  Visit: {points: 1, when: Visits}\n"
        "tiers: {high: 1}\n")
    _, problems = check(tmp_path)
    assert len(problems) == 1
    assert problems[0].line == 6 and "type mismatch" in problems[0].message
