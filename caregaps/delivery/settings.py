"""A practice's delivery settings: its schedule and channels, read and changed with checks that
name what is wrong (a bad day, an address without '@', a webhook that is not HTTPS)."""

from __future__ import annotations

import ipaddress
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from caregaps.db import session
from caregaps.delivery.models import DeliveryChannel, DeliverySchedule
from caregaps.delivery.schedule import Schedule, ScheduleError, format_days, make_schedule, parse_days, parse_time
from caregaps.models import Practice, utcnow

KINDS = {"email": ("html",), "webhook": ("json", "fhir")}
_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


class SettingsError(ValueError):
    """A delivery setting that is not allowed, naming the field."""


@dataclass
class DeliverySettings:
    practice: Practice
    schedule: DeliverySchedule
    channels: list[DeliveryChannel]

    def compiled(self) -> Schedule:
        return make_schedule(self.schedule.days, self.schedule.at, self.practice.timezone)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def delivery_settings(engine: Engine, practice_id: str) -> DeliverySettings:
    """The practice's schedule (created on first use: weekdays 07:00, enabled) and its channels."""
    with session(engine) as s:
        practice = s.get(Practice, practice_id)
        if practice is None or practice.kind == "aco":  # the ACO has no worklist to deliver
            raise LookupError(f"no practice {practice_id!r}")
        schedule = s.get(DeliverySchedule, practice_id)
        if schedule is None:
            try:
                s.add(DeliverySchedule(practice_id=practice_id, webhook_secret=new_secret()))
                s.commit()
            except IntegrityError:  # another request created it at the same moment: use that one
                s.rollback()
            schedule = s.get(DeliverySchedule, practice_id)
        channels = list(s.exec(select(DeliveryChannel).where(DeliveryChannel.practice_id == practice_id)
                               .order_by(DeliveryChannel.id)))
        return DeliverySettings(practice, schedule, channels)


def set_schedule(engine: Engine, practice_id: str, days: str | None = None, at: str | None = None,
                 enabled: bool | None = None) -> DeliverySchedule:
    """Change the schedule; days like 'mon-fri', at like '07:00' in the practice's timezone."""
    delivery_settings(engine, practice_id)
    try:
        parsed_days = parse_days(days) if days is not None else None
        parsed_at = parse_time(at) if at is not None else None
    except ScheduleError as exc:
        raise SettingsError(str(exc)) from None
    with session(engine) as s:
        schedule = s.get(DeliverySchedule, practice_id)
        if parsed_days is not None:
            schedule.days = format_days(parsed_days)
        if parsed_at is not None:
            schedule.at = f"{parsed_at:%H:%M}"
        if enabled is not None:
            schedule.enabled = enabled
        schedule.updated_at = utcnow()
        s.add(schedule)
        s.commit()
        return schedule


def rotate_secret(engine: Engine, practice_id: str) -> str:
    """A new webhook signing secret for the practice (the old one stops verifying at once)."""
    delivery_settings(engine, practice_id)
    with session(engine) as s:
        schedule = s.get(DeliverySchedule, practice_id)
        schedule.webhook_secret = new_secret()
        schedule.updated_at = utcnow()
        s.add(schedule)
        s.commit()
        return schedule.webhook_secret


def add_channel(engine: Engine, practice_id: str, kind: str, target: str, fmt: str | None = None,
                allow_private: bool = False) -> DeliveryChannel:
    """A new email or webhook channel; SettingsError if the kind, format, recipients or URL is wrong.
    A webhook may point at a private or loopback address only with `allow_private`
    (CAREGAPS_WEBHOOK_ALLOW_PRIVATE), so practice users cannot make the server call internal hosts."""
    if kind not in KINDS:
        raise SettingsError(f"kind: must be one of {', '.join(KINDS)}, got {kind!r}")
    fmt = fmt or KINDS[kind][0]
    if fmt not in KINDS[kind]:
        raise SettingsError(f"format: a {kind} channel takes {' or '.join(KINDS[kind])}, got {fmt!r}")
    target = normalized_recipients(target) if kind == "email" else checked_webhook_url(target, allow_private)
    delivery_settings(engine, practice_id)
    with session(engine) as s:
        channel = DeliveryChannel(practice_id=practice_id, kind=kind, target=target, format=fmt)
        s.add(channel)
        s.commit()
        s.refresh(channel)
        return channel


def set_channel_enabled(engine: Engine, practice_id: str, channel_id: int, enabled: bool) -> DeliveryChannel:
    """Pause or resume a channel (its delivery history is kept, so channels are never deleted)."""
    with session(engine) as s:
        channel = s.get(DeliveryChannel, channel_id)
        if channel is None or channel.practice_id != practice_id:
            raise LookupError(f"no delivery channel {channel_id} in practice {practice_id}")
        channel.enabled = enabled
        s.add(channel)
        s.commit()
        return channel


def normalized_recipients(text: str) -> str:
    addresses = [a.strip() for a in re.split(r"[,;\s]+", text or "") if a.strip()]
    if not addresses:
        raise SettingsError("target: name at least one email address")
    for address in addresses:
        if not _EMAIL.match(address):
            raise SettingsError(f"target: {address!r} is not an email address")
    return ",".join(addresses)


def checked_webhook_url(url: str, allow_private: bool = False) -> str:
    """An https:// URL to a public host; plain http and private, loopback or link-local addresses
    only with `allow_private` (and plain http then only to this machine)."""
    parts = urlsplit((url or "").strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise SettingsError(f"target: {url!r} is not an http(s) URL")
    if parts.scheme == "http" and not (allow_private and _loopback(parts.hostname)):
        raise SettingsError(f"target: {url!r} must use https (worklists carry PHI)")
    if not allow_private and private_host(parts.hostname):
        raise SettingsError(f"target: {url!r} points at a private or local address")
    return url.strip()


def private_host(host: str) -> bool:
    """Whether `host` (a name or an address literal) is this machine or a private network address."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False  # a name: its addresses are checked when the webhook is called
    return not address.is_global


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
