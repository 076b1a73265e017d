"""The dashboard in a real headless Chromium: a quality lead sees the ACO line (each person once,
with all their data), each practice's line, the trend charts, and drills down to the patients;
the screenshot is checked for the rates it shows."""

from __future__ import annotations

from datetime import date

import pytest

from caregaps.aco.evaluate import rebuild_and_evaluate
from caregaps.config import get_settings
from caregaps.engine.catalog import load_catalog
from caregaps.engine.runs import run_measure
from caregaps.practices import add_practice
from caregaps.users import add_user
from caregaps.web.app import create_app
from tests.live_server import live_server
from tests.measure_data import diabetic, hba1c, load
from tests.test_browser import CHROMIUM

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (scripts/test.sh installs it)")
START, END, TODAY = date(2026, 1, 1), date(2026, 12, 31), date(2026, 11, 22)
MBI = "http://hl7.org/fhir/sid/us-mbi"


def with_mbi(resources: list[dict], mbi: str) -> list[dict]:
    resources[0]["identifier"] = [{"system": MBI, "value": mbi}]
    return resources


@pytest.fixture
def live(engine, database_url, tmp_path):
    """CMS122 (inverse): p1 has Ann (HbA1c 9.5, a gap) and Sam (9.5 in March); p2 has Sam again (same
    MBI) with 7.0 in October. Practices: p1 2 of 2 poorly controlled, p2 0 of 1; the ACO sees Sam's
    latest reading from p2: 1 of 2 people."""
    add_practice(engine, "p1", "Riverside", "America/Chicago")
    add_practice(engine, "p2", "Lakeside", "America/Chicago")
    load(engine, "p1", with_mbi(diabetic("ann", 9.5), "1EG4TE5MK71") + with_mbi(diabetic("sam", 9.5), "1EG4TE5MK72"),
         tmp_path)
    load(engine, "p2", with_mbi(diabetic("sam-b", None), "1EG4TE5MK72") + [hba1c("sam-b-a1c", "sam-b", 7.0, "2026-10-01")],
         tmp_path)
    for pid in ("p1", "p2"):
        run_measure(engine, load_catalog().get("CMS122"), pid, START, END, as_of=TODAY)
    rebuild_and_evaluate(engine, START, END, as_of=TODAY, measure_ids=["CMS122"])
    add_user(engine, "lead@example.org", "Quinn Lead", "quality-lead", "correct horse battery", [])
    with live_server(create_app(get_settings(database_url=database_url, data_dir=tmp_path / "v"))) as base:
        yield base


def test_a_quality_lead_reads_the_dashboard_in_a_real_browser(live, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{live}/signin")
        page.fill("input[name=email]", "lead@example.org")
        page.fill("input[name=password]", "correct horse battery")
        page.click("button[type=submit]")
        page.wait_for_url("**/worklist")
        page.goto(f"{live}/dashboard?periodStart=2026-01-01&periodEnd=2026-12-31")
        section = page.locator("#measure-CMS122")
        rates = {row.get_attribute("data-key"): row.locator("td.rate").inner_text()
                 for row in section.locator("tbody tr[data-key]").all()}
        assert rates == {"aco": "50.0%", "p1": "100.0%", "p2": "0.0%"}
        assert "inverse measure: lower is better" in section.inner_text()
        assert section.locator("svg.trend circle.point").count() == 1
        shot = tmp_path / "dashboard.png"
        section.screenshot(path=str(shot))
        # drill down: the ACO's numerator is Ann alone
        section.locator("tr[data-key=aco] td").nth(5).locator("a").click()
        page.wait_for_url("**population=numerator**")
        assert page.locator("tbody tr[data-patient]").count() == 1
        browser.close()
    assert shot.stat().st_size > 5000
