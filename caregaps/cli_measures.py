"""`caregaps measures`, `evaluate`, `explain`, `report`, `risk` and `user`: the engine and its people from the command line."""

from __future__ import annotations

import csv
import sys
from datetime import date
from pathlib import Path

import click

from caregaps import errors
from caregaps.cli import _engine, _fail, _now, main
from caregaps.engine.codes import GapStatus, Population
from caregaps.engine.gaps import eligible, performance_rate


def _dates(start: str | None, end: str | None) -> tuple[date | None, date | None]:
    """--period-start and --period-end as dates (None where not given)."""
    try:
        return (date.fromisoformat(start) if start else None), (date.fromisoformat(end) if end else None)
    except ValueError as exc:
        _fail(f"period: {exc} (use YYYY-MM-DD)", errors.USAGE)


def _period(engine, practice_ids: list[str], start: str | None, end: str | None, now) -> tuple[date, date]:
    """The given period; without --period-start, the practices' default period (at `now`)."""
    from caregaps.engine.runs import calendar_year, default_period

    first, last = _dates(start, end)
    try:
        first = first or default_period(engine, *practice_ids, now=now)[0]
    except LookupError as exc:
        _fail(str(exc), errors.NOT_FOUND)
    last = last or calendar_year(first)[1]
    if last < first:
        _fail(f"period end {last} is before its start {first}", errors.USAGE)
    return first, last


def _catalog():
    from caregaps.engine.catalog import load_catalog
    from caregaps.engine.source import SourceError

    try:
        return load_catalog()
    except SourceError as exc:
        _fail(f"{exc} (run `caregaps measures check` for every problem)", errors.USAGE)


def _measures(catalog, ids: tuple[str, ...]):
    try:
        return [catalog.get(i) for i in ids] if ids else list(catalog.measures.values())
    except KeyError as exc:
        _fail(str(exc.args[0]), errors.NOT_FOUND)


@main.group()
def measures() -> None:
    """The measure definitions in measures/."""


@measures.command("check")
@click.option("--root", type=click.Path(path_type=Path), help="A measures folder (default: the project's).")
def measures_check(root: Path | None) -> None:
    """Check every measure and library file; print each problem as file:line: key: message."""
    from caregaps.engine.catalog import check

    catalog, problems = check(root)
    for problem in problems:
        click.echo(str(problem), err=True)
    for measure in catalog.measures.values():
        click.echo(f"ok {measure.id} {measure.title} ({Path(measure.file).name})")
    sys.exit(errors.USAGE if problems else errors.OK)


@measures.command("list")
def measures_list() -> None:
    """List the measures with their canonical urls."""
    for m in _catalog().measures.values():
        click.echo(f"{m.id}\t{m.qpp or '-'}\t{m.improvement}\t{m.title}\t{m.url}")


@main.command()
@click.option("--period-start")
@click.option("--period-end")
@click.option("--measure", "measure_ids", multiple=True, help="A measure id such as CMS122 (default: all).")
@click.option("--practice", "practice_ids", multiple=True, help="A practice id (default: all).")
@click.option("--as-of", help="The day the data is as of (default: today in the practice's timezone).")
def evaluate(period_start, period_end, measure_ids, practice_ids, as_of) -> None:
    """Evaluate measures for practices, store the runs, and print the rates and gaps."""
    from caregaps.engine.catalog import default_root
    from caregaps.engine.runs import run_measure
    from caregaps.practices import list_practices
    from caregaps.terminology import load_valuesets

    now, engine = _now(), _engine()
    _dates(period_start, period_end)  # a bad date fails before anything is loaded
    load_valuesets(engine, default_root() / "valuesets")
    chosen = _measures(_catalog(), measure_ids)
    known = [p.id for p in list_practices(engine)]
    for pid in practice_ids:
        if pid not in known:
            _fail(f"no practice {pid!r}; known: {', '.join(known) or 'none'}", errors.NOT_FOUND)
    as_of_day = date.fromisoformat(as_of) if as_of else None
    shown = None
    for pid in practice_ids or known:
        period = _period(engine, [pid], period_start, period_end, now)
        if period != shown:  # practices in other timezones may be in another year around New Year
            click.echo(f"period {period[0]} to {period[1]}")
            click.echo(f"{'practice':<16}{'measure':<9}{'IP':>7}{'DEN':>7}{'EXCL':>7}{'NUM':>7}{'rate':>8}"
                       f"{'open':>7}{'prosp':>7}  run")
            shown = period
        for measure in chosen:
            click.echo(_run_line(pid, measure.id, run_measure(engine, measure, pid, *period, as_of_day, now=now)))


def _run_line(pid: str, measure_id: str, run) -> str:
    """One row of `evaluate`: the population counts, the rate, the open and prospective gaps, the run."""
    c, rate = run.counts, performance_rate(run.counts)
    return (f"{pid:<16}{measure_id:<9}{c[Population.INITIAL_POPULATION]:>7}{c[Population.DENOMINATOR]:>7}"
            f"{c[Population.DENOMINATOR] - eligible(c):>7}{c[Population.NUMERATOR]:>7}"
            f"{f'{rate:.1%}' if rate is not None else 'n/a':>8}"
            f"{c.get(GapStatus.OPEN, 0):>7}{c.get(GapStatus.PROSPECTIVE, 0):>7}  {run.id}")


