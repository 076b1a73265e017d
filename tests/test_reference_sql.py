"""Each measure's compiled SQL is committed under measures/reference_sql/ and kept current, so a
change in what a measure means shows in review as a diff of its SQL."""

from __future__ import annotations

from click.testing import CliRunner

from caregaps.cli import main
from caregaps.cli_sql import REFERENCE_SQL
from caregaps.engine.catalog import load_catalog
from caregaps.engine.reference_sql import reference_files


def test_the_committed_sql_is_what_every_measure_compiles_to_on_both_engines():
    files = reference_files(list(load_catalog().measures.values()), REFERENCE_SQL)
    assert {p.parent.name for p in files} == {"sqlite", "postgresql"}
    stale = sorted(str(p.relative_to(REFERENCE_SQL)) for p, text in files.items()
                   if not p.exists() or p.read_text() != text)
    assert stale == [], "run `caregaps measures sql --write` and review the diff"


def test_the_command_finds_a_stale_file_and_rewrites_it(tmp_path):
    runner = CliRunner()
    assert runner.invoke(main, ["measures", "sql", "--write", "--root", str(tmp_path)]).exit_code == 0
    target = tmp_path / "sqlite" / "CMS165.sql"
    target.write_text(target.read_text().replace("mm[hg]", "mm[Hg]x"))
    checked = runner.invoke(main, ["measures", "sql", "--root", str(tmp_path)])
    assert checked.exit_code != 0 and "CMS165.sql" in checked.output
    assert runner.invoke(main, ["measures", "sql", "--root", str(tmp_path)]).exit_code != 0
    runner.invoke(main, ["measures", "sql", "--write", "--root", str(tmp_path)])
    assert runner.invoke(main, ["measures", "sql", "--root", str(tmp_path)]).exit_code == 0
