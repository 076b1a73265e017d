"""The admin matches page and its JSON twin /api/aco/matches: admins only, CSRF on the split form,
audited; and practice users never see ACO persons on the worklist."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from caregaps.aco import ACO_ID
from caregaps.aco.evaluate import rebuild_and_evaluate
from caregaps.config import get_settings
from caregaps.engine.catalog import load_catalog
from caregaps.engine.runs import run_measure
from caregaps.models import AuditLog
from caregaps.practices import create_token
from caregaps.users import add_user
from caregaps.web.app import create_app
from caregaps.worklist.sync import refresh_worklist
from tests.test_aco_rollup import two_practices_one_shared_person

START, END, TODAY = date(2026, 1, 1), date(2026, 12, 31), date(2026, 11, 30)
PASSWORD = "correct horse battery"


@pytest.fixture
def web(engine, database_url, tmp_path):
    two_practices_one_shared_person(engine, tmp_path)
    catalog = load_catalog()
    for pid in ("p1", "p2"):
        run_measure(engine, catalog.get("CMS130"), pid, START, END, as_of=TODAY)
        refresh_worklist(engine, pid, START, END, TODAY)
    rebuild_and_evaluate(engine, START, END, TODAY, catalog, ["CMS130"])
    refresh_worklist(engine, ACO_ID, START, END, TODAY)  # does nothing: the ACO has no worklist
    add_user(engine, "admin@aco.org", "Ada Admin", "admin", PASSWORD, [])
    add_user(engine, "nurse@p1.org", "Nurse Joy", "care-manager", PASSWORD, ["p1"])
    settings = get_settings(database_url=database_url, data_dir=tmp_path / "var")
    with TestClient(create_app(settings)) as client:
        client.token = create_token(engine, "p1")
        yield client


def _signin(client, email):
    assert client.post("/signin", data={"email": email, "password": PASSWORD},
                       follow_redirects=False).status_code == 303


def _csrf(html: str) -> str:
    return html.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def test_an_admin_sees_the_matches_and_splits_one_with_the_form(web, engine):
    _signin(web, "admin@aco.org")
    page = web.get("/admin/matches")
    assert page.status_code == 200
    assert "p1</td><td>ana-1" in page.text and "p2</td><td>77" in page.text and "1EG4TE5MK73" in page.text
    assert 'href="/admin/matches">Matches' in page.text and "Quality aco" not in page.text
    refused = web.post("/admin/matches/split", data={"a": "p1/ana-1", "b": "p2/77", "csrf": "wrong"})
    assert refused.status_code == 403
    done = web.post("/admin/matches/split", data={"a": "p1/ana-1", "b": "p2/77", "csrf": _csrf(page.text)})
    assert done.status_code == 200 and "now counts 3 persons" in done.text and "No person has more than one record" in done.text
    with engine.connect() as conn:
        audited = conn.execute(select(AuditLog.__table__.c.action, AuditLog.__table__.c.practice_id,
                                      AuditLog.__table__.c.patient_id)).all()
    assert ("view", ACO_ID, None) in audited and ("change", "p2", "77") in audited


def test_the_json_twin_lists_and_splits(web):
    _signin(web, "admin@aco.org")
    body = web.get("/api/aco/matches").json()
    assert (body["persons"], body["records"], body["shared_persons"]) == (2, 3, 1)
    assert [(r["practice_id"], r["patient_id"], r["rule"]) for r in body["matches"][0]["records"]] == [
        ("p1", "ana-1", "mbi"), ("p2", "77", "mbi")]
    bad = web.post("/api/aco/matches/split", json={"a": "p1/ana-1", "b": "p1/ben"})
    assert bad.status_code == 400 and "already different people" in bad.json()["detail"]
    split = web.post("/api/aco/matches/split", json={"a": "p1/ana-1", "b": "p2/77"})
    assert split.status_code == 200 and split.json()["persons"] == 3
    assert web.get("/api/aco/matches").json()["matches"] == []


def test_others_may_not_see_or_split_matches(web):
    token = {"Authorization": f"Bearer {web.token}"}
    assert web.get("/api/aco/matches", headers=token).status_code == 403
    assert web.post("/api/aco/matches/split", json={"a": "p1/ana-1", "b": "p2/77"}, headers=token).status_code == 403
    _signin(web, "nurse@p1.org")
    assert web.get("/admin/matches").status_code == 403
    assert web.get("/api/aco/matches").status_code == 403
    assert web.post("/api/aco/matches/split", json={"a": "p1/ana-1", "b": "p2/77"}).status_code == 403
    assert "Matches" not in web.get("/worklist").text


def test_a_practice_user_never_sees_aco_persons_on_the_worklist(web):
    _signin(web, "nurse@p1.org")
    items = web.get("/api/worklist").json()["items"]
    assert items and {i["practice_id"] for i in items} == {"p1"}
    assert web.get(f"/api/worklist?practice={ACO_ID}").status_code == 404
    page = web.get("/worklist").text
    assert "person-" not in page and f"/patients/{ACO_ID}/" not in page
    _signin(web, "admin@aco.org")
    assert {i["practice_id"] for i in web.get("/api/worklist?per_page=200").json()["items"]} <= {"p1", "p2"}