@main.command()
@click.option("--practice", "practice_id", required=True)
@click.option("--patient", "patient_id", required=True, help="The patient id the practice sent.")
@click.option("--measure", "measure_id", required=True)
@click.option("--period-start")
@click.option("--period-end")
def explain(practice_id, patient_id, measure_id, period_start, period_end) -> None:
    """Say in plain language where a patient stands on a measure, and why (from the latest run)."""
    from caregaps.engine.explain import explain as explain_lines
    from caregaps.engine.results import latest_result

    measure = _measures(_catalog(), (measure_id,))[0]
    engine = _engine()
    start, end = _period(engine, [practice_id], period_start, period_end, _now())
    try:
        found = latest_result(engine, measure, practice_id, patient_id, start, end)
    except LookupError as exc:
        _fail(str(exc), errors.NOT_FOUND)
    for line in explain_lines(measure, found.populations, found.gap, found.evidence, found.likely_data_gap,
                              found.tz, (start.isoformat(), end.isoformat())):
        click.echo(line)


@main.command()
@click.option("--measure", "measure_id", required=True)
@click.option("--practice", "practice_id", help="A practice (default: all practices together).")
@click.option("--format", "fmt", type=click.Choice(["measurereport", "csv"]), default="measurereport", show_default=True)
@click.option("--period-start")
@click.option("--period-end")
def report(measure_id, practice_id, fmt, period_start, period_end) -> None:
    """Print the latest runs of a measure as a FHIR summary MeasureReport or a CSV of patients."""
    from caregaps.engine.results import CSV_COLUMNS, latest_runs, run_rows
    from caregaps.fhir.measurereport import summary_report
    from caregaps.practices import list_practices

    measure = _measures(_catalog(), (measure_id,))[0]
    engine = _engine()
    practices = [practice_id] if practice_id else [p.id for p in list_practices(engine)]
    start, end = _period(engine, practices, period_start, period_end, _now())
    runs = latest_runs(engine, measure.id, start, end, practice_id)
    if not runs:
        _fail(f"no run of {measure.id} for {start}..{end}; run `caregaps evaluate --measure {measure.id}` first",
              errors.NOT_FOUND)
    if fmt == "measurereport":
        click.echo(summary_report(measure, runs, start, end).model_dump_json(indent=2, exclude_none=True))
        return
    writer = csv.writer(sys.stdout)
    writer.writerow(CSV_COLUMNS)
    for row in run_rows(engine, runs):
        writer.writerow(row)


@main.command()
@click.option("--practice", "practice_ids", multiple=True, help="A practice id (default: all).")
@click.option("--model", "model_id", help="A risk model id (default: the only one in measures/risk/).")
@click.option("--as-of", help="The day the data is as of (default: today in the practice's timezone).")
@click.option("--show", default=10, show_default=True, help="How many of the highest-risk patients to list.")
def risk(practice_ids, model_id, as_of, show) -> None:
    """Score patients with the risk model and CMS-HCC V28, store the scores, list the highest."""
    from caregaps.engine.catalog import default_root
    from caregaps.engine.risk_runs import score_practice
    from caregaps.engine.runs import practice_today
    from caregaps.practices import list_practices
    from caregaps.terminology import load_valuesets

    engine = _engine()
    load_valuesets(engine, default_root() / "valuesets")
    try:
        model = _catalog().risk_model(model_id)
    except KeyError as exc:
        _fail(str(exc.args[0]), errors.NOT_FOUND)
    known = [p.id for p in list_practices(engine)]
    for pid in practice_ids:
        if pid not in known:
            _fail(f"no practice {pid!r}; known: {', '.join(known) or 'none'}", errors.NOT_FOUND)
    day, now = (date.fromisoformat(as_of) if as_of else None), _now()
    for pid in practice_ids or known:
        scored = score_practice(engine, model, pid, day or practice_today(engine, pid, now))
        tiers = {t: sum(r.tier == t for r, _ in scored) for t in ("high", "rising", "low")}
        click.echo(f"{pid}: {len(scored)} patients, {tiers['high']} high, {tiers['rising']} rising, {tiers['low']} low")
        for r, hcc in scored[:show]:
            hcc_text = f"HCC V28 {hcc.score:.3f}" if hcc else "HCC V28 n/a"
            click.echo(f"  {r.patient_id}  {r.tier:<6} {r.score:>3}  {hcc_text}  {', '.join(r.factors)}")


@main.group()
def user() -> None:
    """People who sign in to the web app."""


@user.command("add")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(["admin", "quality-lead", "care-manager", "practice-user"]))
@click.option("--practice", "practice_ids", multiple=True, help="A practice the user works for (repeatable).")
@click.password_option(help="At least 10 characters (prompted when not given).")
def user_add(email, name, role, practice_ids, password) -> None:
    """Add a user with a role and practice memberships."""
    from caregaps.users import add_user

    try:
        added = add_user(_engine(), email, name, role, password, list(practice_ids))
    except ValueError as exc:
        _fail(str(exc), errors.USAGE)
    click.echo(f"added {added.email} ({added.role}) to {', '.join(practice_ids) or 'no practice'}")


from caregaps import cli_sql  # noqa: E402,F401  (registers measures sql)
