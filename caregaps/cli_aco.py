"""`caregaps aco ...`: the ACO roll-up, each person once across practices (caregaps.aco)."""

from __future__ import annotations

import click

from caregaps import errors
from caregaps.cli import _engine, _fail, main


@main.group()
def aco() -> None:
    """The ACO roll-up: patients matched across practices, ACO-level rates."""


@aco.command("rebuild")
@click.option("--evaluate", "then_evaluate", is_flag=True, help="Then evaluate every measure for the ACO.")
@click.option("--period-start", help="Default: the calendar year of today in the ACO's timezone.")
@click.option("--period-end")
@click.option("--as-of", help="The day the data is as of (default: today in the ACO's timezone).")
def aco_rebuild(then_evaluate, period_start, period_end, as_of) -> None:
    """Match patients across practices and rebuild the ACO; with --evaluate, print the ACO rates."""
    from datetime import date

    from caregaps.aco.evaluate import rebuild_and_evaluate
    from caregaps.aco.rollup import rebuild_aco
    from caregaps.cli import _now
    from caregaps.cli_measures import _catalog, _dates
    from caregaps.engine.codes import GapStatus, Population
    from caregaps.engine.gaps import performance_rate

    engine = _engine()
    try:
        if not then_evaluate:
            _summary(rebuild_aco(engine))
            return
        start, end = _dates(period_start, period_end)
        done = rebuild_and_evaluate(engine, start, end, date.fromisoformat(as_of) if as_of else None, _catalog(),
                                    now=_now())
    except ValueError as exc:
        _fail(str(exc), errors.USAGE)
    _summary(done.rebuilt)
    click.echo(f"period {done.period[0]} to {done.period[1]}")
    click.echo(f"{'measure':<9}{'DEN':>7}{'NUM':>7}{'rate':>8}{'open':>7}  run")
    for measure_id, c in done.runs.items():
        rate = performance_rate(c)
        click.echo(f"{measure_id:<9}{c[Population.DENOMINATOR]:>7}{c[Population.NUMERATOR]:>7}"
                   f"{f'{rate:.1%}' if rate is not None else 'n/a':>8}{c.get(GapStatus.OPEN, 0):>7}"
                   f"  {done.run_ids[measure_id]}")


def _summary(rebuilt) -> None:
    click.echo(f"{rebuilt.persons} persons from {rebuilt.records} records; {rebuilt.shared_persons} with more than "
               f"one record ({rebuilt.matched_by_mbi} records matched by MBI, {rebuilt.matched_by_demographics} by "
               f"demographics); {rebuilt.facts} facts")


@aco.command("matches")
@click.option("--limit", default=50, show_default=True, help="How many persons to list.")
def aco_matches(limit: int) -> None:
    """Persons with more than one record: each record's practice, patient, name, birth date, MBI, rule."""
    from caregaps.aco.people import shared_persons

    for person in shared_persons(_engine(), limit):
        click.echo(person["person_id"])
        for r in person["records"]:
            name = " ".join(x for x in (r["given"], r["family"]) if x) or "-"
            click.echo(f"  {r['practice_id']}/{r['patient_id']}\t{name}\t{r['birth_date'] or '-'}\t"
                       f"MBI {r['mbi'] or '-'}\t{r['rule']}")


@aco.command("split")
@click.option("--record", "records", multiple=True, required=True, help="practice/patient id (give two).")
@click.option("--by", "actor", help="Who says these are different people (default: cli:<your login>).")
def aco_split(records, actor) -> None:
    """Say two matched records are different people; the ACO is rebuilt at once."""
    import getpass

    from caregaps.aco.people import SplitError, parse_record, split_records

    actor = actor or f"cli:{getpass.getuser()}"
    if len(records) != 2:
        _fail("give exactly two --record practice/patient", errors.USAGE)
    try:
        rebuilt = split_records(_engine(), parse_record(records[0]), parse_record(records[1]), actor)
    except SplitError as exc:
        _fail(str(exc), errors.USAGE)
    click.echo(f"split {records[0]} from {records[1]} (by {actor}); now {rebuilt['persons']} persons")
