"""The delivery page in a real headless Chromium against a live server and a real SMTP server:
a care manager sets the schedule, adds an email channel, previews, sends now and sees the log."""

from __future__ import annotations


import pytest

from caregaps.config import get_settings
from caregaps.practices import add_practice
from caregaps.users import add_user
from caregaps.web.app import create_app
from tests.live_server import live_server
from tests.measure_data import diabetic, load
from tests.receivers import free_port, smtp_server
from tests.test_browser import CHROMIUM, END, START, TODAY

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (scripts/test.sh installs it)")


@pytest.fixture
def live(engine, database_url, tmp_path):
    from caregaps.engine.catalog import load_catalog
    from caregaps.engine.runs import run_measure
    from caregaps.worklist.sync import refresh_worklist

    add_practice(engine, "p1", "Riverside Family Medicine", "America/Chicago")
    load(engine, "p1", diabetic("alice", 9.5) + diabetic("bob", None), tmp_path)
    run_measure(engine, load_catalog().get("CMS122"), "p1", START, END, as_of=TODAY)
    refresh_worklist(engine, "p1", START, END, TODAY)
    add_user(engine, "nurse@example.org", "Nurse Joy", "care-manager", "correct horse battery", ["p1"])
    with smtp_server() as (host, smtp_port, inbox):
        port = free_port()
        settings = get_settings(database_url=database_url, data_dir=tmp_path / "var", smtp_host=host,
                                smtp_port=smtp_port, public_url=f"http://127.0.0.1:{port}")
        with live_server(create_app(settings), port) as base:
            yield base, inbox


def test_a_care_manager_sets_up_delivery_and_sends_the_worklist_in_a_real_browser(live, tmp_path):
    from playwright.sync_api import sync_playwright

    base, inbox = live
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(f"{base}/signin")
        page.fill("input[name=email]", "nurse@example.org")
        page.fill("input[name=password]", "correct horse battery")
        page.click("button[type=submit]")
        page.wait_for_url("**/worklist")
        page.click("text=Delivery p1")
        page.wait_for_url("**/practices/p1/delivery")
        page.uncheck("input[name=days][value=fri]")
        page.fill("input[name=at]", "06:45")
        page.click("text=Save schedule")
        page.wait_for_url("**done=**")
        assert "Every mon, tue, wed, thu at 06:45 (America/Chicago)" in page.inner_text("body")
        page.fill("input[name=target][placeholder^=care]", "care@riverside.example")
        page.click("text=Add email")
        page.wait_for_url("**done=**")
        assert "care@riverside.example" in page.inner_text("table")
        with page.expect_popup() as popup:
            page.click("text=Preview the email")
        preview = popup.value
        preview.wait_for_load_state()
        assert "Care-coordination worklist: Riverside Family Medicine" in preview.inner_text("body")
        preview.close()
        page.click("text=Send now")
        page.wait_for_url("**done=**")
        assert "Sent now: email sent" in page.inner_text("body")
        assert page.locator("tr.delivery-sent").count() == 1
        shot = tmp_path / "delivery.png"
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert shot.stat().st_size > 5000
    [(_, recipients, message)] = inbox.messages
    assert recipients == ["care@riverside.example"] and f"{base}/patients/p1/alice" in \
        message.get_body(("html",)).get_content()
