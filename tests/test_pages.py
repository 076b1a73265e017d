"""Signed-in pages over HTTP: sign-in with throttling, CSRF on every form, practice scoping,
the worklist and patient pages, status and note changes, the audit log."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from caregaps.config import get_settings
from caregaps.db import session
from caregaps.engine.catalog import load_catalog
from caregaps.engine.runs import run_measure
from caregaps.models import AuditLog
from caregaps.practices import add_practice
from caregaps.users import add_user, hash_password, verify_password
from caregaps.web.app import create_app
from caregaps.web.sessions import Throttle, make_cookie, read_cookie
from caregaps.worklist.sync import refresh_worklist
from tests.measure_data import diabetic, load

START, END, TODAY = date(2026, 1, 1), date(2026, 12, 31), date(2026, 11, 22)
PASSWORD = "correct horse battery"


def test_passwords_are_salted_scrypt_hashes():
    one, two = hash_password(PASSWORD), hash_password(PASSWORD)
    assert one != two and one.startswith("scrypt$") and PASSWORD not in one
    assert verify_password(PASSWORD, one) and not verify_password("wrong password!", one)


def test_session_cookies_are_signed_and_expire():
    cookie = make_cookie(b"k" * 32, 7, now=1000)
    assert read_cookie(b"k" * 32, cookie, now=1001)["uid"] == 7
    assert read_cookie(b"x" * 32, cookie, now=1001) is None  # another key: forged
    assert read_cookie(b"k" * 32, cookie.replace(".", "x."), now=1001) is None
    assert read_cookie(b"k" * 32, cookie, now=1000 + 13 * 3600) is None


def test_throttle_blocks_after_five_failures_for_the_window():
    throttle = Throttle(limit=5, window=900)
    for i in range(5):
        assert not throttle.blocked("email:a", now=i)
        throttle.failed("email:a", now=i)
    assert throttle.blocked("email:a", now=10) and not throttle.blocked("email:b", now=10)
    assert not throttle.blocked("email:a", now=1000)


@pytest.fixture
def web(engine, database_url, tmp_path):
    add_practice(engine, "p1", "Riverside", "UTC")
    add_practice(engine, "p2", "Lakeside", "UTC")
    load(engine, "p1", diabetic("alice", 9.5) + diabetic("bob", None), tmp_path)
    load(engine, "p2", diabetic("carol", 12.0), tmp_path)
    measure = load_catalog().get("CMS122")
    for pid in ("p1", "p2"):
        run_measure(engine, measure, pid, START, END, as_of=TODAY)
        refresh_worklist(engine, pid, START, END, TODAY)
    add_user(engine, "nurse@example.org", "Nurse Joy", "care-manager", PASSWORD, ["p1"])
    settings = get_settings(database_url=database_url, data_dir=tmp_path / "var")
    with TestClient(create_app(settings)) as client:
        yield client


def _signin(client, password=PASSWORD):
    return client.post("/signin", data={"email": "nurse@example.org", "password": password}, follow_redirects=False)


def _csrf(html: str) -> str:
    return html.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def test_pages_need_sign_in_and_show_only_the_users_practices(web, engine):
    assert web.get("/worklist", follow_redirects=False).headers["location"] == "/signin"
    assert _signin(web, "wrong password!").status_code == 401
    signed = _signin(web)
    assert signed.status_code == 303 and "httponly" in signed.headers["set-cookie"].lower()
    page = web.get("/worklist").text
    assert "alice" in page and "bob" in page and "carol" not in page
    assert web.get("/patients/p2/carol").status_code == 404
    assert web.get("/api/worklist/patients/p2/carol").status_code == 404  # the JSON twin too
    assert web.get("/api/worklist").json()["total"] == 2
    with session(engine) as s:
        assert not s.exec(select(AuditLog).where(AuditLog.patient_id == "carol")).all()


def test_status_and_note_changes_need_csrf_and_are_kept(web, engine):
    _signin(web)
    page = web.get("/patients/p1/alice").text
    assert "Lowest Glycemic Status Reading on Most Recent Day: 9.5 % on Mar 2, 2026" in page
    item_id = int(page.split('action="/worklist/', 1)[1].split('"', 1)[0])
    refused = web.post(f"/worklist/{item_id}", data={"status": "in-progress", "note": "x"}, follow_redirects=False)
    assert refused.status_code == 403
    saved = web.post(f"/worklist/{item_id}", data={"csrf": _csrf(page), "status": "in-progress",
                                                   "note": "Left a voicemail"}, follow_redirects=True)
    assert "Left a voicemail" in saved.text and 'id="item-status">in-progress<' in saved.text
    with session(engine) as s:
        actions = {(a.action, a.patient_id) for a in s.exec(select(AuditLog))}
    assert ("view", "alice") in actions and ("change", "alice") in actions


def test_sign_in_is_throttled(web):
    for _ in range(5):
        assert _signin(web, "wrong password!").status_code == 401
    assert _signin(web).status_code == 429


def test_fhir_routes_take_a_signed_in_user_and_only_their_practices(web):
    _signin(web)
    own = web.get("/fhir/Measure/CMS122/$evaluate-measure",
                  params={"periodStart": "2026-01-01", "periodEnd": "2026-12-31", "reportType": "subject-list"})
    assert own.status_code == 200
    listed = [e["item"]["reference"] for c in own.json()["contained"] if c["id"] == "list-denominator"
              for e in c["entry"]]
    assert sorted(listed) == ["Patient/alice", "Patient/bob"]
    other = web.get("/fhir/Measure/$care-gaps", params={"organization": "Organization/p2"})
    assert other.status_code == 403


def test_admins_manage_users_and_memberships_and_others_cannot(web, engine):
    from caregaps.users import practices_of

    _signin(web)
    assert web.get("/admin/users").status_code == 403
    add_user(engine, "boss@example.org", "Boss", "admin", PASSWORD, [])
    web.cookies.clear()
    web.post("/signin", data={"email": "boss@example.org", "password": PASSWORD})
    page = web.get("/admin/users").text
    added = web.post("/admin/users", data={"csrf": _csrf(page), "email": "new@example.org", "name": "New",
                                           "role": "care-manager", "password": "long enough pw", "practices": ["p2"]})
    assert added.status_code == 200 and "new@example.org" in added.text
    from caregaps.users import authenticate
    new = authenticate(engine, "new@example.org", "long enough pw")
    assert practices_of(engine, new) == ["p2"]
    web.post(f"/admin/users/{new.id}/practices", data={"csrf": _csrf(page), "practices": ["p1", "p2"]})
    assert practices_of(engine, new) == ["p1", "p2"]
    forged = web.post(f"/admin/users/{new.id}/practices", data={"practices": []})
    assert forged.status_code == 403 and practices_of(engine, new) == ["p1", "p2"]


OTHER_PRACTICE_ROUTES = [  # (method, path, params): each must not show p2's patient carol to a p1 user
    ("GET", "/patients/p2/carol", None),
    ("GET", "/practices/p2/quality", None),
    ("GET", "/worklist?practice=p2", None),
    ("GET", "/api/worklist?practice=p2", None),
    ("GET", "/api/worklist/patients/p2/carol", None),
    ("GET", "/fhir/Measure/CMS122/$evaluate-measure?subject=Patient/carol", None),
    ("GET", "/fhir/Measure/CMS122/$evaluate-measure?organization=Organization/p2&reportType=subject-list", None),
    ("GET", "/fhir/Measure/$care-gaps?organization=Organization/p2", None),
    ("GET", "/fhir/Measure/$care-gaps?subject=Patient/carol", None),
    ("GET", "/practices/p2/delivery", None),
    ("GET", "/practices/p2/delivery/preview", None),
    ("GET", "/api/delivery/p2", None),
    ("GET", "/api/delivery/p2/preview", None),
    ("POST", "/api/delivery/p2/send", None),
]


@pytest.mark.parametrize("method, path, params", OTHER_PRACTICE_ROUTES)
def test_every_route_keeps_a_user_to_their_practices(web, method, path, params):
    _signin(web)
    response = web.request(method, path, params=params)
    assert response.status_code in (200, 400, 403, 404)
    if response.status_code == 200:  # a list that may not include her (errors may echo the id asked for)
        assert "carol" not in response.text
    if path.startswith("/worklist"):
        assert response.status_code == 200 and "alice" not in response.text  # p2 is not theirs: nothing listed


def test_worklist_items_of_another_practice_are_not_found(web, engine):
    from caregaps.worklist.queries import Filters, list_items

    _signin(web)
    _, theirs = list_items(engine, Filters(practices=["p2"]))
    item_id = theirs[0]["id"]
    page = web.get("/worklist").text
    assert web.get(f"/api/worklist/{item_id}").status_code == 404
    assert web.patch(f"/api/worklist/{item_id}", json={"note": "x"}).status_code == 404
    assert web.post(f"/worklist/{item_id}", data={"csrf": _csrf(page), "note": "x"}).status_code == 404
    assert web.post("/worklist/assign", data={"csrf": _csrf(page), "item_ids": [str(item_id)]}).status_code == 404


def _overlap_probe(real):
    """A wrapper of `real` that records how many calls run at once (the list's max), and the list."""
    import threading
    import time

    running, seen, lock = [0], [0], threading.Lock()

    def probe(*args, **kwargs):
        with lock:
            running[0] += 1
            seen.append(running[0])
        time.sleep(0.2)  # long enough for the other requests to arrive meanwhile
        with lock:
            running[0] -= 1
        return real(*args, **kwargs)

    return probe, seen


def test_worklist_and_patient_reads_take_turns_while_other_pages_run_beside_them(web, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from caregaps.web import pages_app
    from caregaps.worklist import patient_view

    _signin(web)
    views, patient_views = _overlap_probe(patient_view.patient_view)
    monkeypatch.setattr(patient_view, "patient_view", views)  # the JSON twin imports it when called
    monkeypatch.setattr(pages_app, "patient_view", views)
    reports, quality_reports = _overlap_probe(pages_app.practice_quality)
    monkeypatch.setattr(pages_app, "practice_quality", reports)
    paths = ["/patients/p1/alice", "/api/worklist/patients/p1/bob"] * 2 + ["/practices/p1/quality"] * 3
    with ThreadPoolExecutor(len(paths)) as pool:
        answers = list(pool.map(web.get, paths))
    assert [a.status_code for a in answers] == [200] * len(paths)
    assert max(quality_reports) > 1  # requests did arrive together
    assert max(patient_views) == 1   # but the patient reads ran one after another


def test_the_users_api_is_the_admin_pages_twin_for_admins_only(web, engine):
    from caregaps.practices import create_token
    from caregaps.users import practices_of

    _signin(web)
    assert web.get("/api/users").status_code == 403  # a care manager
    add_user(engine, "boss@example.org", "Boss", "admin", PASSWORD, [])
    web.cookies.clear()
    web.post("/signin", data={"email": "boss@example.org", "password": PASSWORD})
    listed = web.get("/api/users").json()
    assert [u["email"] for u in listed["users"]] == ["boss@example.org", "nurse@example.org"]
    assert listed["users"][1]["practices"] == ["p1"] and listed["users"][1]["role"] == "care-manager"
    added = web.post("/api/users", json={"email": "New@Example.org", "name": "New", "role": "care-manager",
                                         "password": "long enough pw", "practices": ["p2"]})
    assert added.status_code == 201 and added.json()["email"] == "new@example.org"
    assert added.json()["practices"] == ["p2"] and "password" not in str(added.json())
    again = web.post("/api/users", json={"email": "new@example.org", "name": "N", "role": "admin",
                                         "password": "long enough pw"})
    assert again.status_code == 400 and "already exists" in again.json()["detail"]
    assert web.post("/api/users", json={"email": "x@example.org", "name": "X", "role": "boss",
                                        "password": "long enough pw"}).status_code == 400
    user_id = added.json()["id"]
    moved = web.put(f"/api/users/{user_id}/practices", json={"practices": ["p1", "p2"]})
    assert moved.json()["practices"] == ["p1", "p2"]
    assert web.put(f"/api/users/{user_id}/practices", json={"practices": ["nowhere"]}).status_code == 400
    from caregaps.aco.rollup import ensure_aco
    with engine.begin() as conn:
        ensure_aco(conn)
    refused = web.put(f"/api/users/{user_id}/practices", json={"practices": ["aco"]})
    assert refused.status_code == 400 and "ACO roll-up" in refused.json()["detail"]
    assert web.put("/api/users/99999/practices", json={"practices": []}).status_code == 404
    page = web.get("/admin/users").text  # the page shows what the API changed
    assert "new@example.org" in page and page.count("selected") >= 3 and "<option>aco</option>" not in page
    web.cookies.clear()
    token = create_token(engine, "p1")
    assert web.get("/api/users", headers={"Authorization": f"Bearer {token}"}).status_code == 403
    from caregaps.users import authenticate
    assert practices_of(engine, authenticate(engine, "new@example.org", "long enough pw")) == ["p1", "p2"]
