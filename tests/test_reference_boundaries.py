"""Time boundaries one by one, each against the reference engine's verdict.

Each row takes an official case, changes one time, and states what fqm-execution 1.8.6
(cql-execution 3.3.2) answered for that exact patient on the official measure, period 2026 in UTC
(scripts/reference/ runs it; see its README). The rules the rows pin down (CQL 1.5, Appendix B):

- at day precision (`during day of`) a time counts by the day written in its own offset;
- at millisecond precision times are normalised to UTC instants, and a time known only to the
  day (or the second) that agrees with the boundary as far as it goes is not counted (null);
- a Condition that is not active and has no abatement has no prevalence interval.
"""

from __future__ import annotations

import copy
import json
from datetime import date, timezone
from pathlib import Path

import pytest

from caregaps.engine.catalog import default_root, load_catalog
from caregaps.engine.evaluate import evaluate
from caregaps.engine.period import Period
from caregaps.ingest.jobs import create_job, run_job
from caregaps.practices import add_practice
from caregaps.terminology import load_valuesets

CASES = Path(__file__).parent / "ecqm"
PERIOD = Period(date(2026, 1, 1), date(2026, 12, 31), timezone.utc)
HIV = "CMS349FHIRHIVScreening/cases/1d082b9c-26b3-4f59-b7f9-6f206c594506"  # IP 1, numerator 1
HTN = "CMS165FHIRControllingHighBloodPressure/cases/a3deee90-5966-4309-b52f-c0a76046f680"  # IP 1
BIPOLAR = "CMS2FHIRPCSDepressionScreenAndFollowUp/cases/15ad723f-b561-4cdd-9a11-7e6619780459"  # excluded

