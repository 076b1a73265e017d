"""The synthetic population generator: deterministic, realistic in shape, valid FHIR R4, with
every reference resolving and codes taken from the measure value sets."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

import orjson
import pytest

from caregaps.synth import pipeline, practice_sizes, write_population
from caregaps.synth.valuesets import ValueSetError, ValueSets

VALUESETS = Path(__file__).resolve().parent.parent / "measures" / "valuesets"
EXTRACT_DATE = date(2026, 11, 15)
SHARED = ("Organization", "Practitioner")


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def ndjson_resources(folder: Path) -> list[dict]:
    return [orjson.loads(line) for path in sorted(folder.glob("*.ndjson")) for line in path.read_bytes().splitlines()]


def references(node: object) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "reference"] + \
            [r for k, v in node.items() if k != "reference" for r in references(v)]
    if isinstance(node, list):
        return [r for v in node for r in references(v)]
    return []


def patient_of(resource: dict) -> str:
    if resource["resourceType"] == "Patient":
        return resource["id"]
    holder = resource.get("subject") or resource.get("patient") or resource.get("beneficiary")
    return holder["reference"].split("/")[-1]


def age_on(birth: str, day: date) -> int:
    born = date.fromisoformat(birth)
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def value_set_codes(name: str) -> set[tuple[str, str]]:
    """(system, code) of a value set, read straight from its file."""
    for path in VALUESETS.glob("*.json"):
        document = json.loads(path.read_text())
        if document.get("name") == name:
            return {(c["system"], c["code"]) for c in document["expansion"]["contains"]}
    raise AssertionError(f"no value set {name}")


@pytest.fixture(scope="module")
def population(tmp_path_factory) -> tuple[Path, dict]:
    """300 patients in 3 practices, NDJSON, seed 42."""
    out = tmp_path_factory.mktemp("population")
    return out, write_population(out, patients=300, practices=3, seed=42, fmt="ndjson")


@pytest.fixture(scope="module")
def resources(population) -> dict[str, list[dict]]:
    """The population's resources by practice id."""
    out, summary = population
    return {p["id"]: ndjson_resources(out / p["path"]) for p in summary["practices"]}


def test_same_inputs_give_byte_identical_output(tmp_path):
    # given two runs with the same inputs, and one with another seed
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        write_population(tmp_path / name, patients=12, practices=2, seed=seed, fmt="ndjson")

    # then the first two are byte for byte the same, and the other seed differs
    assert files_of(tmp_path / "a") == files_of(tmp_path / "b")
    assert files_of(tmp_path / "a")["p1/Patient.ndjson"] != files_of(tmp_path / "c")["p1/Patient.ndjson"]


def test_bundles_are_deterministic_and_worker_processes_change_nothing(tmp_path, monkeypatch):
    # given the same bundle population generated in one process, then with a worker pool
    write_population(tmp_path / "serial", patients=8, practices=2, seed=3, fmt="bundle")
    monkeypatch.setattr(pipeline, "PARALLEL_FROM", 1)
    monkeypatch.setattr(pipeline, "_cpus", lambda: 2)
    write_population(tmp_path / "parallel", patients=8, practices=2, seed=3, fmt="bundle")

    # then the files are identical
    assert files_of(tmp_path / "serial") == files_of(tmp_path / "parallel")


def test_a_patient_does_not_depend_on_how_many_others_are_generated(tmp_path):
    # given a practice of 3 patients and the same practice with 6
    write_population(tmp_path / "small", patients=3, practices=1, seed=5, fmt="ndjson")
    write_population(tmp_path / "large", patients=6, practices=1, seed=5, fmt="ndjson")

    # then the first three patients are the same
    small = (tmp_path / "small" / "p1" / "Patient.ndjson").read_bytes().splitlines()
    large = (tmp_path / "large" / "p1" / "Patient.ndjson").read_bytes().splitlines()
    assert large[:3] == small


def test_summary_matches_the_manifest_and_the_files(population, resources):
    out, summary = population

    # then the manifest holds the summary, practices are p1.. with realistic timezones
    assert orjson.loads((out / "manifest.json").read_bytes()) == summary
    assert [p["id"] for p in summary["practices"]] == ["p1", "p2", "p3"]
    assert summary["practices"][0]["name"] == "Riverside Family Medicine"
    assert {p["timezone"] for p in summary["practices"]} <= {
        "America/Chicago", "America/New_York", "America/Denver", "America/Los_Angeles"}
    assert sum(p["patients"] for p in summary["practices"]) == 300
    # and the counts are those of the files
    counted = Counter(r["resourceType"] for rs in resources.values() for r in rs)
    assert summary["resources_by_type"] == dict(sorted(counted.items()))
    for p in summary["practices"]:
        assert p["resources"] == len(resources[p["id"]])
        assert sum(r["resourceType"] == "Patient" for r in resources[p["id"]]) == p["patients"]


