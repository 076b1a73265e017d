"""The command line: practices, tokens, ingest with exit codes, validate."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.builders import ndjson, observation, patient


def caregaps(database_url: str, *args: str, cwd=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "CAREGAPS_DATABASE_URL": database_url}
    return subprocess.run([sys.executable, "-m", "caregaps.cli", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_given_practice_and_export_when_ingested_from_cli_then_counts_and_issues_print(database_url, tmp_path):
    assert caregaps(database_url, "practice", "add", "--id", "p9", "--name", "North Clinic",
                    "--timezone", "America/Denver").returncode == 0
    (tmp_path / "x.ndjson").write_bytes(ndjson(patient(), observation("o1"), observation("o2", when="soon")))
    run = caregaps(database_url, "ingest", "--practice", "p9", str(tmp_path))
    assert run.returncode == 3, run.stderr  # some input was rejected
    assert "x.ndjson line 3: error Observation/o2 at Observation.effectiveDateTime" in run.stdout
    assert "Observation" in run.stdout and "total" in run.stdout


def test_given_unknown_practice_when_ingesting_then_exit_4(database_url, tmp_path):
    (tmp_path / "x.ndjson").write_bytes(ndjson(patient()))
    run = caregaps(database_url, "ingest", "--practice", "nope", str(tmp_path / "x.ndjson"))
    assert run.returncode == 4 and "unknown practice 'nope'" in run.stderr


def test_given_token_created_when_revoked_twice_then_second_fails(database_url):
    caregaps(database_url, "practice", "add", "--id", "p9", "--name", "North Clinic")
    token = caregaps(database_url, "token", "create", "--practice", "p9").stdout.strip()
    assert token.startswith("cg_") and len(token) > 40
    assert caregaps(database_url, "token", "revoke", token).returncode == 0
    assert caregaps(database_url, "token", "revoke", token).returncode == 4


def test_given_export_with_an_invalid_element_when_validated_then_nothing_is_stored_and_it_is_named(tmp_path):
    (tmp_path / "x.ndjson").write_bytes(ndjson(patient(), observation("o1", issued="yesterday")))
    url = f"sqlite:///{tmp_path / 'unused.db'}"
    strict = caregaps(url, "validate", str(tmp_path / "x.ndjson"))
    assert strict.returncode == 3 and "line 2" in strict.stdout and "Observation.issued" in strict.stdout
    assert caregaps(url, "validate", "--fast", str(tmp_path / "x.ndjson")).returncode == 0
    assert not (tmp_path / "unused.db").exists()


def test_given_ingest_killed_mid_import_when_run_again_then_store_matches_a_clean_run(database_url, tmp_path):
    import signal
    import time

    from sqlalchemy import func, select

    from caregaps.db import make_engine
    from caregaps.models import Fact, RawResource

    resources = [patient(f"pat{i}") for i in range(50)] + [
        observation(f"o{i}", pid=f"pat{i % 50}") for i in range(6000)]
    (tmp_path / "big.ndjson").write_bytes(ndjson(*resources))
    caregaps(database_url, "practice", "add", "--id", "p9", "--name", "North Clinic")
    env = {**os.environ, "CAREGAPS_DATABASE_URL": database_url, "CAREGAPS_INGEST_BATCH_SIZE": "200",
           "CAREGAPS_INGEST_WORKERS": "0"}
    proc = subprocess.Popen([sys.executable, "-m", "caregaps.cli", "ingest", "--practice", "p9",
                             str(tmp_path / "big.ndjson")], env=env, stdout=subprocess.DEVNULL)
    engine = make_engine(database_url)

    def stored() -> int:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(RawResource)).scalar_one()

    deadline = time.monotonic() + 60
    while stored() < 1000 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = stored()
    assert 0 < partial < 6050 and partial % 200 == 0  # whole batches of 200, never half a batch

    rerun = caregaps(database_url, "ingest", "--practice", "p9", str(tmp_path / "big.ndjson"))
    assert rerun.returncode == 0, rerun.stderr
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(RawResource)).scalar_one() == 6050
        assert conn.execute(select(func.count()).select_from(Fact)).scalar_one() == 6000
    engine.dispose()