# CMS349 "Qualifying Encounters": ValidEncounters.period during day of "Measurement Period" (day precision)
ENCOUNTER_PERIOD = [  # (start, end) -> reference initial-population
    (("2027-01-01T00:00:00+09:00",) * 2, False),  # Dec 31 15:00 UTC, but written Jan 1
    (("2026-12-31T23:59:59-05:00",) * 2, True),   # Jan 1 04:59 UTC, but written Dec 31
    (("2025-12-31T23:59:59-05:00",) * 2, False),
    (("2026-01-01T00:00:00+09:00",) * 2, True),   # Dec 31 2025 in UTC, written Jan 1
    (("2026-12-31",) * 2, True),
    (("2025-12-31",) * 2, False),
    (("2026-01-01",) * 2, True),
    (("2027-01-01",) * 2, False),
    (("2026-12-31T23:59:59Z",) * 2, True),
    (("2027-01-01T00:00:00Z",) * 2, False),
    (("2026-01-01T00:00:00Z",) * 2, True),
    (("2025-12-31T23:59:59Z",) * 2, False),
    (("2025-12-31T20:00:00-05:00", "2026-01-01T02:00:00Z"), False),  # starts on a day written in 2025
    (("2026-12-31T10:00:00Z", "2027-01-01T08:00:00+09:00"), False),  # ends on a day written in 2027
    (("2026-12-31T10:00:00Z", "2027-01-01T01:00:00Z"), False),
    # a partial date is not known to the day: in the month (or year) of a boundary it is unknown
    (("2026-12", "2026-12"), False),
    (("2026-01", "2026-01"), False),
    (("2026", "2026"), False),
    (("2026-12-31", "2026-12"), False),
    (("2026-06", "2026-06"), True),
    (("2026-01-01", "2026-06"), True),
    (("2025-12", "2025-12"), False),
]
# CMS349 "Has HIV Test Performed": effective.toInterval() starts before end of "Measurement Period"
# (millisecond precision)
HIV_TEST = [
    ("2026-12-31T23:59:59-05:00", False),  # 2027-01-01T04:59:59Z: after the end
    ("2027-01-01T00:00:00+09:00", True),   # 2026-12-31T15:00:00Z
    ("2026-12-31", False),                 # the day of the period's end: maybe its last millisecond
    ("2027-01-01", False),
    ("2026-12-31T23:59:59.999Z", False),   # the end itself is not before it
    ("2027-01-01T00:00:00Z", False),
    ("2026-12", False),                    # the month of the period's end
    ("2026", False),                       # the year of the period's end
    ("2026-12-31T23:59:59Z", False),       # a second without milliseconds: maybe its last one
    ("2026-12-31T23:59:58Z", True),
    ("2026-12-31T23:59Z", False),          # the minute of the period's end
    ("2026-12-31T23:59:59.998Z", True),
    ("2026-12-31T23:59:59.000Z", True),    # milliseconds written: exact
    ("2026-12-30", True),
    ("2026-11", True),
]
# CMS165 "End Stage Renal Disease Procedures": performed.toInterval() ends on or before end of
# "Measurement Period" (milliseconds, not strict); case 4ade2900 is excluded by its dialysis
ESRD = "CMS165FHIRControllingHighBloodPressure/cases/4ade2900"
DIALYSIS_PERFORMED = [
    ({"performedDateTime": "2026-12-31"}, False),
    ({"performedDateTime": "2026-12-31T23:59:59Z"}, False),
    ({"performedDateTime": "2026-12-31T23:59:59.999Z"}, True),
    ({"performedDateTime": "2027-01-01"}, False),
    ({"performedPeriod": {"start": "2026-06-01", "end": "2026-12-31"}}, False),
    ({"performedPeriod": {"start": "2026-06-01T10:00:00Z", "end": "2026-12-31T23:59:59Z"}}, False),
    ({"performedDateTime": "2026-12"}, False),
    ({"performedDateTime": "2026"}, False),
    ({"performedDateTime": "2026-12-31T22:00:00Z"}, True),
    ({"performedDateTime": "2026-11"}, True),
    ({"performedPeriod": {"start": "2026-06-01", "end": "2026-12-30"}}, True),
]
# CMS165 "Essential Hypertension Diagnosis": prevalenceInterval() overlaps
# Interval[start of "Measurement Period", start of "Measurement Period" + 6 months) (milliseconds)
HYPERTENSION_ONSET = [
    ("2026-07-01", False),
    ("2026-06-30T23:00:00-05:00", False),  # 2026-07-01T04:00:00Z
    ("2026-07-01T03:00:00+09:00", True),   # 2026-06-30T18:00:00Z
    ("2026-06-30", False),                 # may be the window's last millisecond, or not
    ("2026-07-01T00:00:00.000Z", False),
    ("2026-06-30T23:59:59.999Z", True),
    ("2026-07", False),
    ("2026-06", False),                    # the month of the window's last millisecond
    ("2025", True),
    ("2026-07-01T00:00:00Z", False),
    ("2026-06-30T23:59:59Z", False),       # maybe its last millisecond: not surely before the end
    ("2026-06-29", True),
    ("2026-05", True),
    ("2026", False),
]
# CMS122 "Initial Population": a Diabetes condition whose prevalenceInterval() overlaps day of
# "Measurement Period" (day precision); case 1e954801 is in the initial population
DIABETES = "CMS122FHIRDiabetesAssessGreaterThan9Percent/cases/1e954801"
DIABETES_TIMES = [  # (clinical status, onset, abatement) -> reference initial-population
    (("active", "2026-12", None), False),   # maybe after the period's last day? not known to the day
    (("active", "2027", None), False),
    (("active", "2026-12-31T23:00:00-05:00", None), True),  # written Dec 31
    (("active", "2026-11", None), True),
    (("resolved", "2020-01-01", "2026-01"), False),
    (("resolved", "2020-01-01", "2026-06"), True),
    (("resolved", "2020-01-01", "2026-01-01"), True),
    (("resolved", "2020-01-01", "2026"), False),
    (("resolved", "2020-01-01", "2025-12"), False),
]
# CMS2 "Has Bipolar Disorder": prevalenceInterval() starts before day of start of QualifyingEncounter.period
BIPOLAR_STATUS = [  # (clinical status, abatement) -> reference denominator-exclusion
    (("remission", None), False),  # not active, no abatement: no prevalence interval
    (("inactive", None), False),
    (("resolved", "2026-06-18"), True),
    (("active", None), True),
    (("remission", "2026-09-01"), True),
]


def _resources(folder: str) -> list[dict]:
    paths = sorted((CASES / folder).glob("*.json"))
    return [json.loads(p.read_text()) for p in paths if not p.name.startswith("MeasureReport-")]


def _one(resources: list[dict], rtype: str) -> dict:
    (found,) = [r for r in resources if r["resourceType"] == rtype]
    return found


