"""Worklists: priority and status rules, building from gaps and risk, re-evaluation that closes and
reopens items without losing notes or dismissals, and the JSON API scoped to the viewer."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient

from caregaps.config import get_settings
from caregaps.engine.catalog import load_catalog
from caregaps.engine.runs import run_measure
from caregaps.practices import add_practice, create_token
from caregaps.users import add_user
from caregaps.web.app import create_app
from caregaps.worklist.changes import Change, ChangeError, apply_change
from caregaps.worklist.queries import Filters, get_item, list_items
from caregaps.worklist.rules import after_reevaluation, gap_signature, priority
from caregaps.worklist.sync import refresh_worklist
from tests.measure_data import diabetic, hba1c, load

START, END, TODAY = date(2026, 1, 1), date(2026, 12, 31), date(2026, 11, 22)
CMS122 = load_catalog().get("CMS122")


def test_priority_adds_risk_gaps_time_pressure_and_age():
    assert priority(None, 0, 0, 200, 365, 0) == 0
    assert priority(4, 1, 0, 365, 365, 0) == 12 + 8
    assert priority(4, 1, 1, 0, 365, 95) == 12 + 8 + 4 + 10 + 3
    assert priority(20, 0, 0, 10, 365, 400) == 36  # risk capped; no gap: no time pressure or age
    assert priority(2, 2, 0, 100, 365, 0) > priority(2, 1, 0, 100, 365, 0)


@pytest.mark.parametrize("status, until, old, new, expected", [
    ("new", None, "CMS122:open-gap", "", ("closed-by-data", "closed-by-data")),
    ("scheduled", None, "CMS122:open-gap", "CMS122:open-gap", ("scheduled", None)),
    ("closed-by-data", None, "", "CMS122:open-gap", ("new", "reopened")),
    ("dismissed", date(2027, 1, 1), "CMS122:open-gap", "CMS122:open-gap", ("dismissed", None)),
    ("dismissed", date(2026, 11, 1), "CMS122:open-gap", "CMS122:open-gap", ("new", "reopened")),
    ("dismissed", None, "CMS122:open-gap", "CMS122:open-gap;CMS130:open-gap", ("new", "reopened")),
    ("dismissed", None, "CMS122:open-gap", "", ("dismissed", None)),
])
def test_reevaluation_rules(status, until, old, new, expected):
    result = after_reevaluation(status, until, old, new, TODAY)
    assert (result.status, result.event) == expected


def test_gap_signature_ignores_order():
    a = [{"measure": "CMS130", "status": "open-gap"}, {"measure": "CMS122", "status": "open-gap"}]
    assert gap_signature(a) == gap_signature(list(reversed(a))) == "CMS122:open-gap;CMS130:open-gap"


def _item(engine, patient_id: str) -> dict:
    _, items = list_items(engine, Filters(practices=["p1"], per_page=200))
    return next(i for i in items if i["patient_id"] == patient_id)


def test_reevaluation_closes_by_data_reopens_and_keeps_notes_and_dismissals(engine, tmp_path):
    add_practice(engine, "p1", "Riverside", "UTC")
    load(engine, "p1", diabetic("high", 9.4) + diabetic("ok", 7.0) + diabetic("refuser", 10.1), tmp_path)
    run_measure(engine, CMS122, "p1", START, END, as_of=TODAY)
    assert refresh_worklist(engine, "p1", START, END, TODAY)["created"] == 2  # "ok" has no gap
    high = _item(engine, "high")
    assert high["status"] == "new" and high["gaps"][0]["measure"] == "CMS122" and high["priority"] > 8

    nurse = add_user(engine, "nurse@example.org", "Nurse Joy", "care-manager", "correct horse battery", ["p1"])
    apply_change(engine, high["id"], Change(status="in-progress", assignee_id=nurse.id, note="Called, left message"),
                 "nurse@example.org")
    refuser = _item(engine, "refuser")
    apply_change(engine, refuser["id"], Change(status="dismissed", dismissed_reason="patient-refused",
                                               dismissed_until=date(2027, 3, 1)), "nurse@example.org")
    with pytest.raises(ChangeError, match="dismissed_reason"):
        apply_change(engine, refuser["id"], Change(status="dismissed"), "nurse@example.org")

    load(engine, "p1", [{**hba1c("high-a1c-2", "high", 6.9, "2026-10-01")}], tmp_path)  # new data closes the gap
    run_measure(engine, CMS122, "p1", START, END, as_of=TODAY)
    refresh_worklist(engine, "p1", START, END, TODAY)
    closed = get_item(engine, high["id"], ["p1"])
    assert closed["status"] == "closed-by-data" and closed["assignee"] == "Nurse Joy"
    assert closed["closed_evidence"][0]["resource"] == "Observation/high-a1c-2"
    kinds = [(e["kind"], e["actor"]) for e in closed["history"]]
    assert ("note", "nurse@example.org") in kinds and ("status", "system") in kinds
    assert next(e for e in closed["history"] if e["kind"] == "note")["text"] == "Called, left message"
    assert _item(engine, "refuser")["status"] == "dismissed"  # same gap, reason not expired

    load(engine, "p1", [{**hba1c("high-a1c-3", "high", 11.0, "2026-11-01")}], tmp_path)
    run_measure(engine, CMS122, "p1", START, END, as_of=TODAY)
    refresh_worklist(engine, "p1", START, END, TODAY)
    assert get_item(engine, high["id"], ["p1"])["status"] == "new"
    assert get_item(engine, high["id"], ["other"]) is None  # another practice's viewer sees nothing


@pytest.fixture
def client(engine, database_url, tmp_path):
    add_practice(engine, "p1", "Riverside", "UTC")
    add_practice(engine, "p2", "Lakeside", "UTC")
    load(engine, "p1", diabetic("a", 9.5) + diabetic("b", None), tmp_path)
    load(engine, "p2", diabetic("c", 12.0), tmp_path)
    for pid in ("p1", "p2"):
        run_measure(engine, CMS122, pid, START, END, as_of=TODAY)
        refresh_worklist(engine, pid, START, END, TODAY)
    settings = get_settings(database_url=database_url, data_dir=tmp_path / "var")
    with TestClient(create_app(settings)) as test_client:
        test_client.headers["Authorization"] = f"Bearer {create_token(engine, 'p1')}"
        yield test_client


def test_worklist_api_lists_changes_and_scopes_to_the_practice(client):
    listed = client.get("/api/worklist").json()
    assert listed["total"] == 2 and {i["patient_id"] for i in listed["items"]} == {"a", "b"}
    item_id = listed["items"][0]["id"]
    changed = client.patch(f"/api/worklist/{item_id}", json={"status": "scheduled", "note": "Booked for Dec 3"})
    assert changed.status_code == 200 and changed.json()["status"] == "scheduled"
    assert changed.json()["history"][-1]["text"] == "Booked for Dec 3"
    assert client.get("/api/worklist", params={"status": "scheduled"}).json()["total"] == 1
    bad = client.patch(f"/api/worklist/{item_id}", json={"status": "finished"})
    assert bad.status_code == 400 and "status" in bad.json()["detail"]
    foreign = client.get("/api/worklist", params={"practice": "p2"})
    assert foreign.status_code == 404
    other_ids = {i for i in range(1, 10)} - {i["id"] for i in listed["items"]}
    assert all(client.get(f"/api/worklist/{i}").status_code == 404 for i in other_ids)
    del client.headers["Authorization"]
    assert client.get("/api/worklist").status_code == 401


def test_patient_timeline_lists_the_latest_facts_with_their_codes(client):
    view = client.get("/api/worklist/patients/p1/a").json()
    assert [(t["when"], t["kind"], t["code"], t["value"]) for t in view["timeline"]][:2] == [
        ("Apr 1, 2026", "encounter", "185349003", None), ("Mar 2, 2026", "observation", "4548-4", "9.5 %")]
    assert {"kind": "condition", "code": "E11.9"}.items() <= view["timeline"][-1].items()
