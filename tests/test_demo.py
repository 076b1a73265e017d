"""The main job: sample practices are created and loaded, and running it again changes nothing."""

from __future__ import annotations

import re
import time
from pathlib import Path

from click.testing import CliRunner
from sqlmodel import func, select

from caregaps.cli import main
from caregaps.db import session
from caregaps.demo import load_samples
from caregaps.models import Patient, Practice
from caregaps.users import authenticate
from caregaps.practices import practice_for_token
from caregaps.synth import write_population

ROOT = Path(__file__).resolve().parent.parent


def test_given_a_sample_folder_when_loaded_twice_then_practices_exist_and_second_run_is_unchanged(engine, tmp_path):
    write_population(tmp_path / "ndjson", 6, 2, 3, "ndjson")
    lines: list[str] = []
    tokens = load_samples(engine, tmp_path, echo=lines.append)
    assert sorted(tokens) == ["p1", "p2"]
    assert practice_for_token(engine, tokens["p1"]).id == "p1"
    with session(engine) as s:
        assert s.exec(select(func.count()).select_from(Practice).where(Practice.kind == "practice")).one() == 2
        assert s.exec(select(func.count()).select_from(Patient).where(Patient.practice_id != "aco")).one() == 6
        assert 0 < s.exec(select(func.count()).select_from(Patient).where(Patient.practice_id == "aco")).one() <= 6
    assert any(line.strip().startswith("ACO: ") and "people in 6 patient records" in line for line in lines)
    assert any("0 rejected" in line for line in lines) and any("data quality:" in line for line in lines)
    rates = [line for line in lines if line.startswith("  p1: ")]
    assert rates and all(m in rates[0] for m in ("CMS122", "CMS125", "CMS130", "CMS165", "CMS2"))
    assert any(line.startswith("  p1: ") and " high, " in line for line in lines)
    login = next(line for line in lines if line.strip().startswith("care@caregaps.local"))
    password = login.split("password ", 1)[1]
    assert authenticate(engine, "care@caregaps.local", password) is not None
    from caregaps.worklist.queries import Filters, list_items
    assert list_items(engine, Filters(practices=["p1", "p2"]))[0] > 0
    again: list[str] = []
    load_samples(engine, tmp_path, echo=again.append)
    assert all(" 0 stored" in line for line in again if "stored" in line)


def test_given_the_committed_sample_then_its_manifest_names_every_practice_folder():
    import orjson

    manifest = orjson.loads((ROOT / "fhir_samples/ndjson/manifest.json").read_bytes())
    for spec in manifest["practices"]:
        files = list((ROOT / "fhir_samples/ndjson" / spec["id"]).glob("*.ndjson.gz"))
        assert any(f.name == "Patient.ndjson.gz" for f in files)


def test_every_command_the_readme_shows_exists():
    readme = (ROOT / "README.md").read_text()
    shown = set(re.findall(r"^caregaps ([a-z]+(?: [a-z][a-z-]*)?)", readme, re.M))
    assert shown, "the README shows no caregaps commands"
    for command in shown:
        result = CliRunner().invoke(main, [*command.split(), "--help"])
        assert result.exit_code == 0, f"README shows `caregaps {command}`, which does not exist"


def test_the_main_job_can_email_each_practice_its_worklist(engine, database_url, tmp_path):
    from caregaps.config import get_settings
    from caregaps.demo import deliver_to
    from tests.receivers import smtp_server

    write_population(tmp_path / "ndjson", 6, 2, 3, "ndjson")
    tokens = load_samples(engine, tmp_path, echo=lambda _: None)
    with smtp_server() as (host, port, inbox):
        settings = get_settings(database_url=database_url, smtp_host=host, smtp_port=port)
        lines: list[str] = []
        deliver_to(engine, settings, list(tokens), "care@clinic.example", echo=lines.append)
        time.sleep(1.1)  # a send-now is identified by its second: one in the same second is the same delivery
        deliver_to(engine, settings, list(tokens), "care@clinic.example", echo=lines.append)  # no second channel
    assert len(inbox.messages) == 4 and all(m[1] == ["care@clinic.example"] for m in inbox.messages)
    assert sum("delivery p1 to care@clinic.example: sent" in line for line in lines) == 2