def _evaluate(engine, tmp_path, measure: str, resources: list[dict], population: str) -> bool:
    """The patient's `population` when the case, as changed, is a practice (UTC) of its own."""
    practice = f"v{len(list(tmp_path.glob('*.ndjson')))}"
    add_practice(engine, practice, practice, "UTC")
    path = tmp_path / f"{practice}.ndjson"
    path.write_text("\n".join(json.dumps(r) for r in resources) + "\n")
    run_job(engine, create_job(engine, practice, "cli", [(path, path.name)], False).id, workers=0)
    patient = _one(resources, "Patient")["id"]
    with engine.begin() as conn:
        results = evaluate(conn, load_catalog().get(measure), PERIOD, practice)
    return {r.patient_id: r.populations for r in results}[patient][population]


@pytest.fixture
def store(engine):
    load_valuesets(engine, default_root() / "valuesets")
    return engine


def test_encounter_days_count_as_written(store, tmp_path):
    got, want = [], []
    for (start, end), verdict in ENCOUNTER_PERIOD:
        case = copy.deepcopy(_resources(HIV))
        _one(case, "Encounter")["period"] = {"start": start, "end": end}
        got.append(((start, end), _evaluate(store, tmp_path, "CMS349", case, "initial-population")))
        want.append(((start, end), verdict))
    assert got == want


def test_hiv_test_instants_against_the_end_of_the_period(store, tmp_path):
    got, want = [], []
    for effective, verdict in HIV_TEST:
        case = copy.deepcopy(_resources(HIV))
        _one(case, "Observation")["effectiveDateTime"] = effective
        got.append((effective, _evaluate(store, tmp_path, "CMS349", case, "numerator")))
        want.append((effective, verdict))
    assert got == want


def test_hypertension_onset_against_the_first_six_months(store, tmp_path):
    got, want = [], []
    for onset, verdict in HYPERTENSION_ONSET:
        case = copy.deepcopy(_resources(HTN))
        _one(case, "Condition")["onsetDateTime"] = onset
        got.append((onset, _evaluate(store, tmp_path, "CMS165", case, "initial-population")))
        want.append((onset, verdict))
    assert got == want


def test_dialysis_dates_against_the_end_of_the_period(store, tmp_path):
    got, want = [], []
    for performed, verdict in DIALYSIS_PERFORMED:
        case = copy.deepcopy(_resources(_folder(ESRD)))
        procedure = next(r for r in case if r["resourceType"] == "Procedure"
                         and any(c.get("code") == "108241001" for c in r["code"]["coding"]))
        for key in [k for k in procedure if k.startswith("performed")]:
            del procedure[key]
        procedure.update(performed)
        got.append((str(performed), _evaluate(store, tmp_path, "CMS165", case, "denominator-exclusion")))
        want.append((str(performed), verdict))
    assert got == want


