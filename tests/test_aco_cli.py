"""`caregaps aco rebuild|matches|split` end to end on a real database."""

from __future__ import annotations

from click.testing import CliRunner

from caregaps.cli import main
from tests.test_aco_rollup import two_practices_one_shared_person


def test_cli_rebuilds_evaluates_lists_and_splits(engine, tmp_path, monkeypatch, database_url):
    monkeypatch.setenv("CAREGAPS_DATABASE_URL", database_url)
    two_practices_one_shared_person(engine, tmp_path)
    runner = CliRunner()
    rebuilt = runner.invoke(main, ["aco", "rebuild", "--evaluate", "--period-start", "2026-01-01",
                                   "--as-of", "2026-11-30"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "2 persons from 3 records; 1 with more than one record (2 records matched by MBI, 0 by" in rebuilt.output
    line = next(x for x in rebuilt.output.splitlines() if x.startswith("CMS130"))
    assert line.split()[1:4] == ["2", "1", "50.0%"]

    listed = runner.invoke(main, ["aco", "matches"])
    assert listed.exit_code == 0 and "p1/ana-1\tAna Rivera\t1960-05-01\tMBI 1EG4TE5MK73\tmbi" in listed.output
    assert "p2/77\tAna Rivera-Lopez" in listed.output and "ben" not in listed.output

    split = runner.invoke(main, ["aco", "split", "--record", "p1/ana-1", "--record", "p2/77", "--by", "a@aco.org"])
    assert split.exit_code == 0 and "now 3 persons" in split.output, split.output
    assert runner.invoke(main, ["aco", "matches"]).output == ""
    again = runner.invoke(main, ["aco", "split", "--record", "p1/ana-1", "--record", "p2/77"])
    assert again.exit_code == 2 and "already different people" in again.output
    assert runner.invoke(main, ["aco", "split", "--record", "p1"]).exit_code == 2
