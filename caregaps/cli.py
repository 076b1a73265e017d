"""The `caregaps` command. Heavy imports wait until a command runs, so --help is instant."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from caregaps import errors


def _engine():
    from caregaps.config import get_settings
    from caregaps.db import make_engine, migrate

    engine = make_engine(get_settings().database_url)
    migrate(engine)
    return engine


def _now():
    """The instant the command reads "today" at, once: the clock given as `main(obj=clock)` (a
    test's, through CliRunner.invoke(..., obj=clock)), else this instant in UTC."""
    from datetime import datetime, timezone

    ctx = click.get_current_context(silent=True)
    clock = ctx.obj if ctx is not None else None
    return clock() if callable(clock) else datetime.now(timezone.utc)


def _fail(message: str, code: int) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@click.group()
@click.version_option(package_name="caregaps")
def main() -> None:
    """caregaps: find gaps in care in your practices' FHIR R4 exports."""


@main.command()
def migrate() -> None:
    """Create or upgrade the database schema (CAREGAPS_DATABASE_URL)."""
    _engine()
    click.echo("database is up to date")


@main.group()
def practice() -> None:
    """Manage practices."""


@practice.command("add")
@click.option("--id", "practice_id", required=True, help="Short id, e.g. p1.")
@click.option("--name", required=True)
@click.option("--timezone", default="America/New_York", show_default=True, help="IANA timezone.")
def practice_add(practice_id: str, name: str, timezone: str) -> None:
    """Add a practice."""
    from caregaps.practices import add_practice

    try:
        add_practice(_engine(), practice_id, name, timezone)
    except ValueError as exc:
        _fail(str(exc), errors.USAGE)
    click.echo(f"added practice {practice_id} ({name}, {timezone})")


@practice.command("list")
def practice_list() -> None:
    """List practices."""
    from sqlmodel import select

    from caregaps.db import session
    from caregaps.models import Practice

    with session(_engine()) as s:
        for p in s.exec(select(Practice).order_by(Practice.id)):
            click.echo(f"{p.id}\t{p.name}\t{p.timezone}")


@main.group()
def token() -> None:
    """Manage practice API tokens."""


@token.command("create")
@click.option("--practice", "practice_id", required=True)
@click.option("--label", default="")
def token_create(practice_id: str, label: str) -> None:
    """Print a new bearer token for the practice (shown once; only its hash is stored)."""
    from caregaps.practices import create_token

    try:
        click.echo(create_token(_engine(), practice_id, label))
    except LookupError as exc:
        _fail(str(exc), errors.NOT_FOUND)


@token.command("revoke")
@click.argument("value")
def token_revoke(value: str) -> None:
    """Revoke a token."""
    from caregaps.practices import revoke_token

    if not revoke_token(_engine(), value):
        _fail("no live token matches", errors.NOT_FOUND)
    click.echo("revoked")


@main.command()
@click.option("--practice", "practice_id", required=True)
@click.option("--strict", is_flag=True, help="Validate every element with fhir.resources (slow).")
@click.option("--show", default=20, show_default=True, help="How many issues to print.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def ingest(practice_id: str, strict: bool, show: int, paths: tuple[Path, ...]) -> None:
    """Ingest FHIR R4 files or folders (.json Bundles or resources, .ndjson, .ndjson.gz)."""
    from caregaps.config import get_settings
    from caregaps.ingest.jobs import create_job, run_job
    from caregaps.ingest.readers import input_files
    from caregaps.reporting import print_job

    settings = get_settings()
    engine = _engine()
    try:
        files = input_files(paths)
        job = create_job(engine, practice_id, "cli", [(f, str(f)) for f in files],
                         strict or settings.strict_validation)
    except (LookupError, FileNotFoundError) as exc:
        _fail(str(exc), errors.NOT_FOUND)
    try:
        job = run_job(engine, job.id, settings.ingest_batch_size, settings.ingest_workers)
    except Exception as exc:
        _fail(f"import {job.id} stopped: {exc}; the store is consistent, run the same command again",
              errors.FAILED)
    rejected = print_job(engine, job, show)
    sys.exit(errors.REJECTED if rejected else errors.OK)


@main.command()
@click.option("--fast", is_flag=True, help="Only the checks ingest makes, not full validation.")
@click.option("--show", default=50, show_default=True, help="How many issues to print.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(fast: bool, show: int, paths: tuple[Path, ...]) -> None:
    """Check an export before pushing it: nothing is stored."""
    from caregaps.ingest.readers import input_files
    from caregaps.ingest.validate import validate_files

    try:
        files = input_files(paths)
    except FileNotFoundError as exc:
        _fail(str(exc), errors.NOT_FOUND)
    report = validate_files(files, strict=not fast)
    for issue in report.issues[:show]:
        click.echo(str(issue))
    if len(report.issues) > show:
        click.echo(f"... and {len(report.issues) - show} more issues")
    click.echo(f"{report.resources} resources checked in {len(files)} files: "
               f"{report.rejected} would be rejected, {report.warnings} warnings")
    sys.exit(errors.REJECTED if report.rejected else errors.OK)


@main.command()
@click.option("--practice", "practice_id", required=True)
@click.option("--import", "import_id", default=None, help="One import job instead of the practice.")
def quality(practice_id: str, import_id: str | None) -> None:
    """Print the data-quality report (JSON) of a practice or of one import."""
    import orjson

    from caregaps.db import session
    from caregaps.models import utcnow
    from caregaps.quality import import_quality, practice_quality

    with session(_engine()) as s:
        report = (import_quality(s, import_id, utcnow()) if import_id
                  else practice_quality(s, practice_id, utcnow()))
    click.echo(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())


@main.command()
@click.option("--patients", default=1000, show_default=True)
@click.option("--practices", default=3, show_default=True)
@click.option("--seed", default=42, show_default=True)
@click.option("--out", required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["ndjson", "bundle"]), default="ndjson", show_default=True)
def synth(patients: int, practices: int, seed: int, out: Path, fmt: str) -> None:
    """Generate a deterministic synthetic population coded with the eCQM value sets."""
    from caregaps.synth import write_population

    summary = write_population(out, patients, practices, seed, fmt)
    for p in summary["practices"]:
        click.echo(f"{p['id']}\t{p['name']}\t{p['patients']} patients\t{p['resources']} resources\t{p['path']}")


@main.command()
@click.option("--host", default=None, help="Default CAREGAPS_HOST or 127.0.0.1.")
@click.option("--port", default=None, type=int, help="Default CAREGAPS_PORT or 8000.")
@click.option("--workers", default=None, type=click.IntRange(min=1),
              help="Worker processes; default CAREGAPS_WEB_WORKERS or 1.")
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the web app and the FHIR API."""
    import uvicorn

    from caregaps.config import get_settings
    from caregaps.web.sessions import secret_key

    settings = get_settings()
    _engine()
    secret_key(settings.secret_key, settings.data_dir)  # made once here, so every worker reads the same key
    uvicorn.run("caregaps.web.asgi:create", factory=True, workers=workers or settings.web_workers,
                host=host or settings.host, port=port or settings.port)


@main.command()
@click.option("--samples", default="fhir_samples", show_default=True, type=click.Path(path_type=Path))
@click.option("--serve/--no-serve", "then_serve", default=True, show_default=True)
@click.option("--deliver-to", "address", help="Also email each practice's worklist to this address now "
              "(and give it that channel); docker compose sends to mailpit.")
@click.pass_context
def demo(ctx: click.Context, samples: Path, then_serve: bool, address: str | None) -> None:
    """Set up, load the sample practices, run every stage, then serve the web app."""
    from caregaps.config import get_settings
    from caregaps.delivery.settings import SettingsError, normalized_recipients
    from caregaps.demo import deliver_to, load_samples

    if address:
        try:
            normalized_recipients(address)
        except SettingsError as exc:
            _fail(f"--deliver-to: {exc}", errors.USAGE)
    engine = _engine()
    tokens = load_samples(engine, samples, echo=click.echo)
    if address:
        deliver_to(engine, get_settings(), list(tokens), address, echo=click.echo)
    if then_serve:
        ctx.invoke(serve)


from caregaps import cli_measures  # noqa: E402,F401  (registers measures, evaluate, explain, report)
from caregaps import cli_delivery  # noqa: E402,F401  (registers delivery, deliver, scheduler)
from caregaps import cli_aco  # noqa: E402,F401  (registers aco)

if __name__ == "__main__":  # `python -m caregaps.cli`: run the imported module's group, which has every command
    from caregaps.cli import main as registered_main

    registered_main()
