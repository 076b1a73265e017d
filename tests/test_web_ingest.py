"""The web app end to end on a real database: POST /fhir Bundles, the async $import with its
manifest and error NDJSON, resuming unfinished imports at start, authentication, body limits,
and the JSON API and home page."""

from __future__ import annotations

import gzip
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import func, select

from caregaps.config import Settings, get_settings
from caregaps.db import session
from caregaps.ingest.jobs import create_job
from caregaps.models import Fact, FactCode, ImportIssue, ImportJob, Patient, RawResource, ResourceReference
from caregaps.practices import add_practice, create_token, revoke_token
from caregaps.web.app import create_app

FHIR_JSON = "application/fhir+json"
PAT_URN = "urn:uuid:3f2a5c1e-0b7d-4e59-9a51-6d1c2b8e7f00"
OBS_URN = "urn:uuid:9c4e1a7b-2d3f-4b8a-8e6c-1f0a2b3c4d5e"


# ---- builders -------------------------------------------------------------------------------

def patient(pid: str | None = "pat1", **kw) -> dict:
    resource = {"resourceType": "Patient", "gender": "female", "birthDate": "1950-03-04", **kw}
    if pid is not None:
        resource["id"] = pid
    return resource


def observation(oid: str | None = "o1", subject: str | None = "Patient/pat1", value: object = 9.4,
                when: str = "2026-03-02T10:00:00-05:00", **kw) -> dict:
    resource = {"resourceType": "Observation", "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]},
                "effectiveDateTime": when}
    if oid is not None:
        resource["id"] = oid
    if subject is not None:
        resource["subject"] = {"reference": subject}
    if value is not None:
        resource["valueQuantity"] = {"value": value, "unit": "%", "code": "%"}
    return {**resource, **kw}


def entry(resource: dict, full_url: str | None = None, method: str | None = None) -> dict:
    item = {"fullUrl": full_url or f"{resource['resourceType']}/{resource['id']}", "resource": resource}
    if method:
        url = resource["resourceType"] + (f"/{resource['id']}" if method == "PUT" else "")
        item["request"] = {"method": method, "url": url}
    return item


def delete_entry(rtype: str, rid: str) -> dict:
    return {"request": {"method": "DELETE", "url": f"{rtype}/{rid}"}}


def bundle(kind: str, *entries: dict) -> dict:
    return {"resourceType": "Bundle", "type": kind, "entry": list(entries)}


def resources_bundle(kind: str, *resources: dict) -> dict:
    return bundle(kind, *(entry(r, method="PUT" if kind in ("transaction", "batch") else None)
                          for r in resources))


def ndjson(*lines: dict | bytes) -> bytes:
    return b"".join((line if isinstance(line, bytes) else orjson.dumps(line)) + b"\n" for line in lines)


# ---- the app --------------------------------------------------------------------------------

@dataclass
class Server:
    client: TestClient
    engine: Engine
    settings: Settings
    token: str  # practice p1
    other_token: str  # practice p2

    def headers(self, token: str | None = None, **extra) -> dict:
        return {"Authorization": f"Bearer {token or self.token}", **extra}

    def post_bundle(self, document: dict, token: str | None = None):
        return self.client.post("/fhir", content=orjson.dumps(document),
                                headers=self.headers(token, **{"Content-Type": FHIR_JSON}))

    def start_import(self, files: list[tuple[str, bytes]], token: str | None = None):
        parts = [("file", (name, data, "application/fhir+ndjson")) for name, data in files]
        return self.client.post("/fhir/$import", files=parts, headers=self.headers(token))

    def poll(self, url: str, token: str | None = None, timeout: float = 10.0):
        """GET the status URL until it is no longer 202 (or `timeout` seconds have passed)."""
        deadline = time.monotonic() + timeout
        while True:
            response = self.client.get(url, headers=self.headers(token))
            if response.status_code != 202 or time.monotonic() > deadline:
                return response
            time.sleep(0.02)

    def import_done(self, files: list[tuple[str, bytes]]) -> tuple[str, dict]:
        """Start an import, wait for it, and return its status URL and manifest."""
        started = self.start_import(files)
        assert started.status_code == 202, started.text
        url = started.headers["Content-Location"]
        done = self.poll(url)
        assert done.status_code == 200, done.text
        return url, done.json()


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return get_settings(database_url=database_url, data_dir=tmp_path / "var", max_request_bytes=1_000_000,
                        strict_validation=False, ingest_batch_size=2000)


@pytest.fixture
def tokens(engine) -> tuple[str, str]:
    """Practices p1 and p2, each with a live token."""
    add_practice(engine, "p1", "Riverside Family Medicine", "America/Chicago")
    add_practice(engine, "p2", "Lakeside Clinic", "America/New_York")
    return create_token(engine, "p1", "test"), create_token(engine, "p2", "test")


@contextmanager
def serve(settings: Settings):
    with TestClient(create_app(settings)) as client:  # as a context manager: the lifespan runs
        yield client


@pytest.fixture
def server(engine, settings, tokens):
    with serve(settings) as client:
        yield Server(client, engine, settings, *tokens)


# ---- database helpers -----------------------------------------------------------------------

def count(engine, model, *where) -> int:
    with session(engine) as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def versions(engine, rtype: str, rid: str, practice_id: str = "p1") -> list[tuple]:
    """(version, is_current, deleted, has body) of every stored version of a resource."""
    with session(engine) as s:
        rows = s.exec(select(RawResource).where(
            RawResource.practice_id == practice_id, RawResource.resource_type == rtype,
            RawResource.resource_id == rid).order_by(RawResource.version)).all()
    return [(r.version, r.is_current, r.deleted, r.body is not None) for r in rows]


