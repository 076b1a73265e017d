"""Exactly-once delivery: record what is due, claim it, send it, and log every attempt.

1. `record_due` writes one `delivery` row per (practice, channel, slot) that is due, and nothing
   if the row exists: the unique key makes a second scheduler, a restart or a rerun harmless, and
   only the latest missed slot is recorded after downtime.
2. `claim_due` moves a row from pending to sending with a claim that lasts `claim_seconds`,
   in one conditional UPDATE: two senders can never both win it. The attempt is logged in the
   same transaction, before anything leaves the machine.
3. `send_claimed` sends it and marks it sent, or schedules a retry with exponential backoff
   (retry_seconds x 2^(attempt-1)) until `max_attempts`, then marks it failed.

A sender that dies after recording and before sending leaves a claim that expires; the next
pass claims it again and sends it once. A sender that dies after the receiver took the message
but before marking it sent is the one case that sends again; the retry carries the same
Message-ID (email) and Idempotency-Key (webhook) so receivers can drop it.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from caregaps.config import Settings
from caregaps.delivery.content import build_digest, worklist_items
from caregaps.delivery.models import Delivery, DeliveryAttempt, DeliveryChannel, DeliverySchedule
from caregaps.delivery.schedule import ScheduleError, make_schedule
from caregaps.models import Practice, utcnow

log = logging.getLogger("caregaps.delivery")
DELIVERY, ATTEMPT = Delivery.__table__, DeliveryAttempt.__table__
CHANNEL, SCHEDULE, PRACTICE = DeliveryChannel.__table__, DeliverySchedule.__table__, Practice.__table__


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Outcome:
    delivery_id: int
    channel: str
    status: str  # sent, pending (a retry is due), failed
    error: str | None = None
    item_count: int | None = None


def record_due(engine: Engine, now: datetime, practices: list[str] | None = None) -> int:
    """Record the latest due slot of every enabled channel that has not got it; how many were new."""
    query = (select(CHANNEL.c.id, CHANNEL.c.practice_id, CHANNEL.c.created_at, SCHEDULE.c.days, SCHEDULE.c.at,
                    PRACTICE.c.timezone, func.max(DELIVERY.c.slot).label("last_slot"))
             .join(SCHEDULE, SCHEDULE.c.practice_id == CHANNEL.c.practice_id)
             .join(PRACTICE, PRACTICE.c.id == CHANNEL.c.practice_id)
             .outerjoin(DELIVERY, and_(DELIVERY.c.channel_id == CHANNEL.c.id, DELIVERY.c.trigger == "schedule"))
             .where(CHANNEL.c.enabled, SCHEDULE.c.enabled)
             .group_by(CHANNEL.c.id, CHANNEL.c.practice_id, CHANNEL.c.created_at, SCHEDULE.c.days, SCHEDULE.c.at,
                       PRACTICE.c.timezone))
    if practices is not None:
        query = query.where(CHANNEL.c.practice_id.in_(practices))
    created = 0
    with engine.connect() as conn:
        channels = conn.execute(query).all()
    for ch in channels:
        try:
            schedule = make_schedule(ch.days, ch.at, ch.timezone)
        except ScheduleError as exc:  # settings are checked when saved; a bad timezone is skipped, loudly
            log.warning("practice %s: no deliveries recorded: %s", ch.practice_id, exc)
            continue
        slot = schedule.latest_due(ch.last_slot or ch.created_at, now)
        if slot is not None:
            created += _insert_delivery(engine, ch.practice_id, ch.id, slot, "schedule", now)
    return created


def record_now(engine: Engine, practice_id: str, now: datetime) -> list[int]:
    """A send-now delivery to each enabled channel of the practice (slot = this second); their ids."""
    slot = now.replace(microsecond=0)
    with engine.connect() as conn:
        channels = conn.execute(select(CHANNEL.c.id).where(CHANNEL.c.practice_id == practice_id,
                                                           CHANNEL.c.enabled)).scalars().all()
    for channel_id in channels:
        _insert_delivery(engine, practice_id, channel_id, slot, "manual", now)
    with engine.connect() as conn:
        return list(conn.execute(select(DELIVERY.c.id).where(DELIVERY.c.practice_id == practice_id,
                                                             DELIVERY.c.slot == slot)).scalars())


def _insert_delivery(engine: Engine, practice_id: str, channel_id: int, slot: datetime, trigger: str,
                     now: datetime) -> int:
    try:
        with engine.begin() as conn:
            conn.execute(insert(DELIVERY).values(practice_id=practice_id, channel_id=channel_id, slot=slot,
                                                 trigger=trigger, status="pending", attempts=0,
                                                 next_attempt_at=now, created_at=now))
        return 1
    except IntegrityError:  # another process recorded it first: that is the point
        return 0


def _due(now: datetime):
    """Pending deliveries whose time has come, and sending ones whose claim expired."""
    return or_(and_(DELIVERY.c.status == "pending", DELIVERY.c.next_attempt_at <= now),
               and_(DELIVERY.c.status == "sending", DELIVERY.c.claimed_until < now))


def due_deliveries(engine: Engine, now: datetime, practices: list[str] | None = None, limit: int = 5000) -> list[int]:
    """Ids of the deliveries to try now, to channels that are not paused, oldest first."""
    query = (select(DELIVERY.c.id).join(CHANNEL, CHANNEL.c.id == DELIVERY.c.channel_id)
             .where(_due(now), CHANNEL.c.enabled).order_by(DELIVERY.c.next_attempt_at, DELIVERY.c.id).limit(limit))
    if practices is not None:
        query = query.where(DELIVERY.c.practice_id.in_(practices))
    with engine.connect() as conn:
        return list(conn.execute(query).scalars())


def claim_one(engine: Engine, delivery_id: int, now: datetime, holder: str, claim_seconds: float,
              max_attempts: int) -> bool:
    """Claim one due delivery for `holder` and log the attempt, in one transaction; whether we won.

    A delivery whose sender died during its last allowed attempt is marked failed instead."""
    with engine.begin() as conn:
        abandoned = conn.execute(update(DELIVERY).where(
            DELIVERY.c.id == delivery_id, DELIVERY.c.status == "sending", DELIVERY.c.claimed_until < now,
            DELIVERY.c.attempts >= max_attempts).values(
            status="failed", claimed_until=None,
            error="gave up: the sender stopped during the last attempt")).rowcount
        if abandoned:
            return False
        won = conn.execute(update(DELIVERY).where(DELIVERY.c.id == delivery_id, _due(now))
                           .values(status="sending", claimed_by=holder,
                                   claimed_until=now + timedelta(seconds=claim_seconds),
                                   attempts=DELIVERY.c.attempts + 1)).rowcount
        if won:
            conn.execute(insert(ATTEMPT).values(delivery_id=delivery_id, started_at=now, outcome="sending",
                                                holder=holder))
    return bool(won)


def claim_due(engine: Engine, now: datetime, holder: str, claim_seconds: float,
              practices: list[str] | None = None, max_attempts: int = 6) -> list[int]:
    """Claim every due delivery at once (a sender that then sends them one by one); their ids."""
    return [i for i in due_deliveries(engine, now, practices)
            if claim_one(engine, i, now, holder, claim_seconds, max_attempts)]


class WorklistCache:
    """Each practice's worklist read once per pass and shared by its channels' deliveries (in any
    thread), then dropped once the last of them has read it."""

    def __init__(self, engine: Engine, uses: Counter):
        self.engine, self._uses = engine, uses
        self._items: dict[str, list[dict]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def items(self, practice_id: str) -> list[dict]:
        with self._guard:
            lock = self._locks.setdefault(practice_id, threading.Lock())
        with lock:
            items = self._items.get(practice_id)
            if items is None:
                items = self._items[practice_id] = worklist_items(self.engine, practice_id)
            self._uses[practice_id] -= 1
            if self._uses[practice_id] <= 0:
                del self._items[practice_id]
            return items


def send_claimed(engine: Engine, settings: Settings, delivery_id: int, holder: str,
                 cache: WorklistCache | None = None) -> Outcome:
    """Send one delivery that `holder` claimed and record the outcome (sent, a retry, or failed).

    The digest is as of the claim, and counts gap changes since the claim of the channel's last
    sent delivery, so that no change is counted twice or missed between two deliveries."""
    from caregaps.delivery.channels import send

    with engine.connect() as conn:
        d = conn.execute(select(DELIVERY, CHANNEL.c.kind, CHANNEL.c.target, CHANNEL.c.format, CHANNEL.c.created_at
                                .label("channel_created"), SCHEDULE.c.webhook_secret)
                         .join(CHANNEL, CHANNEL.c.id == DELIVERY.c.channel_id)
                         .join(SCHEDULE, SCHEDULE.c.practice_id == DELIVERY.c.practice_id)
                         .where(DELIVERY.c.id == delivery_id)).mappings().one()
        claimed_at = conn.execute(select(func.max(ATTEMPT.c.started_at)).where(
            ATTEMPT.c.delivery_id == delivery_id, ATTEMPT.c.holder == holder)).scalar()
        since = conn.execute(select(func.max(ATTEMPT.c.started_at)).join(DELIVERY, DELIVERY.c.id == ATTEMPT.c.delivery_id)
                             .where(DELIVERY.c.channel_id == d["channel_id"], ATTEMPT.c.outcome == "sent")).scalar()
    if d["status"] != "sending" or d["claimed_by"] != holder:
        return Outcome(delivery_id, d["kind"], d["status"], "not claimed by this sender")
    items, new, closed, note = 0, None, None, None
    try:
        cached = cache.items(d["practice_id"]) if cache is not None else None
        digest = build_digest(engine, d["practice_id"], since or d["channel_created"], claimed_at,
                              settings.public_url, cached)
        items, new, closed = len(digest.items), digest.new_gaps, digest.closed_gaps
        note = send(settings, dict(d), digest)
        error = None
    except Exception as exc:  # noqa: BLE001  (any failure, reading or sending, is recorded and retried)
        error = f"{type(exc).__name__}: {exc}"[:2000]
    return _finish(engine, settings, d, holder, items, new, closed, error, note)


def _finish(engine: Engine, settings: Settings, d: dict, holder: str, items: int, new: int | None,
            closed: int | None, error: str | None, note: str | None = None) -> Outcome:
    now = utcnow()
    if error is None:
        values = {"status": "sent", "sent_at": now, "error": note}
    elif d["attempts"] >= settings.delivery_max_attempts:
        values = {"status": "failed", "error": error}
    else:
        backoff = settings.delivery_retry_seconds * 2 ** (d["attempts"] - 1)
        values = {"status": "pending", "error": error, "next_attempt_at": now + timedelta(seconds=backoff)}
    with engine.begin() as conn:
        conn.execute(update(DELIVERY).where(DELIVERY.c.id == d["id"], DELIVERY.c.claimed_by == holder)
                     .values(claimed_until=None, item_count=items, new_gaps=new, closed_gaps=closed, **values))
        last = conn.execute(select(func.max(ATTEMPT.c.id)).where(ATTEMPT.c.delivery_id == d["id"],
                                                                 ATTEMPT.c.holder == holder)).scalar()
        conn.execute(update(ATTEMPT).where(ATTEMPT.c.id == last)
                     .values(finished_at=now, outcome="sent" if error is None else "failed", error=error or note,
                             item_count=items))
    return Outcome(d["id"], d["kind"], values["status"], error or note, items)


def deliver_due(engine: Engine, settings: Settings, now: datetime | None = None,
                practices: list[str] | None = None, holder: str | None = None) -> list[Outcome]:
    """One pass: record what is due, then claim and send each delivery (several at once).

    Each delivery is claimed just before it is sent (not all at the start of the pass), under a
    token unique to this pass, so a long queue never outlives its claims and two passes in one
    process never take each other's deliveries."""
    now = now or utcnow()
    started = time.monotonic()
    token = f"{holder or holder_name()}/{uuid.uuid4().hex[:8]}"
    record_due(engine, now, practices)
    due = due_deliveries(engine, now, practices)
    if not due:
        return []
    with engine.connect() as conn:
        uses = Counter(conn.execute(select(DELIVERY.c.practice_id).where(DELIVERY.c.id.in_(due))).scalars())
    cache = WorklistCache(engine, uses)
    claim_seconds = _claim_seconds(settings)

    def claim_and_send(delivery_id: int) -> Outcome | None:
        moment = now + timedelta(seconds=time.monotonic() - started)  # the pass's clock, as it runs
        if not claim_one(engine, delivery_id, moment, token, claim_seconds, settings.delivery_max_attempts):
            return None  # another sender took it first
        return send_claimed(engine, settings, delivery_id, token, cache)

    workers = max(1, min(settings.delivery_concurrency, len(due)))
    with ThreadPoolExecutor(workers, thread_name_prefix="delivery") as pool:
        return [o for o in pool.map(claim_and_send, due) if o is not None]


def _claim_seconds(settings: Settings) -> float:
    """Long enough for a send to finish (its timeouts) before another sender may take it over."""
    return max(settings.smtp_timeout, settings.webhook_timeout) * 2 + 60
