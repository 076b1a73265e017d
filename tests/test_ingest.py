"""Import jobs end to end on a real database: what is stored, unchanged, replaced, removed,
and what is rejected with which words."""

from __future__ import annotations

import gzip

import orjson
import pytest
from sqlmodel import func, select

from caregaps.db import session
from caregaps.ingest.jobs import create_job, run_job
from caregaps.models import Fact, FactCode, ImportIssue, Patient, RawResource, ResourceReference
from tests.builders import condition, encounter, ndjson, observation, patient


def ingest(engine, tmp_path, name: str, data: bytes, strict: bool = False, batch_size: int = 2000):
    path = tmp_path / name
    path.write_bytes(data)
    job = create_job(engine, "p1", "cli", [(path, name)], strict)
    return run_job(engine, job.id, batch_size)


def issues(engine, job):
    with session(engine) as s:
        return s.exec(select(ImportIssue).where(ImportIssue.import_id == job.id).order_by(ImportIssue.id)).all()


def count(engine, model, *where) -> int:
    with session(engine) as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def test_given_ndjson_export_when_ingested_then_raw_facts_patients_and_counts_are_stored(engine, practice, tmp_path):
    data = ndjson(patient(), observation("o1"), condition("c1"), encounter("e1"),
                  {"resourceType": "Practitioner", "id": "dr1"})
    job = ingest(engine, tmp_path, "export.ndjson", data)
    assert job.status == "completed"
    assert job.counts["Observation"]["stored"] == 1 and job.counts["Practitioner"]["stored"] == 1
    assert count(engine, RawResource) == 5
    with session(engine) as s:
        fact = s.exec(select(Fact).where(Fact.resource_id == "o1")).one()
        codes = s.exec(select(FactCode.element, FactCode.system, FactCode.code).where(FactCode.fact_id == fact.id)).all()
        pat = s.exec(select(Patient)).one()
    assert (fact.patient_id, fact.value_num, fact.value_unit, fact.status) == ("pat1", 9.4, "%", "final")
    assert fact.start.isoformat() == "2026-03-02T15:00:00"  # -05:00 offset, stored as UTC
    assert codes == [("code", "http://loinc.org", "4548-4")]
    assert (pat.resource_id, pat.gender, str(pat.birth_date)) == ("pat1", "female", "1950-03-04")


def test_given_blood_pressure_with_components_when_ingested_then_each_component_is_a_fact(engine, practice, tmp_path):
    bp = observation("bp1", code="85354-9", value=None, component=[
        {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]}, "valueQuantity": {"value": 150, "code": "mm[Hg]"}},
        {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]}, "valueQuantity": {"value": 95, "code": "mm[Hg]"}}])
    ingest(engine, tmp_path, "bp.ndjson", ndjson(patient(), bp))
    with session(engine) as s:
        rows = s.exec(select(Fact.component, Fact.value_num).where(Fact.resource_id == "bp1").order_by(Fact.id)).all()
    assert rows == [(None, None), (0, 150.0), (1, 95.0)]


def test_given_same_export_twice_when_reingested_then_everything_is_unchanged(engine, practice, tmp_path):
    data = ndjson(patient(), observation("o1"), condition("c1"))
    ingest(engine, tmp_path, "a.ndjson", data)
    again = ingest(engine, tmp_path, "a.ndjson", data)
    assert {t: c.get("unchanged") for t, c in again.counts.items()} == {"Patient": 1, "Observation": 1, "Condition": 1}
    assert all(c.get("stored", 0) == 0 for c in again.counts.values())
    assert count(engine, RawResource) == 3 and count(engine, Fact) == 2


def test_given_newer_version_when_ingested_then_it_replaces_the_old_facts(engine, practice, tmp_path):
    ingest(engine, tmp_path, "a.ndjson", ndjson(patient(), observation("o1", value=9.4)))
    ingest(engine, tmp_path, "b.ndjson", ndjson(observation("o1", value=7.1)))
    with session(engine) as s:
        versions = s.exec(select(RawResource.version, RawResource.is_current)
                          .where(RawResource.resource_id == "o1").order_by(RawResource.version)).all()
        values = s.exec(select(Fact.value_num).where(Fact.resource_id == "o1")).all()
    assert versions == [(1, False), (2, True)]
    assert values == [7.1]


