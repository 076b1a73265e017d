"""The delivery page and its JSON twin /api/delivery: settings changed with CSRF, preview and
send-now to a real SMTP server, the log, who may change what, and practice scoping."""

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
from caregaps.worklist.sync import refresh_worklist
from tests.measure_data import diabetic, load
from tests.receivers import smtp_server

START, END, TODAY = date(2026, 1, 1), date(2026, 12, 31), date(2026, 11, 22)
PASSWORD = "correct horse battery"


@pytest.fixture
def web(engine, database_url, tmp_path):
    add_practice(engine, "p1", "Riverside", "America/Chicago")
    add_practice(engine, "p2", "Lakeside", "UTC")
    load(engine, "p1", diabetic("alice", 9.5) + diabetic("bob", None), tmp_path)
    load(engine, "p2", diabetic("carol", 12.0), tmp_path)
    for pid in ("p1", "p2"):
        run_measure(engine, load_catalog().get("CMS122"), pid, START, END, as_of=TODAY)
        refresh_worklist(engine, pid, START, END, TODAY)
    add_user(engine, "nurse@example.org", "Nurse Joy", "care-manager", PASSWORD, ["p1"])
    add_user(engine, "lead@example.org", "Quinn Lead", "quality-lead", PASSWORD, ["p1"])
    with smtp_server() as (host, port, inbox):
        settings = get_settings(database_url=database_url, data_dir=tmp_path / "var", smtp_host=host,
                                smtp_port=port, public_url="https://caregaps.example.org")
        with TestClient(create_app(settings)) as client:
            client.inbox = inbox
            yield client


def _signin(client, email="nurse@example.org"):
    assert client.post("/signin", data={"email": email, "password": PASSWORD},
                       follow_redirects=False).status_code == 303


def _csrf(html: str) -> str:
    return html.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def test_a_care_manager_sets_the_schedule_adds_an_email_previews_and_sends_now(web):
    _signin(web)
    page = web.get("/practices/p1/delivery")
    assert page.status_code == 200 and "No channels yet" in page.text and "America/Chicago" in page.text
    csrf = _csrf(page.text)
    # forms without the CSRF token are refused
    assert web.post("/practices/p1/delivery/channels", data={"kind": "email", "target": "a@b.org"},
                    follow_redirects=False).status_code == 403
    saved = web.post("/practices/p1/delivery/schedule", data={"csrf": csrf, "days": ["mon", "wed", "fri"],
                                                               "at": "06:30", "enabled": "on"})
    assert "Every mon, wed, fri at 06:30 (America/Chicago)" in saved.text
    bad = web.post("/practices/p1/delivery/channels", data={"csrf": csrf, "kind": "email", "target": "nobody"})
    assert "&#39;nobody&#39; is not an email address" in bad.text
    added = web.post("/practices/p1/delivery/channels", data={"csrf": csrf, "kind": "email",
                                                               "target": "care@riverside.example"})
    assert "Channel 1 added" in added.text and "care@riverside.example" in added.text
    preview = web.get("/practices/p1/delivery/preview")
    assert "Care-coordination worklist: Riverside" in preview.text and "/patients/p1/alice" in preview.text
    sent = web.post("/practices/p1/delivery/send", data={"csrf": csrf})
    assert "Sent now: email sent" in sent.text and "delivery-sent" in sent.text
    [(_, recipients, message)] = web.inbox.messages
    assert recipients == ["care@riverside.example"] and "2 patients" in message["Subject"]


def test_the_json_twin_manages_channels_and_shows_the_log(web):
    token = create_token(web.app.state.engine, "p1")
    auth = {"Authorization": f"Bearer {token}"}
    assert web.put("/api/delivery/p1/schedule", json={"days": "weekdays", "at": "7am"},
                   headers=auth).json()["detail"].startswith("at: '7am' is not a time of day")
    assert web.put("/api/delivery/p1/schedule", json={"days": "weekdays", "at": "07:15"},
                   headers=auth).json() == {"days": "mon,tue,wed,thu,fri", "at": "07:15", "enabled": True}
    refused = web.post("/api/delivery/p1/channels", json={"kind": "webhook", "target": "http://example.org/h"},
                       headers=auth)
    assert refused.status_code == 400 and "must use https" in refused.json()["detail"]
    assert web.post("/api/delivery/p1/send", headers=auth).status_code == 409  # no channel yet
    channel = web.post("/api/delivery/p1/channels", json={"kind": "email", "target": "a@riverside.example"},
                       headers=auth)
    assert channel.status_code == 201
    [outcome] = web.post("/api/delivery/p1/send", headers=auth).json()["deliveries"]
    assert outcome["status"] == "sent" and outcome["item_count"] == 2
    overview = web.get("/api/delivery/p1", headers=auth).json()
    assert overview["schedule"]["at"] == "07:15" and overview["webhook_secret"]
    [entry] = overview["log"]
    assert entry["status"] == "sent" and entry["trigger"] == "manual" and entry["attempt_log"][0]["outcome"] == "sent"
    old = overview["webhook_secret"]
    assert web.post("/api/delivery/p1/secret", headers=auth).json()["webhook_secret"] != old
    paused = web.patch(f"/api/delivery/p1/channels/{channel.json()['id']}", json={"enabled": False}, headers=auth)
    assert paused.json() == {"id": channel.json()["id"], "enabled": False}


def test_another_practice_and_a_quality_lead_cannot_change_delivery(web):
    _signin(web)
    assert web.get("/practices/p2/delivery").status_code == 404
    assert web.get("/practices/p2/delivery/preview").status_code == 404
    assert web.get("/api/delivery/p2").status_code == 404
    p2_token = create_token(web.app.state.engine, "p2")
    web.cookies.clear()
    assert web.get("/api/delivery/p1", headers={"Authorization": f"Bearer {p2_token}"}).status_code == 404
    web.cookies.clear()
    _signin(web, "lead@example.org")
    from caregaps.aco.rollup import rebuild_aco
    from caregaps.delivery.settings import add_channel

    rebuild_aco(web.app.state.engine)  # the ACO pseudo-practice exists, and leads see it, but has nothing to deliver
    assert web.get("/api/delivery/aco").status_code == 404
    assert web.get("/practices/aco/delivery").status_code == 404
    with pytest.raises(LookupError):
        add_channel(web.app.state.engine, "aco", "email", "lead@example.org")
    page = web.get("/practices/p1/delivery")
    assert page.status_code == 200 and "Send now" not in page.text and "Signing secret" not in page.text
    assert web.get("/api/delivery/p1").json()["webhook_secret"] is None
    assert web.post("/practices/p1/delivery/send", data={"csrf": _csrf(page.text)},
                    follow_redirects=False).status_code == 403
    assert web.put("/api/delivery/p1/schedule", json={"enabled": False}).status_code == 403