def test_diabetes_partial_dates_at_day_precision(store, tmp_path):
    got, want = [], []
    for (status, onset, abated), verdict in DIABETES_TIMES:
        case = copy.deepcopy(_resources(_folder(DIABETES)))
        condition = next(r for r in case if r["resourceType"] == "Condition")
        for key in [k for k in condition if k.startswith(("onset", "abatement"))]:
            del condition[key]
        condition["clinicalStatus"] = {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": status}]}
        condition["onsetDateTime"] = onset
        if abated:
            condition["abatementDateTime"] = abated
        got.append(((status, onset, abated), _evaluate(store, tmp_path, "CMS122", case, "initial-population")))
        want.append(((status, onset, abated), verdict))
    assert got == want


def _folder(prefix: str) -> str:
    (found,) = (CASES / prefix).parent.glob(Path(prefix).name + "*")
    return str(found.relative_to(CASES))


def test_bipolar_disorder_excludes_only_with_a_prevalence_interval(store, tmp_path):
    got, want = [], []
    for (status, abated), verdict in BIPOLAR_STATUS:
        case = copy.deepcopy(_resources(BIPOLAR))
        condition = _one(case, "Condition")
        condition["clinicalStatus"] = {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": status}]}
        condition.pop("abatementDateTime", None)
        if abated:
            condition["abatementDateTime"] = abated
        got.append(((status, abated), _evaluate(store, tmp_path, "CMS2", case, "denominator-exclusion")))
        want.append(((status, abated), verdict))
    assert got == want


# Which of QI-Core's two Condition profiles a measure reads, told by the Condition's category:
# CMS122 "Initial Population" reads [ConditionEncounterDiagnosis: "Diabetes"] alone; CMS2 "History
# of Bipolar Diagnosis Before Qualifying Encounter" reads [ConditionProblemsHealthConcerns:
# "Bipolar Disorder"] alone, as does CMS69 "High BMI Interventions Performed" for "Overweight or
# Obese" (case 9d92be1d: a dietary procedure without a reason, during an overweight concern).
# Each variant sets the category and the matching meta.profile (the reference engine retrieves
# by profile, caregaps by category).
OVERWEIGHT = "CMS69FHIRPCSBMIScreenAndFollowUp/cases/9d92be1d"
CATEGORY_SYSTEMS = {"health-concern": "http://hl7.org/fhir/us/core/CodeSystem/condition-category"}
QICORE = "http://hl7.org/fhir/us/qicore/StructureDefinition/qicore-condition-"
PROFILES = {"encounter-diagnosis": QICORE + "encounter-diagnosis", "problem-list-item": QICORE + "problems-health-concerns",
            "health-concern": QICORE + "problems-health-concerns"}
CONDITION_CATEGORY = [  # (measure, case, condition code, category, population) -> reference verdict
    (("CMS122", DIABETES, "102781000119107", "encounter-diagnosis", "initial-population"), True),
    (("CMS122", DIABETES, "102781000119107", "problem-list-item", "initial-population"), False),
    (("CMS122", DIABETES, "102781000119107", "health-concern", "initial-population"), False),
    (("CMS2", BIPOLAR, "10875004", "encounter-diagnosis", "denominator-exclusion"), False),
    (("CMS2", BIPOLAR, "10875004", "problem-list-item", "denominator-exclusion"), True),
    (("CMS2", BIPOLAR, "10875004", "health-concern", "denominator-exclusion"), True),
    (("CMS69", OVERWEIGHT, "162863004", "encounter-diagnosis", "numerator"), False),
    (("CMS69", OVERWEIGHT, "162863004", "problem-list-item", "numerator"), True),
    (("CMS69", OVERWEIGHT, "162863004", "health-concern", "numerator"), True),
]


def test_a_measure_reading_one_condition_profile_reads_conditions_of_its_categories(store, tmp_path):
    got, want = [], []
    for (measure, folder, code, category, population), verdict in CONDITION_CATEGORY:
        case = copy.deepcopy(_resources(_folder(folder)))
        (condition,) = [r for r in case if r["resourceType"] == "Condition"
                        and any(c.get("code") == code for c in r["code"]["coding"])]
        condition["meta"] = {"profile": [PROFILES[category]]}
        condition["category"] = [{"coding": [{"system": CATEGORY_SYSTEMS.get(
            category, "http://terminology.hl7.org/CodeSystem/condition-category"), "code": category}]}]
        got.append(((measure, category), _evaluate(store, tmp_path, measure, case, population)))
        want.append(((measure, category), verdict))
    assert got == want


# A Condition without any category (US Core requires one; some exports leave it out) belongs to
# neither profile by its data. caregaps reads it by both profiles rather than lose it: that is our
# choice, not a reference verdict. A CQL test of the category itself stays exact: CMS69 "Low BMI
# Interventions Ordered" needs UnderweightDiagnosis.isHealthConcern() (case 8835a50b: a referral
# for an underweight health concern), which a Condition without category never is.
UNDERWEIGHT = "CMS69FHIRPCSBMIScreenAndFollowUp/cases/8835a50b"
UNCATEGORIZED = [  # (measure, case, condition code, population) -> caregaps' result
    (("CMS122", DIABETES, "102781000119107", "initial-population"), True),   # profile: encounter diagnosis
    (("CMS2", BIPOLAR, "10875004", "denominator-exclusion"), True),          # profile: problems, concerns
    (("CMS69", OVERWEIGHT, "162863004", "numerator"), True),                 # profile: problems, concerns
    (("CMS69", UNDERWEIGHT, "248342006", "numerator"), False),               # isHealthConcern()
]


def test_a_condition_without_category_is_read_by_either_profile_but_has_no_category(store, tmp_path):
    got, want = [], []
    for (measure, folder, code, population), result in UNCATEGORIZED:
        case = copy.deepcopy(_resources(_folder(folder)))
        (condition,) = [r for r in case if r["resourceType"] == "Condition"
                        and any(c.get("code") == code for c in r["code"]["coding"])]
        condition.pop("meta", None)
        condition.pop("category", None)
        got.append(((measure, folder), _evaluate(store, tmp_path, measure, case, population)))
        want.append(((measure, folder), result))
    assert got == want


# CMS69 "Denominator Exceptions": [ServiceNotRequested] ... where NoBMIFollowUp.authoredOn same
# day as start of QualifyingEncounter.period and NoBMIFollowUp.reasonRefused in "Medical Reason"
# (case 6d26d364: a referral not requested, contraindicated); [ObservationCancelled] ... where
# NoBMI.notDoneReason in "Medical Reason" (case a327cf96: a BMI not done, contraindicated). The
# ELM reads reasonRefused from the qicore-doNotPerformReason extension and notDoneReason from
# qicore-notDoneReason; another extension there, or an order dated only by its occurrence, is no
# exception.
BMI_REFERRAL = "CMS69FHIRPCSBMIScreenAndFollowUp/cases/6d26d364"
BMI_NOT_DONE = "CMS69FHIRPCSBMIScreenAndFollowUp/cases/a327cf96"
QICORE_EXT = "http://hl7.org/fhir/us/qicore/StructureDefinition/"
BMI_EXCEPTIONS = [  # (case, resource type, change) -> reference denominator-exception
    ((BMI_REFERRAL, "ServiceRequest", "as published"), True),
    ((BMI_REFERRAL, "ServiceRequest", "qicore-notDoneReason"), False),
    ((BMI_REFERRAL, "ServiceRequest", "qicore-reasonRefused"), False),
    ((BMI_REFERRAL, "ServiceRequest", "occurrence, no authoredOn"), False),
    ((BMI_NOT_DONE, "Observation", "as published"), True),
    ((BMI_NOT_DONE, "Observation", "qicore-doNotPerformReason"), False),
    ((BMI_NOT_DONE, "Observation", "qicore-reasonRefused"), False),
]


def test_bmi_exceptions_read_the_reason_extension_of_each_profile(store, tmp_path):
    got, want = [], []
    for (folder, rtype, change), verdict in BMI_EXCEPTIONS:
        case = copy.deepcopy(_resources(_folder(folder)))
        for resource in (r for r in case if r["resourceType"] == rtype):
            if change.startswith("occurrence"):
                resource["occurrenceDateTime"] = resource.pop("authoredOn")
            elif change.startswith("qicore-"):
                for extension in resource.get("extension", []):
                    if extension["url"] in (QICORE_EXT + "qicore-doNotPerformReason", QICORE_EXT + "qicore-notDoneReason"):
                        extension["url"] = QICORE_EXT + change
        got.append(((folder, change), _evaluate(store, tmp_path, "CMS69", case, "denominator-exception")))
        want.append(((folder, change), verdict))
    assert got == want


# CMS349 "Patient Expired": Patient.deceased on or before end of "Measurement Period" (millisecond
# precision): a date, or a time without milliseconds, on the period's last day or second may be
# after its last millisecond. Case 010e7c7c is in the denominator, without exception.
ALIVE = "CMS349FHIRHIVScreening/cases/010e7c7c"
DECEASED = [  # Patient.deceasedDateTime -> reference denominator-exception
    ("2026-12-31", False),
    ("2026-12-31T12:00:00Z", True),
    ("2026-12-30", True),
    ("2026-12", False),
    ("2026", False),
    ("2026-12-31T23:59:59Z", False),
    ("2026-12-31T23:59:59.999Z", True),
    ("2026-12-31T23:00:00-05:00", False),   # January 1 in UTC
    ("2027-01-01T01:00:00+09:00", True),    # December 31 in UTC
    ("2026-12-31T19:00:00-05:00", False),
]


def test_a_death_is_known_to_its_precision(store, tmp_path):
    got, want = [], []
    for deceased, verdict in DECEASED:
        case = copy.deepcopy(_resources(_folder(ALIVE)))
        _one(case, "Patient")["deceasedDateTime"] = deceased
        got.append((deceased, _evaluate(store, tmp_path, "CMS349", case, "denominator-exception")))
        want.append((deceased, verdict))
    assert got == want


# Which element dates a cancelled Observation is the measure's choice. CMS2 "Medical or Patient
# Reason for Not Screening Adult for Depression": NoAdultScreen.issued during day of
# QualifyingEncounter.period (case 12786a64: screening declined, issued on the encounter's day);
# CMS69 "Medical Reason Or Patient Reason For Not Performing BMI Exam":
# NoBMI.effective.toInterval() ends same day as start of QualifyingEncounter.period (a327cf96).
SCREEN_DECLINED = "CMS2FHIRPCSDepressionScreenAndFollowUp/cases/12786a64"
CANCELLED_DATES = [  # (measure, case, changes to the cancelled Observation) -> reference denominator-exception
    (("CMS2", SCREEN_DECLINED, ()), True),
    (("CMS2", SCREEN_DECLINED, (("effectiveDateTime", "2026-03-01T08:00:00.000+00:00"),)), True),
    (("CMS2", SCREEN_DECLINED, (("effectiveDateTime", "2026-06-28T08:00:00.000+00:00"), ("issued", None))), False),
    (("CMS2", SCREEN_DECLINED, (("effectiveDateTime", "2026-06-28T08:00:00.000+00:00"),
                                ("issued", "2026-06-29T08:00:00.000+00:00"))), False),
    (("CMS69", BMI_NOT_DONE, ()), True),
    (("CMS69", BMI_NOT_DONE, (("effectiveDateTime", None),)), False),   # issued alone: no effective
    (("CMS69", BMI_NOT_DONE, (("issued", "2026-09-01T08:00:00.000+00:00"),)), True),
]


def test_a_cancelled_observation_is_dated_by_the_element_each_measure_reads(store, tmp_path):
    got, want = [], []
    for (measure, folder, changes), verdict in CANCELLED_DATES:
        case = copy.deepcopy(_resources(_folder(folder)))
        (cancelled,) = [r for r in case if r["resourceType"] == "Observation" and r["status"] == "cancelled"]
        for element, value in changes:
            cancelled.pop(element, None)
            if value is not None:
                cancelled[element] = value
        got.append(((measure, changes), _evaluate(store, tmp_path, measure, case, "denominator-exception")))
        want.append(((measure, changes), verdict))
    assert got == want


# A Condition that declares a QI-Core Condition profile (meta.profile) is of that profile whatever
# its category says: the reference engine retrieves by meta.profile alone (CMS143's official cases
# declare problems-health-concerns on encounter diagnoses). One that declares neither is read by
# its category (the reference engine reads none: caregaps' choice, for untagged EHR exports).
DECLARED = [  # (measure, case, code, declared profile, category, population) -> verdict
    (("CMS122", DIABETES, "102781000119107", "problem-list-item", "encounter-diagnosis", "initial-population"), False),
    (("CMS122", DIABETES, "102781000119107", "encounter-diagnosis", "problem-list-item", "initial-population"), True),
    (("CMS2", BIPOLAR, "10875004", "problem-list-item", "encounter-diagnosis", "denominator-exclusion"), True),
    (("CMS2", BIPOLAR, "10875004", "encounter-diagnosis", "problem-list-item", "denominator-exclusion"), False),
    (("CMS122", DIABETES, "102781000119107", None, "encounter-diagnosis", "initial-population"), True),   # ours
    (("CMS122", DIABETES, "102781000119107", None, "problem-list-item", "initial-population"), False),   # ours
    (("CMS2", BIPOLAR, "10875004", None, "problem-list-item", "denominator-exclusion"), True),            # ours
]


def test_a_declared_condition_profile_decides_over_the_category(store, tmp_path):
    got, want = [], []
    for (measure, folder, code, declared, category, population), verdict in DECLARED:
        case = copy.deepcopy(_resources(_folder(folder)))
        (condition,) = [r for r in case if r["resourceType"] == "Condition"
                        and any(c.get("code") == code for c in r["code"]["coding"])]
        condition.pop("meta", None)
        if declared:
            condition["meta"] = {"profile": [PROFILES[declared]]}
        condition["category"] = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category",
                                              "code": category}]}]
        got.append(((measure, declared, category), _evaluate(store, tmp_path, measure, case, population)))
        want.append(((measure, declared, category), verdict))
    assert got == want