def test_given_entered_in_error_when_ingested_then_facts_go_and_raw_history_stays(engine, practice, tmp_path):
    ingest(engine, tmp_path, "a.ndjson", ndjson(patient(), observation("o1")))
    ingest(engine, tmp_path, "b.ndjson", ndjson(observation("o1", status="entered-in-error")))
    assert count(engine, Fact, Fact.resource_id == "o1") == 0
    assert count(engine, RawResource, RawResource.resource_id == "o1") == 2


def test_given_bundle_delete_entry_when_ingested_then_facts_are_removed(engine, practice, tmp_path):
    ingest(engine, tmp_path, "a.ndjson", ndjson(patient(), observation("o1")))
    doc = {"resourceType": "Bundle", "type": "transaction",
           "entry": [{"request": {"method": "DELETE", "url": "Observation/o1"}}]}
    job = ingest(engine, tmp_path, "del.json", orjson.dumps(doc))
    assert job.counts["Observation"]["deleted"] == 1
    assert count(engine, Fact, Fact.resource_id == "o1") == 0
    with session(engine) as s:
        current = s.exec(select(RawResource).where(RawResource.resource_id == "o1", RawResource.is_current.is_(True))).one()
    assert current.deleted and current.body is None and current.version == 2


def test_given_bundle_with_urn_uuid_references_when_ingested_then_they_resolve(engine, practice, tmp_path):
    doc = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:aaaaaaaa-0000-0000-0000-000000000001",
         "resource": {"resourceType": "Patient", "gender": "male"}, "request": {"method": "POST", "url": "Patient"}},
        {"fullUrl": "urn:uuid:aaaaaaaa-0000-0000-0000-000000000002",
         "resource": observation("o1", subject={"reference": "urn:uuid:aaaaaaaa-0000-0000-0000-000000000001"},
                                 encounter={"reference": "urn:uuid:aaaaaaaa-0000-0000-0000-000000000003"}),
         "request": {"method": "POST", "url": "Observation"}},
        {"fullUrl": "urn:uuid:aaaaaaaa-0000-0000-0000-000000000003",
         "resource": encounter("e1", pid="x", subject={"reference": "urn:uuid:aaaaaaaa-0000-0000-0000-000000000001"}),
         "request": {"method": "POST", "url": "Encounter"}}]}
    ingest(engine, tmp_path, "b.json", orjson.dumps(doc))
    with session(engine) as s:
        patients = s.exec(select(Fact.patient_id).distinct()).all()
        ref = s.exec(select(ResourceReference.target_type, ResourceReference.target_id)).one()
    assert patients == ["aaaaaaaa-0000-0000-0000-000000000001"]
    assert tuple(ref) == ("Encounter", "e1")


def test_given_a_patient_bundle_when_a_resource_names_no_patient_then_it_is_the_bundle_patient_with_a_warning(
        engine, practice, tmp_path):
    unowned = {k: v for k, v in observation("o1").items() if k != "subject"}
    communication = {"resourceType": "Communication", "id": "m1", "status": "not-done",
                     "category": [{"coding": [{"system": "http://snomed.info/sct", "code": "312912001"}]}],
                     "statusReason": {"coding": [{"system": "http://snomed.info/sct", "code": "183932001"}]},
                     "sent": "2026-07-09T08:00:00Z"}
    doc = {"resourceType": "Bundle", "type": "collection",
           "entry": [{"resource": r} for r in (patient(), unowned, communication)]}
    job = ingest(engine, tmp_path, "record.json", orjson.dumps(doc))
    assert job.counts["Observation"]["stored"] == 1 and job.counts["Communication"]["stored"] == 1
    found = issues(engine, job)
    assert [(i.severity, i.resource_id, i.path) for i in found] == [
        ("warning", "o1", "Observation.subject"), ("warning", "m1", "Communication.subject")]
    assert "read as the Patient/" in found[0].message and "its only Patient" in found[0].message
    with session(engine) as s:
        owners = set(s.exec(select(Fact.patient_id).where(Fact.resource_id.in_(["o1", "m1"]))).all())
        codes = set(s.exec(select(FactCode.element, FactCode.code).join(Fact, Fact.id == FactCode.fact_id)
                           .where(Fact.resource_id == "m1")).all())
    assert owners == {patient()["id"]}
    assert codes == {("code", "312912001"), ("status-reason", "183932001")}  # a Communication's code is its category


