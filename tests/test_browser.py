"""The pages in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright) against
a real server on loopback: sign in, open the worklist, filter, change a status, add a note,
reload and see it kept, and save a screenshot."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from caregaps.config import get_settings
from caregaps.engine.catalog import load_catalog
from caregaps.engine.risk_runs import score_practice
from caregaps.engine.runs import run_measure
from caregaps.practices import add_practice
from caregaps.users import add_user
from caregaps.web.app import create_app
from caregaps.worklist.sync import refresh_worklist
from tests.live_server import live_server as live
from tests.measure_data import diabetic, load

CHROMIUM = Path("/usr/bin/chromium")
START, END, TODAY = date(2026, 1, 1), date(2026, 12, 31), date(2026, 11, 22)
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (scripts/test.sh installs it)")


@pytest.fixture
def live_server(engine, database_url, tmp_path):
    add_practice(engine, "p1", "Riverside", "UTC")
    load(engine, "p1", diabetic("alice", 9.5, birth="1952-02-01") + diabetic("bob", None), tmp_path)
    catalog = load_catalog()
    run_measure(engine, catalog.get("CMS122"), "p1", START, END, as_of=TODAY)
    score_practice(engine, catalog.risk_model("chronic-risk"), "p1", TODAY)
    refresh_worklist(engine, "p1", START, END, TODAY)
    add_user(engine, "nurse@example.org", "Nurse Joy", "care-manager", "correct horse battery", ["p1"])
    with live(create_app(get_settings(database_url=database_url, data_dir=tmp_path / "var"))) as base:
        yield base


def test_a_care_manager_works_the_worklist_in_a_real_browser(live_server, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(f"{live_server}/worklist")
        assert page.url.endswith("/signin")
        page.fill("input[name=email]", "nurse@example.org")
        page.fill("input[name=password]", "correct horse battery")
        page.click("button[type=submit]")
        page.wait_for_url("**/worklist")
        assert page.locator("tbody tr").count() == 2

        page.select_option("select[name=tier]", "rising")  # alice: diabetes + HbA1c > 9% = 3 points
        page.click("text=Filter")
        page.wait_for_url("**tier=rising**")
        rows = page.locator("tbody tr")
        assert rows.count() == 1 and rows.first.get_attribute("data-patient") == "alice"

        rows.first.locator("a").click()
        page.wait_for_url("**/patients/p1/alice")
        assert "9.5 % on Mar 2, 2026" in page.inner_text("body")
        page.select_option("select[name=status]", "outreach-attempted")
        page.fill("textarea[name=note]", "Called twice, no answer")
        page.click("text=Save")
        page.wait_for_load_state()
        page.reload()
        assert page.inner_text("#item-status") == "outreach-attempted"
        assert "Called twice, no answer" in page.inner_text("#history")

        page.goto(f"{live_server}/worklist?status=outreach-attempted")
        assert page.locator("tbody tr td.status").first.inner_text() == "outreach-attempted"
        shot = tmp_path / "worklist.png"
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert shot.stat().st_size > 5000
