"""`caregaps measures sql`: write or check the reference SQL every measure compiles to."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from caregaps import errors
from caregaps.cli_measures import _catalog, measures

REFERENCE_SQL = Path(__file__).resolve().parents[1] / "measures" / "reference_sql"


@measures.command("sql")
@click.option("--write", is_flag=True, help="Rewrite the files (default: only check them).")
@click.option("--root", type=click.Path(path_type=Path), default=REFERENCE_SQL, show_default=True,
              help="Where the reference SQL files live.")
def measures_sql(write: bool, root: Path) -> None:
    """The SQL each measure compiles to (SQLite and PostgreSQL), for review: check the committed
    files under measures/reference_sql/, or rewrite them with --write."""
    from caregaps.engine.reference_sql import reference_files

    files = reference_files(list(_catalog().measures.values()), root)
    stale = [path for path, text in files.items() if not path.exists() or path.read_text() != text]
    if write:
        for path in stale:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(files[path])
            click.echo(f"wrote {path}")
        sys.exit(errors.OK)
    for path in stale:
        click.echo(f"stale: {path} (run `caregaps measures sql --write` and review the diff)", err=True)
    sys.exit(errors.USAGE if stale else errors.OK)