def test_given_a_bundle_of_two_patients_when_a_resource_names_no_patient_then_it_is_rejected(engine, practice, tmp_path):
    unowned = {k: v for k, v in observation("o1").items() if k != "subject"}
    doc = {"resourceType": "Bundle", "type": "collection",
           "entry": [{"resource": r} for r in (patient(), {**patient(), "id": "other"}, unowned)]}
    job = ingest(engine, tmp_path, "two.json", orjson.dumps(doc))
    assert job.counts["Observation"].get("stored", 0) == 0
    assert [(i.severity, i.path) for i in issues(engine, job)] == [("error", "Observation.subject")]


@pytest.mark.parametrize("resource, path, words", [
    (observation("o9", when="2026-02-30"), "Observation.effectiveDateTime", "not a valid date"),
    ({**observation("o9"), "subject": None}, "Observation.subject", "missing subject"),
    (observation("o9", valueQuantity={"value": "high"}), "Observation.valueQuantity.value", "must be a number"),
    ({k: v for k, v in observation("o9").items() if k != "code"}, "Observation.code", "missing code"),
    (observation("o9", subject={"reference": "Group/g1"}), "Observation.subject.reference", "must reference a Patient"),
    (encounter("e9", **{"class": [{"coding": [{"code": "AMB"}]}]}), "Encounter.class", "not FHIR R4"),
    ({"resourceType": "Medication"}, "Medication.id", "missing id"),
    ({"resourceType": "Observatoin", "id": "x"}, "resourceType", "not a FHIR R4 resource type"),
    ({"id": "x"}, "resourceType", "missing resourceType"),
])
def test_given_a_bad_resource_when_ingested_then_it_alone_is_rejected_with_place_and_path(
        engine, practice, tmp_path, resource, path, words):
    job = ingest(engine, tmp_path, "mixed.ndjson", ndjson(patient(), resource, observation("o2")))
    [issue] = issues(engine, job)
    assert (issue.file, issue.line, issue.path, issue.severity) == ("mixed.ndjson", 2, path, "error")
    assert words in issue.message
    assert count(engine, RawResource) == 2  # the good ones before and after are stored


def test_given_malformed_json_line_when_ingested_then_file_and_line_are_named(engine, practice, tmp_path):
    job = ingest(engine, tmp_path, "x.ndjson", ndjson(patient()) + b"{not json\n" + ndjson(observation("o1")))
    [issue] = issues(engine, job)
    assert (issue.line, issue.code) == (2, "structure") and "malformed JSON" in issue.message
    assert job.counts["unknown"]["rejected"] == 1 and job.counts["Observation"]["stored"] == 1


def test_given_truncated_gzip_when_ingested_then_lines_before_the_cut_are_kept(engine, practice, tmp_path):
    lines = ndjson(patient(), *[observation(f"o{i}") for i in range(200)])
    job = ingest(engine, tmp_path, "cut.ndjson.gz", gzip.compress(lines)[:-30])
    [issue] = issues(engine, job)
    assert issue.code == "incomplete" and "truncated" in issue.message
    assert count(engine, RawResource) >= 150


def test_given_strict_mode_when_an_element_is_invalid_then_full_validation_rejects_it(engine, practice, tmp_path):
    bad = observation("o1", issued="yesterday")  # the fast path does not read Observation.issued
    job = ingest(engine, tmp_path, "s.ndjson", ndjson(patient(), bad), strict=True)
    [issue] = issues(engine, job)
    assert issue.resource_id == "o1" and issue.path.startswith("Observation.issued")
    lenient = ingest(engine, tmp_path, "s.ndjson", ndjson(patient(), bad))
    assert lenient.counts["Observation"].get("stored") == 1