def test_practice_sizes_add_up():
    assert sum(practice_sizes(1000, 7, seed=1)) == 1000
    assert practice_sizes(2, 3, seed=1).count(0) == 1


def test_patients_have_200_to_400_resources_on_average(resources):
    per_patient = Counter(patient_of(r) for rs in resources.values() for r in rs if r["resourceType"] not in SHARED)
    assert len(per_patient) == 300
    assert 200 <= sum(per_patient.values()) / len(per_patient) <= 400


def test_age_and_sex_mix_is_that_of_a_medicare_panel(resources):
    patients = [r for rs in resources.values() for r in rs if r["resourceType"] == "Patient"]
    ages = [age_on(p["birthDate"], EXTRACT_DATE) for p in patients]
    share = lambda test: sum(map(test, ages)) / len(ages)  # noqa: E731

    assert 0.08 <= share(lambda a: 40 <= a < 65) <= 0.25
    assert 0.48 <= share(lambda a: 65 <= a < 80) <= 0.72
    assert 0.15 <= share(lambda a: a >= 80) <= 0.35
    assert min(ages) >= 40 and max(ages) <= 101
    assert 0.45 <= sum(p["gender"] == "female" for p in patients) / len(patients) <= 0.65


def test_patients_carry_mbi_mrn_race_ethnicity_and_a_practice_gp(resources):
    for practice_resources in resources.values():
        practitioners = {r["id"]: r for r in practice_resources if r["resourceType"] == "Practitioner"}
        assert 3 <= len(practitioners) <= 8
        assert all(p["identifier"][0]["system"] == "http://hl7.org/fhir/sid/us-npi" for p in practitioners.values())
        for patient in (r for r in practice_resources if r["resourceType"] == "Patient"):
            systems = {i["system"] for i in patient["identifier"]}
            assert "http://hl7.org/fhir/sid/us-mbi" in systems and len(systems) == 2
            urls = {e["url"].rsplit("/", 1)[-1] for e in patient["extension"]}
            assert {"us-core-race", "us-core-ethnicity"} <= urls
            assert patient["generalPractitioner"][0]["reference"].removeprefix("Practitioner/") in practitioners


def test_every_reference_resolves_within_the_practice(resources):
    for practice_resources in resources.values():
        known = {f"{r['resourceType']}/{r['id']}" for r in practice_resources}
        unresolved = [ref for r in practice_resources for ref in references(r) if ref not in known]
        assert unresolved == []


def test_chronic_conditions_have_realistic_prevalence(resources):
    problems: dict[str, set[str]] = {}
    for r in (r for rs in resources.values() for r in rs if r["resourceType"] == "Condition"):
        if r["category"][0]["coding"][0]["code"] == "problem-list-item":
            problems.setdefault(patient_of(r), set()).add(r["code"]["coding"][0]["code"])
    share = lambda test: sum(1 for codes in problems.values() if any(map(test, codes))) / 300  # noqa: E731

    assert 0.45 <= share(lambda c: c == "I10") <= 0.75
    assert 0.17 <= share(lambda c: c.startswith("E11")) <= 0.37
    assert 0.03 <= share(lambda c: c in ("F03.90", "G30.9")) <= 0.15


def test_conditions_are_active_confirmed_and_dual_coded(resources):
    conditions = [r for rs in resources.values() for r in rs if r["resourceType"] == "Condition"]
    for condition in conditions:
        systems = [c["system"] for c in condition["code"]["coding"]]
        assert systems == ["http://hl7.org/fhir/sid/icd-10-cm", "http://snomed.info/sct"]
        assert condition["verificationStatus"]["coding"][0]["code"] == "confirmed"
        category = condition["category"][0]["coding"][0]["code"]
        assert category in ("problem-list-item", "encounter-diagnosis")
        if category == "problem-list-item":
            assert condition["clinicalStatus"]["coding"][0]["code"] == "active"


def test_diabetes_conditions_use_codes_of_the_diabetes_value_set(resources):
    diabetes = value_set_codes("Diabetes")
    conditions = [r for rs in resources.values() for r in rs if r["resourceType"] == "Condition"
                  and r["code"]["coding"][0]["code"].startswith("E11")]
    assert len(conditions) > 50
    for condition in conditions:
        assert {(c["system"], c["code"]) for c in condition["code"]["coding"]} <= diabetes


def test_measure_events_use_value_set_codes(resources):
    # given the codes of every Encounter type, HbA1c test and mammogram
    all_resources = [r for rs in resources.values() for r in rs]
    encounter_codes = {(c["system"], c["code"]) for r in all_resources if r["resourceType"] == "Encounter"
                       for t in r["type"] for c in t["coding"]}
    office, wellness = value_set_codes("OfficeVisit"), value_set_codes("AnnualWellnessVisit")

    # then there are office and wellness visits coded from their value sets
    assert encounter_codes & office and encounter_codes & wellness
    hba1c = value_set_codes("HbA1cLaboratoryTest")
    results = [r for r in all_resources if r["resourceType"] == "Observation"
               and (r["code"]["coding"][0]["system"], r["code"]["coding"][0]["code"]) in hba1c]
    assert results and all(r["valueQuantity"]["unit"] == "%" for r in results)
    mammography = value_set_codes("Mammography")
    assert any((r["code"]["coding"][0]["system"], r["code"]["coding"][0]["code"]) in mammography
               for r in all_resources if r["resourceType"] == "DiagnosticReport")


