"""Plain-text summaries of import jobs for the command line."""

from __future__ import annotations

import click
from sqlalchemy import Engine
from sqlmodel import func, select

from caregaps.db import session
from caregaps.models import ImportIssue, ImportJob


def print_job(engine: Engine, job: ImportJob, show: int) -> int:
    """Print the job's counts per type and its first `show` issues; returns the rejected count."""
    click.echo(f"import {job.id}: {job.status}")
    click.echo(f"  {'type':<28}{'stored':>9}{'unchanged':>11}{'deleted':>9}{'rejected':>10}")
    totals = {"stored": 0, "unchanged": 0, "deleted": 0, "rejected": 0}
    for rtype in sorted(job.counts):
        c = job.counts[rtype]
        click.echo(f"  {rtype:<28}" + "".join(f"{c.get(k, 0):>{w}}" for k, w in
                                            (("stored", 9), ("unchanged", 11), ("deleted", 9), ("rejected", 10))))
        for key in totals:
            totals[key] += c.get(key, 0)
    click.echo(f"  {'total':<28}{totals['stored']:>9}{totals['unchanged']:>11}{totals['deleted']:>9}"
               f"{totals['rejected']:>10}")
    with session(engine) as s:
        issues = s.exec(select(ImportIssue).where(ImportIssue.import_id == job.id)
                        .order_by(ImportIssue.id).limit(show)).all()
        count = s.exec(select(func.count()).select_from(ImportIssue)
                       .where(ImportIssue.import_id == job.id)).one()
    for issue in issues:
        click.echo(f"  {format_issue(issue)}")
    if count > len(issues):
        click.echo(f"  ... and {count - len(issues)} more issues (caregaps quality --import {job.id})")
    return totals["rejected"]


def format_issue(issue: ImportIssue) -> str:
    where = issue.file or "request"
    if issue.line is not None:
        where += f" line {issue.line}"
    if issue.entry is not None:
        where += f" entry {issue.entry}"
    who = f" {issue.resource_type or '?'}/{issue.resource_id or '?'}" if issue.resource_type else ""
    at = f" at {issue.path}" if issue.path else ""
    return f"{where}: {issue.severity}{who}{at}: {issue.message}"
