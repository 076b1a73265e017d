"""Data-quality reports of a practice and of one import, built from rows written directly."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest

from caregaps.db import session
from caregaps.ingest.facts import SPECS
from caregaps.models import (Fact, FactCode, ImportIssue, ImportJob, Patient, Practice, RawResource,
                             ResourceReference)
from caregaps.quality import STANDARD_SYSTEMS, import_quality, practice_quality

NOW = datetime(2025, 6, 1, 12, 0)
PAST = datetime(2024, 3, 1, 9, 30)
LOINC, SNOMED, ICD10 = "http://loinc.org", "http://snomed.info/sct", "http://hl7.org/fhir/sid/icd-10-cm"
CPT, RXNORM = "http://www.ama-assn.org/go/cpt", "http://www.nlm.nih.gov/research/umls/rxnorm"
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
LOCAL = "urn:oid:1.2.3.4"

EMPTY = {
    "resources_by_type": {},
    "coding": {},
    "observations_without_value": {"count": 0, "examples": []},
    "observations_without_effective_time": {"count": 0, "examples": []},
    "patients_without_encounters": {"count": 0, "examples": []},
    "future_dates": {"facts": {"count": 0, "by_type": {}, "examples": []},
                     "birth_dates": {"count": 0, "examples": []}},
    "time_offsets": {"count": 0, "by_offset": {}, "on_another_local_day": {"count": 0, "examples": []}},
    "missing_references": {"count": 0, "by_type": {}, "examples": []},
}


# ---- builders -------------------------------------------------------------------------------

def add_practice(s, practice_id: str = "p2") -> None:
    s.add(Practice(id=practice_id, name=f"Practice {practice_id}"))
    s.flush()


def add_raw(s, rtype: str, rid: str, *, practice_id: str = "p1", version: int = 1, current: bool = True,
            deleted: bool = False, import_id: str | None = None) -> RawResource:
    row = RawResource(practice_id=practice_id, resource_type=rtype, resource_id=rid, version=version,
                      content_hash=f"{rtype}/{rid}/{version}", import_id=import_id, is_current=current,
                      deleted=deleted, body=None if deleted else "{}")
    s.add(row)
    return row


def add_fact(s, *, practice_id: str = "p1", patient_id: str = "pat1", resource_type: str = "Observation",
             resource_id: str = "o1", component: int | None = None, start: datetime | None = PAST,
             value_num: float | None = None, codes=(), kind: str | None = None) -> Fact:
    """A fact with its codings, `codes` as (element, system, code) triples."""
    fact = Fact(practice_id=practice_id, patient_id=patient_id, kind=kind or SPECS[resource_type].kind,
                resource_type=resource_type, resource_id=resource_id, component=component, start=start,
                value_num=value_num)
    s.add(fact)
    s.flush()
    for element, system, code in codes:
        s.add(FactCode(fact_id=fact.id, element=element, system=system, code=code))
    return fact


def add_patient(s, rid: str, *, practice_id: str = "p1", birth_date: date | None = date(1960, 1, 1)) -> None:
    s.add(Patient(practice_id=practice_id, resource_id=rid, birth_date=birth_date))


def add_ref(s, source: str, path: str, target: str, *, practice_id: str = "p1") -> None:
    (source_type, source_id), (target_type, target_id) = source.split("/"), target.split("/")
    s.add(ResourceReference(practice_id=practice_id, source_type=source_type, source_id=source_id,
                            path=path, target_type=target_type, target_id=target_id))


def add_job(s, job_id: str, *, practice_id: str = "p1", **kw) -> None:
    s.add(ImportJob(id=job_id, practice_id=practice_id, source="ndjson", **kw))


def add_issue(s, import_id: str, message: str, **kw) -> None:
    s.add(ImportIssue(import_id=import_id, message=message, **kw))


def report(engine, practice_id: str = "p1", now: datetime = NOW) -> dict:
    with session(engine) as s:
        return practice_quality(s, practice_id, now)


def import_report(engine, import_id: str, now: datetime = NOW, **kw) -> dict:
    with session(engine) as s:
        return import_quality(s, import_id, now, **kw)


def sections(result: dict) -> dict:
    return {key: result[key] for key in EMPTY}


# ---- resources_by_type ----------------------------------------------------------------------

def test_given_old_current_and_deleted_versions_when_reporting_then_only_live_resources_count(
        engine, practice):
    with session(engine) as s:
        add_raw(s, "Observation", "o1", version=1, current=False)
        add_raw(s, "Observation", "o1", version=2)
        add_raw(s, "Observation", "o2")
        add_raw(s, "Observation", "o3", version=1, current=False)
        add_raw(s, "Observation", "o3", version=2, deleted=True)
        add_raw(s, "Patient", "pat1")
        add_raw(s, "Encounter", "e1")
        s.commit()

    assert report(engine)["resources_by_type"] == {"Encounter": 1, "Observation": 2, "Patient": 1}


# ---- coding ---------------------------------------------------------------------------------

def test_given_primary_codings_in_standard_and_local_systems_when_reporting_then_shares_per_type(
        engine, practice):
    with session(engine) as s:
        add_fact(s, resource_id="o1", value_num=1.0,
                 codes=[("code", LOINC, "4548-4"), ("code", LOCAL, "A1C"), ("category", None, "laboratory")])
        add_fact(s, resource_id="o2", codes=[("code", LOINC, "85354-9"), ("value", SNOMED, "1")])
        add_fact(s, resource_id="o2", component=0, value_num=120.0, codes=[("code", LOINC, "8480-6")])
        add_fact(s, resource_type="Condition", resource_id="c1",
                 codes=[("code", SNOMED, "44054006"), ("code", ICD10, "E11.9"), ("verification", None, "x")])
        add_fact(s, resource_type="Procedure", resource_id="pr1",
                 codes=[("code", HCPCS, "G0121"), ("code", HCPCS.replace("https", "http"), "G0105"),
                        ("code", CPT, "45378")])
        add_fact(s, resource_type="MedicationRequest", resource_id="m1",
                 codes=[("code", None, "metformin"), ("code", RXNORM, "860975"), ("intent", None, "order")])
        s.commit()

    assert report(engine)["coding"] == {
        "Condition": {"codings": 2, "standard": 2, "standard_share": 1.0,
                      "by_system": {"ICD-10-CM": 1, "SNOMED CT": 1}},
        "MedicationRequest": {"codings": 2, "standard": 1, "standard_share": 0.5,
                              "by_system": {"(no system)": 1, "RxNorm": 1}},
        "Observation": {"codings": 4, "standard": 3, "standard_share": 0.75,
                        "by_system": {"LOINC": 3, LOCAL: 1}},
        "Procedure": {"codings": 3, "standard": 3, "standard_share": 1.0,
                      "by_system": {"CPT": 1, "HCPCS": 2}},
    }


def test_given_one_standard_coding_in_three_when_reporting_then_share_is_rounded_to_three_places(
        engine, practice):
    with session(engine) as s:
        add_fact(s, resource_type="Immunization", resource_id="i1",
                 codes=[("code", STANDARD_SYSTEMS["CVX"], "140"), ("code", LOCAL, "FLU"),
                        ("code", LOCAL, "F2")])
        s.commit()

    assert report(engine)["coding"]["Immunization"] == {
        "codings": 3, "standard": 1, "standard_share": 0.333, "by_system": {"CVX": 1, LOCAL: 2}}


# ---- observations ---------------------------------------------------------------------------

def test_given_observations_with_and_without_values_when_reporting_then_only_valueless_ones_count(
        engine, practice):
    with session(engine) as s:
        add_fact(s, resource_id="o-number", value_num=7.1)
        add_fact(s, resource_id="o-coded", codes=[("code", LOINC, "x"), ("value", SNOMED, "260385009")])
        add_fact(s, resource_id="o-empty", codes=[("code", LOINC, "x")])
        add_fact(s, resource_id="o-bp")  # the values are in its components
        add_fact(s, resource_id="o-bp", component=0, value_num=120.0)
        add_fact(s, resource_id="o-bp", component=1, value_num=80.0)
        add_fact(s, resource_id="o-coded-part")
        add_fact(s, resource_id="o-coded-part", component=0, codes=[("value", SNOMED, "1")])
        add_fact(s, resource_id="o-hollow")  # components, none with a value
        add_fact(s, resource_id="o-hollow", component=0)
        add_fact(s, resource_type="Condition", resource_id="c1")
        s.commit()

    assert report(engine)["observations_without_value"] == {"count": 2, "examples": ["o-empty", "o-hollow"]}


def test_given_25_valueless_observations_when_reporting_then_20_examples_in_id_order(engine, practice):
    with session(engine) as s:
        for i in range(25):
            add_fact(s, resource_id=f"o{i:02d}", start=None)
        s.commit()

    got = report(engine)
    expected = {"count": 25, "examples": [f"o{i:02d}" for i in range(20)]}
    assert got["observations_without_value"] == expected
    assert got["observations_without_effective_time"] == expected


def test_given_observations_without_time_when_reporting_then_resources_not_components_count(engine, practice):
    with session(engine) as s:
        add_fact(s, resource_id="o1", start=None, value_num=1.0)
        add_fact(s, resource_id="o2", start=None)
        add_fact(s, resource_id="o2", component=0, start=None, value_num=1.0)
        add_fact(s, resource_id="o3", value_num=1.0)
        add_fact(s, resource_type="Condition", resource_id="c1", start=None)
        s.commit()

    assert report(engine)["observations_without_effective_time"] == {"count": 2, "examples": ["o1", "o2"]}


def test_given_mixed_case_ids_when_reporting_then_examples_are_in_code_point_order(engine, practice):
    with session(engine) as s:
        for rid in ("b1", "B2", "a3", "a-4"):
            add_fact(s, resource_id=rid)
        s.commit()

    assert report(engine)["observations_without_value"]["examples"] == ["B2", "a-4", "a3", "b1"]

# ---- patients -------------------------------------------------------------------------------

def test_given_patients_with_and_without_encounters_when_reporting_then_those_without_listed(
        engine, practice):
    with session(engine) as s:
        for rid in ("pat1", "pat2", "pat3"):
            add_patient(s, rid)
        add_fact(s, patient_id="pat1", resource_type="Encounter", resource_id="e1")
        add_fact(s, patient_id="pat2", resource_id="o1", value_num=1.0)
        s.commit()

    assert report(engine)["patients_without_encounters"] == {"count": 2, "examples": ["pat2", "pat3"]}


# ---- future dates ---------------------------------------------------------------------------

def test_given_facts_and_births_after_now_when_reporting_then_they_are_counted(engine, practice):
    later = NOW + timedelta(days=3)
    with session(engine) as s:
        add_fact(s, resource_id="o1", start=later)
        add_fact(s, resource_id="o1", component=0, start=later, value_num=1.0)
        add_fact(s, resource_id="o2", start=later + timedelta(days=1))
        add_fact(s, resource_id="o3", start=NOW)  # not after now
        add_fact(s, resource_type="Encounter", resource_id="e1", start=later)
        add_fact(s, resource_type="Condition", resource_id="c1", start=PAST)
        add_fact(s, resource_type="Condition", resource_id="c2", start=None)
        add_patient(s, "pat1", birth_date=date(2025, 6, 2))
        add_patient(s, "pat2", birth_date=NOW.date())
        add_patient(s, "pat3", birth_date=None)
        s.commit()

    assert report(engine)["future_dates"] == {
        "facts": {"count": 3, "by_type": {"Encounter": 1, "Observation": 2},
                  "examples": [{"resource": "Encounter/e1", "start": "2025-06-04T12:00:00"},
                               {"resource": "Observation/o1", "start": "2025-06-04T12:00:00"},
                               {"resource": "Observation/o2", "start": "2025-06-05T12:00:00"}]},
        "birth_dates": {"count": 1, "examples": [{"patient": "pat1", "birth_date": "2025-06-02"}]},
    }


def test_given_many_future_facts_of_one_type_when_reporting_then_examples_still_show_every_type(
        engine, practice):
    with session(engine) as s:
        for i in range(25):
            add_fact(s, resource_id=f"o{i:02d}", start=NOW + timedelta(days=1))
        add_fact(s, resource_type="Procedure", resource_id="pr1", start=NOW + timedelta(days=1))
        s.commit()

    facts = report(engine)["future_dates"]["facts"]
    assert (facts["count"], facts["by_type"]) == (26, {"Observation": 25, "Procedure": 1})
    assert [e["resource"] for e in facts["examples"]] == (
        ["Observation/o00", "Procedure/pr1"] + [f"Observation/o{i:02d}" for i in range(1, 19)])


def test_given_an_aware_now_when_reporting_then_it_is_read_as_utc(engine, practice):
    with session(engine) as s:
        add_fact(s, resource_id="o1", start=datetime(2025, 6, 1, 13, 0), value_num=1.0)
        s.commit()

    at_noon_utc = datetime(2025, 6, 1, 8, 0, tzinfo=timezone(timedelta(hours=-4)))
    assert report(engine, now=at_noon_utc)["future_dates"]["facts"]["count"] == 1
    assert report(engine, now=at_noon_utc)["generated_at"] == "2025-06-01T12:00:00"


# ---- missing references ---------------------------------------------------------------------

def test_given_references_to_absent_resources_when_reporting_then_missing_ones_listed(engine, practice):
    with session(engine) as s:
        add_patient(s, "pat1")
        add_raw(s, "Encounter", "e1")
        add_raw(s, "Medication", "med1", version=1, current=False)
        add_raw(s, "Medication", "med1", version=2, deleted=True)
        add_ref(s, "Observation/o1", "encounter", "Encounter/e1")
        add_ref(s, "Observation/o2", "encounter", "Encounter/e404")
        add_ref(s, "Procedure/pr1", "encounter", "Encounter/e404")
        add_ref(s, "MedicationRequest/m1", "medicationReference", "Medication/med1")
        add_fact(s, resource_id="o1", value_num=1.0)
        add_fact(s, patient_id="ghost", resource_id="o5")
        add_fact(s, patient_id="ghost", resource_id="o5", component=0, value_num=1.0)
        add_fact(s, patient_id="ghost", resource_id="o5", component=1, value_num=2.0)
        add_fact(s, patient_id="ghost", resource_type="Immunization", resource_id="i1")
        add_fact(s, patient_id="nobody", resource_type="Coverage", resource_id="cov1")
        s.commit()

    assert report(engine)["missing_references"] == {
        "count": 6,
        "by_type": {"Encounter": 2, "Medication": 1, "Patient": 3},
        "examples": [
            {"source": "Observation/o2", "path": "encounter", "target": "Encounter/e404"},
            {"source": "MedicationRequest/m1", "path": "medicationReference", "target": "Medication/med1"},
            {"source": "Coverage/cov1", "path": "beneficiary", "target": "Patient/nobody"},
            {"source": "Procedure/pr1", "path": "encounter", "target": "Encounter/e404"},
            {"source": "Immunization/i1", "path": "patient", "target": "Patient/ghost"},
            {"source": "Observation/o5", "path": "subject", "target": "Patient/ghost"},
        ],
    }


# ---- practice isolation ---------------------------------------------------------------------

def test_given_data_only_in_another_practice_when_reporting_then_every_section_is_empty(engine, practice):
    with session(engine) as s:
        add_practice(s, "p2")
        add_raw(s, "Observation", "o1", practice_id="p2")
        add_patient(s, "pat1", practice_id="p2", birth_date=date(2030, 1, 1))
        add_fact(s, practice_id="p2", resource_id="o1", start=None, codes=[("code", LOCAL, "x")])
        add_fact(s, practice_id="p2", patient_id="ghost", resource_id="o2", start=NOW + timedelta(days=1))
        add_ref(s, "Observation/o1", "encounter", "Encounter/e404", practice_id="p2")
        s.commit()

    assert sections(report(engine, "p1")) == EMPTY
    assert report(engine, "p2")["observations_without_value"]["count"] == 2


def test_given_same_ids_in_two_practices_when_reporting_then_nothing_resolves_across_them(engine, practice):
    with session(engine) as s:
        add_practice(s, "p2")
        add_patient(s, "pat1")
        add_fact(s, patient_id="pat9", resource_id="o1", value_num=1.0)
        add_ref(s, "Observation/o1", "encounter", "Encounter/e1")
        # p2 has the encounter, the patient pat9 and an encounter for a pat1 of its own
        add_raw(s, "Encounter", "e1", practice_id="p2")
        add_patient(s, "pat9", practice_id="p2")
        add_fact(s, practice_id="p2", patient_id="pat1", resource_type="Encounter", resource_id="e1")
        s.commit()

    got = report(engine, "p1")
    assert got["patients_without_encounters"] == {"count": 1, "examples": ["pat1"]}
    assert got["missing_references"]["by_type"] == {"Encounter": 1, "Patient": 1}
    assert got["resources_by_type"] == {}
    p2 = report(engine, "p2")
    assert p2["patients_without_encounters"] == {"count": 1, "examples": ["pat9"]}
    assert p2["missing_references"]["by_type"] == {"Patient": 1}  # e1's pat1 is p1's patient


# ---- import report --------------------------------------------------------------------------

def _two_imports(s) -> None:
    """j1 stored o1, pat1 and a first o3 (replaced by j2) and deleted o4; j2 stored o2, o3, pat2, e2."""
    add_job(s, "j1", status="completed", counts={"Observation": {"stored": 3, "unchanged": 1, "rejected": 2,
                                                                 "deleted": 1}, "Patient": {"stored": 1}},
            created_at=datetime(2025, 5, 1, 8, 0), finished_at=datetime(2025, 5, 1, 8, 5))
    add_job(s, "j2", status="running")
    for rtype, rid, job in [("Observation", "o1", "j1"), ("Observation", "o2", "j2"),
                            ("Patient", "pat1", "j1"), ("Patient", "pat2", "j2"), ("Encounter", "e2", "j2")]:
        add_raw(s, rtype, rid, import_id=job)
    add_raw(s, "Observation", "o3", version=1, current=False, import_id="j1")
    add_raw(s, "Observation", "o3", version=2, import_id="j2")
    add_raw(s, "Observation", "o4", version=1, current=False, import_id="j2")
    add_raw(s, "Observation", "o4", version=2, deleted=True, import_id="j1")
    add_patient(s, "pat1", birth_date=date(2026, 1, 1))
    add_patient(s, "pat2", birth_date=date(2027, 1, 1))
    for rid, patient in [("o1", "pat1"), ("o2", "pat2"), ("o3", "ghost")]:
        add_fact(s, patient_id=patient, resource_id=rid, start=None, codes=[("code", LOCAL, "x")])
    add_fact(s, patient_id="pat2", resource_type="Encounter", resource_id="e2", start=NOW + timedelta(days=1))
    add_ref(s, "Observation/o1", "encounter", "Encounter/e2")
    add_ref(s, "Observation/o1", "encounter[1]", "Encounter/e9")
    add_ref(s, "Observation/o2", "encounter", "Encounter/e9")
    add_issue(s, "j1", "missing status", severity="error", code="required", file="obs.ndjson", line=4,
              resource_type="Observation", resource_id="o7", path="Observation.status")
    add_issue(s, "j1", "not JSON", severity="error", code="structure", file="obs.ndjson", line=9)
    add_issue(s, "j1", "no effective time", severity="warning", code="incomplete", file="bundle.json",
              entry=2, resource_type="Observation", resource_id="o1", path="Observation.effective[x]")
    add_issue(s, "j2", "other job", file="x.ndjson", line=1)


def test_given_two_imports_when_reporting_one_then_only_resources_it_made_current_count(engine, practice):
    with session(engine) as s:
        _two_imports(s)
        s.commit()

    got = import_report(engine, "j1")

    assert json.loads(json.dumps(got)) == got
    assert {k: got[k] for k in ("import_id", "practice_id", "generated_at", "status", "source", "created_at",
                                "finished_at", "error", "counts")} == {
        "import_id": "j1", "practice_id": "p1", "generated_at": "2025-06-01T12:00:00", "status": "completed",
        "source": "ndjson", "created_at": "2025-05-01T08:00:00", "finished_at": "2025-05-01T08:05:00",
        "error": None,
        "counts": {"Observation": {"stored": 3, "unchanged": 1, "rejected": 2, "deleted": 1},
                   "Patient": {"stored": 1}}}
    assert sections(got) == {
        "resources_by_type": {"Observation": 1, "Patient": 1},
        "coding": {"Observation": {"codings": 1, "standard": 0, "standard_share": 0.0,
                                   "by_system": {LOCAL: 1}}},
        "observations_without_value": {"count": 1, "examples": ["o1"]},
        "observations_without_effective_time": {"count": 1, "examples": ["o1"]},
        "patients_without_encounters": {"count": 1, "examples": ["pat1"]},
        "future_dates": {"facts": {"count": 0, "by_type": {}, "examples": []},
                         "birth_dates": {"count": 1,
                                         "examples": [{"patient": "pat1", "birth_date": "2026-01-01"}]}},
        "time_offsets": EMPTY["time_offsets"],
        "missing_references": {"count": 1, "by_type": {"Encounter": 1}, "examples": [
            {"source": "Observation/o1", "path": "encounter[1]", "target": "Encounter/e9"}]},
    }


def test_given_two_imports_when_reporting_the_practice_then_both_count(engine, practice):
    with session(engine) as s:
        _two_imports(s)
        s.commit()

    got = report(engine)

    assert got["resources_by_type"] == {"Encounter": 1, "Observation": 3, "Patient": 2}
    assert got["observations_without_value"] == {"count": 3, "examples": ["o1", "o2", "o3"]}
    assert got["patients_without_encounters"] == {"count": 1, "examples": ["pat1"]}
    assert got["future_dates"]["facts"]["by_type"] == {"Encounter": 1}
    assert got["future_dates"]["birth_dates"]["count"] == 2
    assert got["missing_references"]["by_type"] == {"Encounter": 2, "Patient": 1}


def test_given_import_issues_when_reporting_the_import_then_counted_by_severity_and_code_with_locations(
        engine, practice):
    with session(engine) as s:
        _two_imports(s)
        s.commit()

    assert import_report(engine, "j1")["issues"] == {
        "count": 3,
        "by_severity": {"error": 2, "warning": 1},
        "by_code": {"error": {"required": 1, "structure": 1}, "warning": {"incomplete": 1}},
        "first": [
            {"severity": "error", "code": "required", "file": "obs.ndjson", "line": 4, "entry": None,
             "resource_type": "Observation", "resource_id": "o7", "path": "Observation.status",
             "message": "missing status"},
            {"severity": "error", "code": "structure", "file": "obs.ndjson", "line": 9, "entry": None,
             "resource_type": None, "resource_id": None, "path": None, "message": "not JSON"},
            {"severity": "warning", "code": "incomplete", "file": "bundle.json", "line": None, "entry": 2,
             "resource_type": "Observation", "resource_id": "o1", "path": "Observation.effective[x]",
             "message": "no effective time"},
        ],
    }


def test_given_55_issues_when_reporting_the_import_then_the_first_50_are_shown(engine, practice):
    with session(engine) as s:
        add_job(s, "j1", status="failed", error="boom")
        for line in range(1, 56):
            add_issue(s, "j1", f"bad line {line}", file="a.ndjson", line=line)
        s.commit()

    got = import_report(engine, "j1")

    assert (got["status"], got["error"], got["counts"]) == ("failed", "boom", {})
    assert got["issues"]["count"] == 55
    assert got["issues"]["by_code"] == {"error": {"invalid": 55}}
    assert [i["line"] for i in got["issues"]["first"]] == list(range(1, 51))
    assert sections(got) == EMPTY


def test_given_an_unknown_or_foreign_import_when_reporting_then_lookup_error(engine, practice):
    with session(engine) as s:
        add_practice(s, "p2")
        add_job(s, "j2", practice_id="p2")
        s.commit()

    with pytest.raises(LookupError):
        import_report(engine, "nope")
    with pytest.raises(LookupError):
        import_report(engine, "j2", practice_id="p1")
    assert import_report(engine, "j2", practice_id="p2")["practice_id"] == "p2"


def test_given_times_written_in_utc_when_reporting_then_those_on_another_local_day_are_counted(
        engine, practice, tmp_path):
    """A Chicago practice whose EHR writes `Z`: 03:00Z is the evening before in Chicago."""
    from caregaps.ingest.jobs import create_job, run_job
    from tests.builders import ndjson, observation, patient
    path = tmp_path / "obs.ndjson"
    path.write_bytes(ndjson(patient("pat1"),
                            observation("late", when="2026-03-03T03:00:00Z"),        # Mar 2 in Chicago
                            observation("noon", when="2026-03-03T18:00:00Z"),        # same day in Chicago
                            observation("local", when="2026-03-03T09:00:00-06:00"),  # Chicago's own offset
                            observation("summer", when="2026-07-03T09:00:00-06:00"),  # CDT is -05:00
                            observation("dated", when="2026-03-03")))                # no offset
    run_job(engine, create_job(engine, "p1", "cli", [(path, path.name)], False).id, workers=0)
    with session(engine) as s:
        offsets = practice_quality(s, "p1", NOW)["time_offsets"]
    assert offsets == {"count": 3, "by_offset": {"+00:00": 2, "-06:00": 1},
                       "on_another_local_day": {"count": 1, "examples": [
                           {"resource": "Observation/late", "written_day": "2026-03-03", "local_day": "2026-03-02"}]}}