def test_observations_are_final_categorized_and_carry_an_offset(resources):
    observations = [r for rs in resources.values() for r in rs if r["resourceType"] == "Observation"]
    for observation in observations:
        assert observation["status"] == "final"
        assert observation["category"][0]["coding"][0]["code"] in ("vital-signs", "laboratory", "survey", "imaging")
        assert observation["effectiveDateTime"][-6] in "+-"
    pressures = [o for o in observations if o["code"]["coding"][0]["code"] == "85354-9"]
    assert pressures
    assert {c["code"]["coding"][0]["code"] for c in pressures[0]["component"]} == {"8480-6", "8462-4"}


def test_every_resource_is_valid_fhir_r4(tmp_path):
    from fhir.resources.R4B import get_fhir_model_class

    # given 5 patients in both formats
    write_population(tmp_path / "ndjson", patients=5, practices=1, seed=11, fmt="ndjson")
    write_population(tmp_path / "bundle", patients=5, practices=1, seed=11, fmt="bundle")

    # then every resource, and every Bundle, validates
    for resource in ndjson_resources(tmp_path / "ndjson" / "p1"):
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    for path in (tmp_path / "bundle" / "p1").glob("*.json"):
        get_fhir_model_class("Bundle").model_validate(orjson.loads(path.read_bytes()))


def test_bundles_are_transactions_with_urn_uuid_references(tmp_path):
    # given the same 4 patients as bundles and as NDJSON
    write_population(tmp_path / "bundle", patients=4, practices=1, seed=9, fmt="bundle")
    write_population(tmp_path / "ndjson", patients=4, practices=1, seed=9, fmt="ndjson")
    folder = tmp_path / "bundle" / "p1"
    shared = orjson.loads((folder / "practice.json").read_bytes())
    shared_refs = {e["request"]["url"] for e in shared["entry"]}
    assert {e["resource"]["resourceType"] for e in shared["entry"]} == set(SHARED)

    resolved = []
    patient_files = [p for p in folder.glob("*.json") if p.name != "practice.json"]
    assert len(patient_files) == 4
    for path in patient_files:
        bundle = orjson.loads(path.read_bytes())
        assert bundle["resourceType"] == "Bundle" and bundle["type"] == "transaction"
        local = {}
        for entry in bundle["entry"]:
            resource = entry["resource"]
            assert entry["fullUrl"] == f"urn:uuid:{resource['id']}"
            assert entry["request"] == {"method": "PUT", "url": f"{resource['resourceType']}/{resource['id']}"}
            local[entry["fullUrl"]] = entry["request"]["url"]
        patient = bundle["entry"][0]["resource"]
        assert patient["resourceType"] == "Patient" and path.name == f"{patient['id']}.json"
        for entry in bundle["entry"][1:]:
            subject = entry["resource"].get("subject") or entry["resource"].get("patient") or \
                entry["resource"]["beneficiary"]
            assert subject["reference"] == f"urn:uuid:{patient['id']}"
        for ref in references(bundle):
            assert ref in local or ref in shared_refs
        text = path.read_text()
        for full_url, type_and_id in local.items():  # the NDJSON form of the same resources
            text = text.replace(f'"reference":"{full_url}"', f'"reference":"{type_and_id}"')
        resolved += [e["resource"] for e in json.loads(text)["entry"]]

    # then, with urn:uuid references resolved, they are the NDJSON resources
    ndjson = [r for r in ndjson_resources(tmp_path / "ndjson" / "p1") if r["resourceType"] not in SHARED]
    key = lambda r: (r["resourceType"], r["id"])  # noqa: E731
    assert sorted(resolved, key=key) == sorted(ndjson, key=key)


def test_output_folder_must_be_empty_and_format_known(tmp_path):
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "file.txt").write_text("x")
    with pytest.raises(FileExistsError):
        write_population(tmp_path / "used", patients=1, practices=1, seed=1, fmt="ndjson")
    with pytest.raises(ValueError):
        write_population(tmp_path / "new", patients=1, practices=1, seed=1, fmt="xml")


def test_missing_value_sets_are_a_clear_error(tmp_path):
    with pytest.raises(ValueSetError, match="value set folder"):
        ValueSets(tmp_path / "nowhere")
    with pytest.raises(ValueSetError, match="not in value set"):
        ValueSets(VALUESETS).coding("Diabetes", "I10")