def fact_values(engine, rid: str, practice_id: str = "p1") -> list[tuple]:
    with session(engine) as s:
        return s.exec(select(Fact.patient_id, Fact.value_num).where(
            Fact.practice_id == practice_id, Fact.resource_id == rid).order_by(Fact.id)).all()


def current_ids(engine, practice_id: str = "p1") -> set[tuple[str, str]]:
    with session(engine) as s:
        return set(s.exec(select(RawResource.resource_type, RawResource.resource_id).where(
            RawResource.practice_id == practice_id, RawResource.is_current.is_(True),
            RawResource.deleted.is_(False))).all())


def only_issue(outcome: dict) -> dict:
    assert outcome["resourceType"] == "OperationOutcome"
    assert len(outcome["issue"]) == 1, outcome
    return outcome["issue"][0]


def fhir_error(response, status: int) -> dict:
    """The single issue of an OperationOutcome error response with `status`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(FHIR_JSON)
    issue = only_issue(response.json())
    assert issue["severity"] == "error"
    return issue


# ---- POST /fhir: Bundle types ---------------------------------------------------------------

def test_given_transaction_with_urn_uuid_references_when_posted_then_entries_are_created_and_resolved(server):
    pid, oid = PAT_URN.removeprefix("urn:uuid:"), OBS_URN.removeprefix("urn:uuid:")
    document = bundle("transaction",
                      {"fullUrl": PAT_URN, "resource": patient(None), "request": {"method": "POST", "url": "Patient"}},
                      {"fullUrl": OBS_URN, "resource": observation(None, subject=PAT_URN),
                       "request": {"method": "POST", "url": "Observation"}})

    response = server.post_bundle(document)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(FHIR_JSON)
    body = response.json()
    assert (body["resourceType"], body["type"]) == ("Bundle", "transaction-response")
    assert body["entry"] == [{"response": {"status": "201 Created", "location": f"Patient/{pid}"}},
                             {"response": {"status": "201 Created", "location": f"Observation/{oid}"}}]
    assert fact_values(server.engine, oid) == [(pid, 9.4)]
    with session(server.engine) as s:
        assert s.exec(select(Patient.resource_id).where(Patient.practice_id == "p1")).all() == [pid]
        stored = s.exec(select(RawResource.body).where(RawResource.resource_id == oid)).one()
    assert orjson.loads(stored)["subject"] == {"reference": f"Patient/{pid}"}


def test_given_batch_when_posted_then_batch_response_has_one_entry_per_request_in_order(server):
    response = server.post_bundle(resources_bundle("batch", observation("o1"), patient("pat1"),
                                                   observation("o2", value=7.0)))

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == "batch-response"
    assert body["entry"] == [{"response": {"status": "201 Created", "location": "Observation/o1"}},
                             {"response": {"status": "201 Created", "location": "Patient/pat1"}},
                             {"response": {"status": "201 Created", "location": "Observation/o2"}}]
    assert current_ids(server.engine) == {("Observation", "o1"), ("Observation", "o2"), ("Patient", "pat1")}


def test_given_collection_bundle_when_posted_then_outcome_summarises_counts_and_names_problems(server):
    document = resources_bundle("collection", patient("pat1"), observation("o1"),
                                observation("o2", when="yesterday"))

    response = server.post_bundle(document)

    assert response.status_code == 200, response.text
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    summary, problem = outcome["issue"]
    assert summary == {"severity": "information", "code": "informational",
                       "diagnostics": "processed Observation: 1 created, 1 rejected; Patient: 1 created"}
    assert problem["severity"] == "error" and problem["code"] == "value"
    assert problem["diagnostics"].startswith("request entry 2: Observation/o2: 'yesterday' is not a FHIR date/time")
    assert problem["expression"] == ["Observation.effectiveDateTime"]
    assert current_ids(server.engine) == {("Observation", "o1"), ("Patient", "pat1")}


# ---- POST /fhir: a bad entry among good ones -------------------------------------------------

@pytest.mark.parametrize("kind", ["transaction", "batch"])
def test_given_bad_entries_among_good_ones_when_posted_then_only_the_bad_ones_are_rejected(server, kind):
    document = resources_bundle(kind, patient("pat1"), observation("o1"),
                                observation("o2", when="yesterday"),
                                observation("o3", subject=None),
                                observation("o4", value="9.4"),
                                observation("o5", value=6.2))

    response = server.post_bundle(document)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == f"{kind}-response"
    responses = [e["response"] for e in body["entry"]]
    assert [r["status"] for r in responses] == ["201 Created", "201 Created", "400 Bad Request",
                                                "400 Bad Request", "400 Bad Request", "201 Created"]
    assert [r.get("location") for r in responses] == ["Patient/pat1", "Observation/o1", None, None, None,
                                                      "Observation/o5"]
    bad = [only_issue(r["outcome"]) for r in responses[2:5]]
    assert [(i["severity"], i["code"], i["expression"]) for i in bad] == [
        ("error", "value", ["Observation.effectiveDateTime"]),
        ("error", "required", ["Observation.subject"]),
        ("error", "value", ["Observation.valueQuantity.value"])]
    assert bad[0]["diagnostics"].startswith("request entry 2: Observation/o2: 'yesterday' is not a FHIR date/time")
    assert bad[1]["diagnostics"] == ("request entry 3: Observation/o3: missing subject: the resource must "
                                     "reference its Patient")
    assert bad[2]["diagnostics"] == "request entry 4: Observation/o4: value must be a number, got '9.4'"
    # the good entries are stored, the bad ones are not, and the rejections are recorded
    assert current_ids(server.engine) == {("Patient", "pat1"), ("Observation", "o1"), ("Observation", "o5")}
    assert fact_values(server.engine, "o1") == [("pat1", 9.4)]
    assert fact_values(server.engine, "o5") == [("pat1", 6.2)]
    assert count(server.engine, Fact) == 2
    with session(server.engine) as s:
        issues = s.exec(select(ImportIssue.entry, ImportIssue.resource_id, ImportIssue.path)
                        .order_by(ImportIssue.id)).all()
    assert issues == [(2, "o2", "Observation.effectiveDateTime"), (3, "o3", "Observation.subject"),
                      (4, "o4", "Observation.valueQuantity.value")]


def test_given_reference_to_urn_uuid_not_in_the_bundle_when_posted_then_the_entry_is_rejected(server):
    document = bundle("batch", entry(observation("o1", subject="urn:uuid:0000aaaa-0000-0000-0000-000000000000"),
                                     method="PUT"))

    response = server.post_bundle(document)

    issue = only_issue(response.json()["entry"][0]["response"]["outcome"])
    assert response.json()["entry"][0]["response"]["status"] == "400 Bad Request"
    assert issue["expression"] == ["Observation.subject.reference"]
    assert issue["diagnostics"].startswith("request entry 0: Observation/o1: cannot resolve reference "
                                           "'urn:uuid:0000aaaa-0000-0000-0000-000000000000'")
    assert count(server.engine, RawResource) == 0


# ---- POST /fhir: versions, deletes, entered-in-error ----------------------------------------

def test_given_same_bundle_reposted_when_posted_then_every_entry_is_unchanged_and_nothing_is_stored(server):
    document = bundle("transaction",
                      {"fullUrl": PAT_URN, "resource": patient(None), "request": {"method": "POST", "url": "Patient"}},
                      {"fullUrl": OBS_URN, "resource": observation(None, subject=PAT_URN),
                       "request": {"method": "POST", "url": "Observation"}})
    assert server.post_bundle(document).status_code == 200
    raw_before, facts_before = count(server.engine, RawResource), count(server.engine, Fact)

    response = server.post_bundle(document)

    assert response.status_code == 200, response.text
    pid, oid = PAT_URN.removeprefix("urn:uuid:"), OBS_URN.removeprefix("urn:uuid:")
    assert response.json()["entry"] == [{"response": {"status": "200 OK", "location": f"Patient/{pid}"}},
                                        {"response": {"status": "200 OK", "location": f"Observation/{oid}"}}]
    assert (raw_before, facts_before) == (2, 1)
    assert count(server.engine, RawResource) == 2 and count(server.engine, Fact) == 1
    assert versions(server.engine, "Observation", oid) == [(1, True, False, True)]
    with session(server.engine) as s:
        counts = [j.counts for j in s.exec(select(ImportJob).order_by(ImportJob.created_at)).all()]
    assert counts == [{"Patient": {"stored": 1}, "Observation": {"stored": 1}},
                      {"Patient": {"unchanged": 1}, "Observation": {"unchanged": 1}}]


def test_given_changed_observation_when_posted_then_a_new_current_version_replaces_its_facts(server):
    server.post_bundle(resources_bundle("batch", patient("pat1"), observation("o1", value=9.4)))

    response = server.post_bundle(resources_bundle("batch", observation("o1", value=7.1)))

    assert response.json()["entry"] == [{"response": {"status": "200 OK", "location": "Observation/o1"}}]
    assert versions(server.engine, "Observation", "o1") == [(1, False, False, True), (2, True, False, True)]
    assert fact_values(server.engine, "o1") == [("pat1", 7.1)]
    with session(server.engine) as s:
        codes = s.exec(select(FactCode.code).join(Fact, Fact.id == FactCode.fact_id)
                       .where(Fact.resource_id == "o1")).all()
    assert codes == ["4548-4"]  # the old fact's codes went with it
    assert count(server.engine, FactCode) == 1


def test_given_delete_entry_when_posted_then_facts_are_removed_and_raw_history_stays(server):
    linked = observation("o1", encounter={"reference": "Encounter/e1"})
    server.post_bundle(resources_bundle("batch", patient("pat1"), linked, observation("o2", value=5.0)))
    assert count(server.engine, ResourceReference, ResourceReference.source_id == "o1") == 1

    response = server.post_bundle(bundle("batch", delete_entry("Observation", "o1")))

    assert response.status_code == 200, response.text
    deleted = response.json()["entry"][0]["response"]
    assert deleted["status"] == "204 No Content" and "outcome" not in deleted
    assert versions(server.engine, "Observation", "o1") == [(1, False, False, True), (2, True, True, False)]
    assert fact_values(server.engine, "o1") == []
    assert count(server.engine, ResourceReference, ResourceReference.source_id == "o1") == 0
    assert fact_values(server.engine, "o2") == [("pat1", 5.0)]  # other resources untouched
    assert count(server.engine, FactCode) == 1
    assert current_ids(server.engine) == {("Patient", "pat1"), ("Observation", "o2")}

    again = server.post_bundle(bundle("batch", delete_entry("Observation", "o1")))
    assert again.json()["entry"][0]["response"]["status"] == "200 OK"  # already gone: unchanged
    assert len(versions(server.engine, "Observation", "o1")) == 2


def test_given_observation_marked_entered_in_error_when_posted_then_its_facts_are_removed(server):
    server.post_bundle(resources_bundle("batch", patient("pat1"), observation("o1")))

    response = server.post_bundle(resources_bundle("batch", observation("o1", status="entered-in-error")))

    assert response.json()["entry"] == [{"response": {"status": "200 OK", "location": "Observation/o1"}}]
    assert versions(server.engine, "Observation", "o1") == [(1, False, False, True), (2, True, False, True)]
    assert fact_values(server.engine, "o1") == []
    assert count(server.engine, FactCode) == 0


def test_given_two_practices_with_the_same_resource_ids_when_posted_then_each_keeps_its_own(server):
    server.post_bundle(resources_bundle("batch", patient("pat1"), observation("o1", value=9.4)))

    response = server.post_bundle(resources_bundle("batch", patient("pat1"), observation("o1", value=5.5)),
                                  token=server.other_token)

    assert [e["response"]["status"] for e in response.json()["entry"]] == ["201 Created", "201 Created"]
    assert fact_values(server.engine, "o1", "p1") == [("pat1", 9.4)]
    assert fact_values(server.engine, "o1", "p2") == [("pat1", 5.5)]


def test_given_other_practice_deletes_the_same_id_when_posted_then_the_first_practice_keeps_it(server):
    server.post_bundle(resources_bundle("batch", patient("pat1"), observation("o1")))

    response = server.post_bundle(bundle("batch", delete_entry("Observation", "o1")), token=server.other_token)

    assert response.json()["entry"][0]["response"]["status"] == "200 OK"  # nothing of p2's to delete
    assert versions(server.engine, "Observation", "o1") == [(1, True, False, True)]
    assert versions(server.engine, "Observation", "o1", "p2") == []
    assert fact_values(server.engine, "o1") == [("pat1", 9.4)]


def test_given_delete_url_that_is_not_type_and_id_when_posted_then_the_entry_is_rejected(server):
    server.post_bundle(resources_bundle("batch", patient("pat1"), observation("o1")))

    response = server.post_bundle(bundle("batch", {"request": {"method": "DELETE", "url": "Observation?code=4548-4"}}))

    result = response.json()["entry"][0]["response"]
    assert result["status"] == "400 Bad Request"
    issue = only_issue(result["outcome"])
    assert (issue["code"], issue["expression"]) == ("not-supported", ["Bundle.entry[0].request.url"])
    assert issue["diagnostics"] == "request entry 0: DELETE url must be Type/id, got 'Observation?code=4548-4'"
    assert fact_values(server.engine, "o1") == [("pat1", 9.4)]


def test_given_date_without_offset_when_posted_then_it_is_read_in_the_practices_timezone(server):
    server.post_bundle(resources_bundle("batch", observation("o1", when="2026-03-02")))
    server.post_bundle(resources_bundle("batch", observation("o1", when="2026-03-02")), token=server.other_token)

    with session(server.engine) as s:
        starts = dict(s.exec(select(Fact.practice_id, Fact.start).where(Fact.resource_id == "o1")).all())

    assert starts == {"p1": datetime(2026, 3, 2, 6, 0), "p2": datetime(2026, 3, 2, 5, 0)}  # Chicago, New York


def test_given_strict_validation_when_posted_then_elements_unknown_to_r4_are_rejected(engine, settings, tokens):
    lenient = observation("o1", colour="blue")
    with serve(settings.model_copy(update={"strict_validation": True})) as client:
        strict = Server(client, engine, settings, *tokens)
        response = strict.post_bundle(resources_bundle("batch", lenient, observation("o2")))

    assert [e["response"]["status"] for e in response.json()["entry"]] == ["400 Bad Request", "201 Created"]
    issue = only_issue(response.json()["entry"][0]["response"]["outcome"])
    assert issue["expression"] == ["Observation.colour"]
    assert issue["diagnostics"] == "request entry 0: Observation/o1: Extra inputs are not permitted (got 'blue')"
    assert current_ids(engine) == {("Observation", "o2")}


# ---- POST /fhir: request errors and authentication ------------------------------------------

def test_given_malformed_json_when_posted_then_400_outcome_and_nothing_stored(server):
    response = server.client.post("/fhir", content=b'{"resourceType": "Bundle", "entry": [',
                                  headers=server.headers(**{"Content-Type": FHIR_JSON}))

    issue = fhir_error(response, 400)
    assert issue["code"] == "structure"
    assert issue["diagnostics"].startswith("request body is not valid JSON: ")
    assert count(server.engine, ImportJob) == 0 and count(server.engine, RawResource) == 0


@pytest.mark.parametrize(("document", "named"), [(patient("pat1"), "'Patient'"), ([1, 2], "'list'"),
                                                  ({"type": "batch"}, "None")])
def test_given_a_body_that_is_not_a_bundle_when_posted_then_400_names_what_was_sent(server, document, named):
    response = server.client.post("/fhir", content=orjson.dumps(document),
                                  headers=server.headers(**{"Content-Type": FHIR_JSON}))

    issue = fhir_error(response, 400)
    assert issue["code"] == "not-supported"
    assert issue["diagnostics"].startswith(f"POST /fhir takes a Bundle, got {named}")
    assert issue["expression"] == ["Bundle.resourceType"]
    assert count(server.engine, ImportJob) == 0 and count(server.engine, RawResource) == 0


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer "}, {"Authorization": "Basic cDE6c2VjcmV0"}])
def test_given_no_bearer_token_when_posting_then_401_with_www_authenticate(server, headers):
    response = server.client.post("/fhir", content=orjson.dumps(resources_bundle("batch", patient())),
                                  headers=headers)

    issue = fhir_error(response, 401)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="caregaps"'
    assert issue["code"] == "login"
    assert issue["diagnostics"] == "missing bearer token: send Authorization: Bearer <practice token>"
    assert count(server.engine, RawResource) == 0


def test_given_unknown_token_when_posting_then_401(server):
    response = server.post_bundle(resources_bundle("batch", patient()), token="cg_not-a-real-token")

    issue = fhir_error(response, 401)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="caregaps"'
    assert issue["diagnostics"] == "unknown or revoked token"
    assert count(server.engine, RawResource) == 0


def test_given_revoked_token_when_posting_then_401_and_the_other_tokens_still_work(server):
    assert server.post_bundle(resources_bundle("batch", patient("pat1"))).status_code == 200
    assert revoke_token(server.engine, server.token) is True

    response = server.post_bundle(resources_bundle("batch", patient("pat2")))

    assert fhir_error(response, 401)["diagnostics"] == "unknown or revoked token"
    assert server.client.get("/api/practice", headers=server.headers()).status_code == 401
    assert current_ids(server.engine) == {("Patient", "pat1")}
    assert server.client.get("/api/practice", headers=server.headers(server.other_token)).json()["id"] == "p2"


@pytest.mark.parametrize(("method", "path"), [("POST", "/fhir/$import"), ("GET", "/fhir/$import-poll/x"),
                                              ("GET", "/fhir/$import-poll/x/errors.ndjson"),
                                              ("GET", "/api/practice"), ("GET", "/api/quality"),
                                              ("GET", "/api/imports"), ("GET", "/api/imports/x")])
def test_given_no_token_when_calling_any_practice_endpoint_then_401(server, method, path):
    response = server.client.request(method, path)

    assert fhir_error(response, 401)["code"] == "login"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="caregaps"'


# ---- request size limit ---------------------------------------------------------------------

@pytest.fixture
def small_server(engine, settings, tokens):
    with serve(settings.model_copy(update={"max_request_bytes": 2000})) as client:
        yield Server(client, engine, settings, *tokens)


def large_bundle() -> dict:
    document = resources_bundle("batch", patient("pat1"), *(observation(f"o{i}") for i in range(20)))
    assert len(orjson.dumps(document)) > 2000
    return document


def nothing_stored(server: Server) -> None:
    assert count(server.engine, RawResource) == 0 and count(server.engine, ImportJob) == 0
    files = server.settings.import_dir
    assert not files.exists() or not any(p.is_file() for p in files.rglob("*"))


def test_given_body_over_the_limit_when_posted_then_413_too_long_and_nothing_stored(small_server):
    response = small_server.post_bundle(large_bundle())

    issue = fhir_error(response, 413)
    assert issue["code"] == "too-long"
    assert "larger than the limit of 2000 bytes" in issue["diagnostics"]
    nothing_stored(small_server)


def test_given_chunked_body_over_the_limit_when_posted_then_413_too_long_and_nothing_stored(small_server):
    data = orjson.dumps(large_bundle())
    chunks = (data[i:i + 500] for i in range(0, len(data), 500))  # no Content-Length: streamed

    response = small_server.client.post("/fhir", content=chunks,
                                        headers=small_server.headers(**{"Content-Type": FHIR_JSON}))

    issue = fhir_error(response, 413)
    assert issue["code"] == "too-long"
    nothing_stored(small_server)


def test_given_import_upload_over_the_limit_when_posted_then_413_and_no_job(small_server):
    data = ndjson(*(observation(f"o{i}") for i in range(20)))

    response = small_server.start_import([("big.ndjson", data)])

    assert fhir_error(response, 413)["code"] == "too-long"
    nothing_stored(small_server)


def test_given_body_under_the_limit_when_posted_then_it_is_taken(small_server):
    response = small_server.post_bundle(resources_bundle("batch", patient("pat1")))

    assert response.status_code == 200, response.text
    assert current_ids(small_server.engine) == {("Patient", "pat1")}


# ---- $import --------------------------------------------------------------------------------

OBSERVATIONS = ndjson(observation("o1"), observation("o2", when="last tuesday"), b'{"resourceType": "Obs',
                      observation("o3", subject="Patient/pat2", value=6.1))
PATIENTS = ndjson(patient("pat1"), patient("pat2", gender="male"), patient("pat3", gender="F"))


def manifest_output(manifest: dict) -> dict:
    return {o["type"]: {k: v for k, v in o.items() if k != "type"} for o in manifest["output"]}


def errors(server: Server, manifest: dict, token: str | None = None) -> list[dict]:
    [link] = manifest["error"]
    response = server.client.get(link["url"], headers=server.headers(token))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+ndjson")
    found = [orjson.loads(line) for line in response.content.splitlines()]
    assert link == {"type": "OperationOutcome", "url": link["url"], "count": len(found)}
    return [only_issue(o) for o in found]


def test_given_plain_and_gzip_ndjson_when_imported_then_manifest_counts_and_errors_are_exact(server):
    started = server.start_import([("observations.ndjson", OBSERVATIONS),
                                   ("patients.ndjson.gz", gzip.compress(PATIENTS))])

    assert started.status_code == 202, started.text
    url = started.headers["Content-Location"]
    assert url.startswith("http://testserver/fhir/$import-poll/")
    done = server.poll(url)
    assert done.status_code == 200, done.text
    manifest = done.json()
    assert manifest["requiresAccessToken"] is True
    assert manifest["request"] == "http://testserver/fhir/$import"
    assert manifest_output(manifest) == {
        "Observation": {"count": 2, "stored": 2, "unchanged": 0, "rejected": 1, "deleted": 0},
        "Patient": {"count": 2, "stored": 2, "unchanged": 0, "rejected": 1, "deleted": 0},
        "unknown": {"count": 0, "stored": 0, "unchanged": 0, "rejected": 1, "deleted": 0},
    }
    assert manifest["error"][0]["url"] == f"{url}/errors.ndjson"
    date, syntax, gender = errors(server, manifest)
    assert (date["code"], date["expression"]) == ("value", ["Observation.effectiveDateTime"])
    assert date["diagnostics"].startswith(
        "observations.ndjson line 2: Observation/o2: 'last tuesday' is not a FHIR date/time")
    assert syntax["code"] == "structure" and "expression" not in syntax
    assert syntax["diagnostics"].startswith("observations.ndjson line 3: malformed JSON: ")
    assert (gender["code"], gender["expression"]) == ("value", ["Patient.gender"])
    assert gender["diagnostics"].startswith("patients.ndjson.gz line 3: Patient/pat3: gender must be one of")
    assert current_ids(server.engine) == {("Observation", "o1"), ("Observation", "o3"),
                                          ("Patient", "pat1"), ("Patient", "pat2")}
    assert fact_values(server.engine, "o3") == [("pat2", 6.1)]
    with session(server.engine) as s:
        job = s.get(ImportJob, url.rsplit("/", 1)[1])
    assert (job.source, job.status, job.practice_id) == ("http-import", "completed", "p1")
    assert [(f["name"], f["done"]) for f in job.files] == [("observations.ndjson", 4), ("patients.ndjson.gz", 3)]


def test_given_same_files_imported_again_when_done_then_everything_is_unchanged(server):
    files = [("observations.ndjson", OBSERVATIONS), ("patients.ndjson.gz", gzip.compress(PATIENTS))]
    server.import_done(files)
    raw_before = count(server.engine, RawResource)

    _, manifest = server.import_done(files)

    assert manifest_output(manifest) == {
        "Observation": {"count": 2, "stored": 0, "unchanged": 2, "rejected": 1, "deleted": 0},
        "Patient": {"count": 2, "stored": 0, "unchanged": 2, "rejected": 1, "deleted": 0},
        "unknown": {"count": 0, "stored": 0, "unchanged": 0, "rejected": 1, "deleted": 0},
    }
    assert count(server.engine, RawResource) == raw_before == 4
    assert count(server.engine, RawResource, RawResource.version > 1) == 0


def test_given_truncated_gzip_when_imported_then_lines_before_the_cut_are_kept_and_the_cut_reported(server):
    lines = [orjson.dumps(observation(f"o{i}", value=float(i))) + b"\n" for i in range(1, 6)]
    # level 0 stores the lines uncompressed after a 10-byte gzip header and a 5-byte block header,
    # so cutting 20 bytes into line 3 leaves exactly lines 1 and 2 readable
    packed = gzip.compress(b"".join(lines), compresslevel=0)
    cut = packed[:10 + 5 + len(lines[0]) + len(lines[1]) + 20]

    _, manifest = server.import_done([("labs.ndjson.gz", cut)])

    assert manifest_output(manifest) == {
        "Observation": {"count": 2, "stored": 2, "unchanged": 0, "rejected": 0, "deleted": 0},
        "unknown": {"count": 0, "stored": 0, "unchanged": 0, "rejected": 1, "deleted": 0},
    }
    [issue] = errors(server, manifest)
    assert issue["code"] == "incomplete"
    assert issue["diagnostics"].startswith("labs.ndjson.gz line 3: truncated or corrupt gzip data after line 2")
    assert issue["diagnostics"].endswith("the lines before it were read")
    assert current_ids(server.engine) == {("Observation", "o1"), ("Observation", "o2")}


def test_given_raw_ndjson_body_when_imported_then_it_is_read_as_one_file(server):
    data = ndjson(patient("pat1"), observation("o1"), observation("o2", subject="Group/g1"))

    started = server.client.post("/fhir/$import", content=data,
                                 headers=server.headers(**{"Content-Type": "application/fhir+ndjson"}))

    assert started.status_code == 202, started.text
    manifest = server.poll(started.headers["Content-Location"]).json()
    assert manifest_output(manifest) == {
        "Observation": {"count": 1, "stored": 1, "unchanged": 0, "rejected": 1, "deleted": 0},
        "Patient": {"count": 1, "stored": 1, "unchanged": 0, "rejected": 0, "deleted": 0},
    }
    [issue] = errors(server, manifest)
    assert issue["diagnostics"] == "body.ndjson line 3: Observation/o2: subject must reference a Patient, not Group"
    assert issue["expression"] == ["Observation.subject.reference"]


def test_given_import_without_files_when_posted_then_400(server):
    response = server.client.post("/fhir/$import", content=b"",
                                  headers=server.headers(**{"Content-Type": "application/fhir+ndjson"}))

    assert fhir_error(response, 400)["code"] == "required"
    assert count(server.engine, ImportJob) == 0


def test_given_another_practices_import_when_polled_then_404(server):
    url, manifest = server.import_done([("observations.ndjson", OBSERVATIONS)])

    status = server.client.get(url, headers=server.headers(server.other_token))
    errors_file = server.client.get(f"{url}/errors.ndjson", headers=server.headers(server.other_token))

    job_id = url.rsplit("/", 1)[1]
    for response in (status, errors_file):
        issue = fhir_error(response, 404)
        assert (issue["code"], issue["diagnostics"]) == ("not-found", f"no import {job_id} for this practice")
    assert fhir_error(server.client.get("/fhir/$import-poll/no-such-job", headers=server.headers()), 404)


def test_given_gzip_sent_as_raw_body_when_imported_then_it_is_decompressed(server):
    started = server.client.post("/fhir/$import", content=gzip.compress(ndjson(patient("pat1"), observation("o1"))),
                                 headers=server.headers(**{"Content-Type": "application/fhir+ndjson"}))

    manifest = server.poll(started.headers["Content-Location"]).json()

    assert {t: o["stored"] for t, o in manifest_output(manifest).items()} == {"Observation": 1, "Patient": 1}
    assert fact_values(server.engine, "o1") == [("pat1", 9.4)]


def test_given_upload_named_with_a_path_when_imported_then_it_is_saved_inside_the_import_folder(server):
    _, manifest = server.import_done([("../../escape.ndjson", ndjson(observation("o1"), b"nope"))])

    [issue] = errors(server, manifest)
    assert issue["diagnostics"].startswith("escape.ndjson line 2: malformed JSON")
    saved = [p for p in server.settings.data_dir.rglob("*") if p.is_file() and p.name != "secret_key"]
    assert [p.name for p in saved] == ["000-escape.ndjson"]
    assert saved[0].parent.parent == server.settings.import_dir


def test_given_import_not_yet_started_when_polled_then_202_with_progress(server):
    path = server.settings.import_dir / "waiting" / "labs.ndjson"
    path.parent.mkdir(parents=True)
    path.write_bytes(ndjson(observation("o1")))
    job = create_job(server.engine, "p1", "http-import", [(path, "labs.ndjson")])  # never submitted

    response = server.client.get(f"/fhir/$import-poll/{job.id}", headers=server.headers())

    assert response.status_code == 202
    assert response.headers["X-Progress"] == "queued: 0 resources processed"
    assert response.headers["Retry-After"] == "2"
    assert response.content == b""


def test_given_import_that_failed_when_polled_then_500_and_it_resumes_when_the_server_restarts(
        engine, settings, tokens):
    path = settings.import_dir / "failing" / "000-labs.ndjson"  # not there yet: reading it fails
    job = create_job(engine, "p1", "http-import", [(path, "labs.ndjson")])

    with serve(settings) as client:
        failed = Server(client, engine, settings, *tokens).poll(f"/fhir/$import-poll/{job.id}")

    issue = fhir_error(failed, 500)
    assert issue["code"] == "exception"
    assert issue["diagnostics"].startswith(f"import {job.id} failed: FileNotFoundError: ")
    assert issue["diagnostics"].endswith("the job resumes when the server restarts")

    path.parent.mkdir(parents=True)
    path.write_bytes(ndjson(patient("pat1"), observation("o1")))
    with serve(settings) as client:  # the restart the outcome promised
        resumed = Server(client, engine, settings, *tokens).poll(f"/fhir/$import-poll/{job.id}", timeout=3)

    assert resumed.status_code == 200, resumed.text
    assert {t: o["stored"] for t, o in manifest_output(resumed.json()).items()} == {"Observation": 1, "Patient": 1}


# ---- resuming unfinished imports at start ---------------------------------------------------

def test_given_queued_http_import_left_by_a_previous_process_when_the_app_starts_then_it_completes(
        engine, settings, tokens):
    folder = settings.import_dir / "left-over"
    folder.mkdir(parents=True)
    (folder / "000-labs.ndjson").write_bytes(ndjson(patient("pat1"), observation("o1"), observation("o2")))
    (folder / "001-more.ndjson.gz").write_bytes(gzip.compress(ndjson(observation("o3"))))
    job = create_job(engine, "p1", "http-import", [(folder / "000-labs.ndjson", "labs.ndjson"),
                                                   (folder / "001-more.ndjson.gz", "more.ndjson.gz")])
    cli_job = create_job(engine, "p1", "cli", [(folder / "000-labs.ndjson", "labs.ndjson")])
    assert job.status == "queued"

    with serve(settings) as client:
        server = Server(client, engine, settings, *tokens)
        done = server.poll(f"/fhir/$import-poll/{job.id}")

    assert done.status_code == 200, done.text
    assert manifest_output(done.json()) == {
        "Observation": {"count": 3, "stored": 3, "unchanged": 0, "rejected": 0, "deleted": 0},
        "Patient": {"count": 1, "stored": 1, "unchanged": 0, "rejected": 0, "deleted": 0},
    }
    assert done.json()["error"] == []
    with session(engine) as s:
        assert s.get(ImportJob, job.id).status == "completed"
        assert s.get(ImportJob, cli_job.id).status == "queued"  # only async HTTP imports resume
    assert fact_values(engine, "o3") == [("pat1", 9.4)]


def test_given_running_import_interrupted_after_a_batch_when_the_app_starts_then_it_resumes_after_it(
        engine, settings, tokens):
    path = settings.import_dir / "interrupted" / "000-labs.ndjson"
    path.parent.mkdir(parents=True)
    path.write_bytes(ndjson(patient("pat1"), observation("o1"), observation("o2"), observation("o3")))
    job = create_job(engine, "p1", "http-import", [(path, "labs.ndjson")])
    with session(engine) as s:  # what a process killed after committing lines 1-2 leaves behind
        row = s.get(ImportJob, job.id)
        row.status, row.files = "running", [{"path": str(path), "name": "labs.ndjson", "done": 2}]
        row.counts = {"Patient": {"stored": 1}, "Observation": {"stored": 1}}
        s.add(row)
        s.commit()

    with serve(settings) as client:
        done = Server(client, engine, settings, *tokens).poll(f"/fhir/$import-poll/{job.id}")

    assert done.status_code == 200, done.text
    assert manifest_output(done.json()) == {
        "Observation": {"count": 3, "stored": 3, "unchanged": 0, "rejected": 0, "deleted": 0},
        "Patient": {"count": 1, "stored": 1, "unchanged": 0, "rejected": 0, "deleted": 0},
    }
    # lines 1 and 2 were not read again (here they were never stored: the job's record says they were)
    assert current_ids(engine) == {("Observation", "o2"), ("Observation", "o3")}


# ---- JSON API and home page -----------------------------------------------------------------

def test_given_no_token_when_health_is_asked_then_ok(server):
    response = server.client.get("/api/health")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_given_a_token_when_practice_is_asked_then_it_is_the_tokens_practice(server):
    mine = server.client.get("/api/practice", headers=server.headers())
    theirs = server.client.get("/api/practice", headers=server.headers(server.other_token))

    assert mine.json() == {"id": "p1", "name": "Riverside Family Medicine", "timezone": "America/Chicago"}
    assert theirs.json() == {"id": "p2", "name": "Lakeside Clinic", "timezone": "America/New_York"}


def test_given_imports_when_listed_then_newest_first_and_only_the_practices_own(server):
    server.post_bundle(resources_bundle("batch", patient("pat1"), observation("o1", when="tomorrow")))
    url, _ = server.import_done([("labs.ndjson", ndjson(observation("o2"), observation("o3")))])
    server.post_bundle(resources_bundle("batch", patient("pat9")), token=server.other_token)
    import_id = url.rsplit("/", 1)[1]

    listed = server.client.get("/api/imports", headers=server.headers())

    assert listed.status_code == 200
    jobs = listed.json()
    assert [(j["source"], j["status"]) for j in jobs] == [("http-import", "completed"), ("http-bundle", "completed")]
    newest, bundle_job = jobs
    assert newest["id"] == import_id
    assert {k: newest[k] for k in ("strict", "files", "counts", "error")} == {
        "strict": False, "files": [{"name": "labs.ndjson", "done": 2}],
        "counts": {"Observation": {"stored": 2}}, "error": None}
    assert newest["created_at"].endswith("Z") and newest["finished_at"].endswith("Z")
    assert bundle_job["counts"] == {"Patient": {"stored": 1}, "Observation": {"rejected": 1}}
    assert bundle_job["files"] == [{"name": "request", "done": 2}]
    assert [j["source"] for j in server.client.get("/api/imports", headers=server.headers(server.other_token)).json()] \
        == ["http-bundle"]
    assert len(server.client.get("/api/imports?limit=1", headers=server.headers()).json()) == 1


def test_given_an_import_when_its_detail_is_asked_then_job_and_quality_and_404_for_other_practices(server):
    url, _ = server.import_done([("labs.ndjson", ndjson(patient("pat1"), observation("o1"),
                                                        observation("o2", when="yesterday")))])
    import_id = url.rsplit("/", 1)[1]

    detail = server.client.get(f"/api/imports/{import_id}", headers=server.headers())
    other = server.client.get(f"/api/imports/{import_id}", headers=server.headers(server.other_token))
    missing = server.client.get("/api/imports/no-such-import", headers=server.headers())

    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert (body["id"], body["source"], body["status"]) == (import_id, "http-import", "completed")
    assert body["counts"] == {"Patient": {"stored": 1}, "Observation": {"stored": 1, "rejected": 1}}
    assert body["quality"]["import_id"] == import_id
    assert body["quality"]["resources_by_type"] == {"Observation": 1, "Patient": 1}
    assert other.status_code == 404 and missing.status_code == 404
    assert f"no import {import_id} for this practice" in other.text
    assert "no import no-such-import for this practice" in missing.text


def test_given_stored_resources_when_quality_is_asked_then_it_reports_the_practice(server):
    server.post_bundle(resources_bundle("batch", patient("pat1"), observation("o1"), observation("o2", value=None)))
    server.post_bundle(resources_bundle("batch", patient("pat7")), token=server.other_token)

    response = server.client.get("/api/quality", headers=server.headers())

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["practice_id"] == "p1"
    assert report["resources_by_type"] == {"Observation": 2, "Patient": 1}
    assert report["observations_without_value"]["count"] == 1


def test_given_practices_and_imports_when_home_page_is_opened_without_a_token_then_no_practice_data_shows(server):
    server.post_bundle(resources_bundle("batch", patient("pat1"), observation("o1")))

    response = server.client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "/docs" in response.text
    for private in ("Riverside", "Lakeside", "p1", "pat1", "http-bundle"):
        assert private not in response.text