def test_given_job_killed_after_first_batch_when_rerun_then_it_completes(engine, practice, tmp_path):
    path = tmp_path / "big.ndjson"
    path.write_bytes(ndjson(patient(), *[observation(f"o{i}") for i in range(25)]))
    job = create_job(engine, "p1", "cli", [(path, "big.ndjson")])
    from caregaps.ingest import jobs as jobs_module

    calls = {"n": 0}
    real = jobs_module.BatchWriter.write

    def dies_on_third_batch(self, items):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("killed")
        return real(self, items)

    jobs_module.BatchWriter.write = dies_on_third_batch
    try:
        with pytest.raises(KeyboardInterrupt):
            run_job(engine, job.id, batch_size=10)
    finally:
        jobs_module.BatchWriter.write = real
    assert count(engine, RawResource) == 20  # two whole batches, nothing half-written
    done = run_job(engine, job.id, batch_size=10)
    assert done.status == "completed" and count(engine, RawResource) == 26
    assert sum(c.get("stored", 0) for c in done.counts.values()) == 26


def test_given_patient_with_general_practitioner_when_ingested_then_the_reference_is_recorded(engine, practice, tmp_path):
    ingest(engine, tmp_path, "p.ndjson", ndjson(patient(generalPractitioner=[{"reference": "Practitioner/dr7"}])))
    with session(engine) as s:
        ref = s.exec(select(ResourceReference.path, ResourceReference.target_type, ResourceReference.target_id)).one()
        gp = s.exec(select(Patient.general_practitioner)).one()
    assert tuple(ref) == ("generalPractitioner", "Practitioner", "dr7") and gp == "Practitioner/dr7"


def test_given_large_ndjson_when_checked_by_worker_processes_then_outcomes_match_in_process(
        engine, practice, tmp_path, monkeypatch):
    from caregaps.ingest import workers

    monkeypatch.setattr(workers, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(workers, "CHUNK_LINES", 40)
    lines = ndjson(patient(), *[observation(f"o{i}") for i in range(150)]) + b"{broken\n" + ndjson(
        observation("late", when="2026-02-30"), observation("o0"))
    path = tmp_path / "big.ndjson.gz"
    path.write_bytes(gzip.compress(lines)[:-4])  # also cut the gzip trailer
    job = create_job(engine, "p1", "cli", [(path, "big.ndjson.gz")])
    done = run_job(engine, job.id, batch_size=64, workers=1)
    found = [(i.line, i.code) for i in issues(engine, done)]
    assert found[:2] == [(152, "structure"), (153, "value")]
    assert done.counts["Observation"]["stored"] == 150 and done.counts["Patient"]["stored"] == 1
    assert count(engine, Fact, Fact.resource_id == "o149") == 1


def test_given_two_large_files_when_one_worker_pool_checks_both_then_each_problem_names_its_own_file(
        engine, practice, tmp_path, monkeypatch):
    from caregaps.ingest import workers

    monkeypatch.setattr(workers, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(workers, "CHUNK_LINES", 25)
    first = tmp_path / "a.ndjson"
    first.write_bytes(ndjson(patient(), *[observation(f"a{i}") for i in range(60)]) + b"{broken\n")
    second = tmp_path / "b.ndjson"
    second.write_bytes(ndjson(*[condition(f"c{i}") for i in range(40)], observation("bad", when="2026-13-01")))
    job = create_job(engine, "p1", "cli", [(first, "a.ndjson"), (second, "b.ndjson")])
    done = run_job(engine, job.id, batch_size=16, workers=1)
    assert [(i.file, i.line) for i in issues(engine, done)] == [("a.ndjson", 62), ("b.ndjson", 41)]
    assert done.counts["Observation"]["stored"] == 60 and done.counts["Condition"]["stored"] == 40
    assert [f["done"] for f in done.files] == [62, 41]


def test_given_a_bulk_load_connection_when_the_import_ends_then_the_pooled_connection_gets_its_settings_back(engine):
    from caregaps.ingest.bulk import LOAD_CACHE_KIB, load_connection

    if engine.dialect.name != "sqlite":
        pytest.skip("page cache and WAL checkpoints are SQLite settings")

    def settings(conn):
        raw = conn.connection.dbapi_connection
        return raw.execute("PRAGMA cache_size").fetchone()[0], raw.execute("PRAGMA wal_autocheckpoint").fetchone()[0]

    with engine.connect() as conn:
        before = settings(conn)
    with load_connection(engine) as conn:
        during = settings(conn)
    with engine.connect() as conn:  # the same pooled connection again
        after = settings(conn)
    assert during[0] == -LOAD_CACHE_KIB and during[1] > before[1]
    assert after == before
