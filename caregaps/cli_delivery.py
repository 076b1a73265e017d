"""`caregaps delivery ...`, `caregaps deliver` and `caregaps scheduler`: worklist delivery."""

from __future__ import annotations

import click

from caregaps import errors
from caregaps.cli import _engine, _fail, main


@main.group()
def delivery() -> None:
    """A practice's worklist delivery: schedule, channels, log."""


def _settings_or_fail(engine, practice_id: str):
    from caregaps.delivery.settings import delivery_settings

    try:
        return delivery_settings(engine, practice_id)
    except LookupError as exc:
        _fail(str(exc), errors.NOT_FOUND)


@delivery.command("show")
@click.option("--practice", "practice_id", required=True)
def delivery_show(practice_id: str) -> None:
    """The schedule, the channels and the next slot."""
    from caregaps.models import utcnow

    ds = _settings_or_fail(_engine(), practice_id)
    state = "enabled" if ds.schedule.enabled else "paused"
    nxt = ds.compiled().next_after(utcnow())
    click.echo(f"schedule: {ds.schedule.days} at {ds.schedule.at} {ds.practice.timezone} ({state}); "
               f"next {nxt:%Y-%m-%d %H:%M} UTC" if nxt else "no days")
    for c in ds.channels:
        click.echo(f"channel {c.id}: {c.kind} {c.format} {c.target}{'' if c.enabled else ' (paused)'}")


@delivery.command("schedule")
@click.option("--practice", "practice_id", required=True)
@click.option("--days", help="e.g. mon-fri, weekdays, daily, mon,wed,fri")
@click.option("--at", "at", help="Local time in the practice's timezone, HH:MM (24-hour).")
@click.option("--enable/--pause", "enabled", default=None)
def delivery_schedule(practice_id: str, days: str | None, at: str | None, enabled: bool | None) -> None:
    """Set when the practice gets its worklist."""
    from caregaps.delivery.settings import SettingsError, set_schedule

    engine = _engine()
    _settings_or_fail(engine, practice_id)
    try:
        s = set_schedule(engine, practice_id, days, at, enabled)
    except SettingsError as exc:
        _fail(str(exc), errors.USAGE)
    click.echo(f"{practice_id}: {s.days} at {s.at} ({'enabled' if s.enabled else 'paused'})")


@delivery.command("add-email")
@click.option("--practice", "practice_id", required=True)
@click.option("--to", "recipients", required=True, help="Addresses, comma-separated.")
def delivery_add_email(practice_id: str, recipients: str) -> None:
    """Send the worklist by email (HTML with a CSV attachment)."""
    _add(practice_id, "email", recipients, None)


@delivery.command("add-webhook")
@click.option("--practice", "practice_id", required=True)
@click.option("--url", required=True, help="https:// (http only to localhost).")
@click.option("--format", "fmt", type=click.Choice(["json", "fhir"]), default="json", show_default=True,
              help="fhir: a Bundle of Task resources, one per worklist item.")
def delivery_add_webhook(practice_id: str, url: str, fmt: str) -> None:
    """POST the worklist to a URL, signed with the practice's secret (printed here)."""
    ds = _add(practice_id, "webhook", url, fmt)
    click.echo(f"signing secret (HMAC-SHA256 over '<X-Caregaps-Timestamp>.<body>'): {ds.schedule.webhook_secret}")


def _add(practice_id: str, kind: str, target: str, fmt: str | None):
    from caregaps.config import get_settings
    from caregaps.delivery.settings import SettingsError, add_channel

    engine = _engine()
    ds = _settings_or_fail(engine, practice_id)
    try:
        channel = add_channel(engine, practice_id, kind, target, fmt, get_settings().webhook_allow_private)
    except SettingsError as exc:
        _fail(str(exc), errors.USAGE)
    click.echo(f"channel {channel.id}: {channel.kind} {channel.format} {channel.target}")
    return ds


@delivery.command("pause-channel")
@click.option("--practice", "practice_id", required=True)
@click.option("--channel", "channel_id", type=int, required=True)
@click.option("--resume", is_flag=True, help="Resume instead.")
def delivery_pause_channel(practice_id: str, channel_id: int, resume: bool) -> None:
    """Pause (or resume) one channel; its history is kept."""
    from caregaps.delivery.settings import set_channel_enabled

    try:
        c = set_channel_enabled(_engine(), practice_id, channel_id, resume)
    except LookupError as exc:
        _fail(str(exc), errors.NOT_FOUND)
    click.echo(f"channel {c.id}: {'enabled' if c.enabled else 'paused'}")


@delivery.command("log")
@click.option("--practice", "practice_id", required=True)
@click.option("--limit", default=20, show_default=True)
def delivery_log(practice_id: str, limit: int) -> None:
    """The latest deliveries: slot, channel, status, attempts, items, error."""
    from caregaps.delivery.log import delivery_log as read_log

    engine = _engine()
    _settings_or_fail(engine, practice_id)
    for d in read_log(engine, practice_id, limit):
        click.echo(f"{d['id']}\t{d['slot']}\t{d['trigger']}\t{d['channel']}\t{d['status']}\t"
                   f"attempts {d['attempts']}\titems {d['item_count'] if d['item_count'] is not None else '-'}"
                   f"\t{d['error'] or ''}")


@main.command()
@click.option("--practice", "practice_id", required=True)
@click.option("--now", "now", is_flag=True, help="Send now to every channel, whatever the schedule says.")
def deliver(practice_id: str, now: bool) -> None:
    """Send the practice's due worklist deliveries (with --now: a delivery right away)."""
    from caregaps.config import get_settings
    from caregaps.delivery.dispatch import deliver_due, record_now
    from caregaps.models import utcnow

    engine = _engine()
    ds = _settings_or_fail(engine, practice_id)
    if not [c for c in ds.channels if c.enabled]:
        _fail(f"practice {practice_id} has no enabled delivery channel; add one with "
              "`caregaps delivery add-email` or `add-webhook`", errors.NOT_FOUND)
    if now:
        record_now(engine, practice_id, utcnow())
    outcomes = deliver_due(engine, get_settings(), practices=[practice_id])
    if not outcomes:
        click.echo("nothing due")
    for o in outcomes:
        click.echo(f"delivery {o.delivery_id} ({o.channel}): {o.status}, {o.item_count} items"
                   + (f": {o.error}" if o.error else ""))
    if any(o.status != "sent" for o in outcomes):
        raise SystemExit(errors.FAILED)


@main.command()
def scheduler() -> None:
    """Run the scheduler alone (for deployments with several web workers: set CAREGAPS_SCHEDULER=off there)."""
    import logging
    import signal
    import threading

    from caregaps.config import get_settings
    from caregaps.scheduler import SchedulerService

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for noisy in ("alembic", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    service = SchedulerService(get_settings(), _engine())
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    service.start()
    click.echo(f"scheduler {service.lease.holder} running (Ctrl-C stops it)")
    stopped.wait()
    service.stop()
