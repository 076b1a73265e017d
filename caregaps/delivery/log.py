"""Read the delivery log: every delivery of a practice with its channel and attempts."""

from __future__ import annotations

from sqlalchemy import Engine, select

from caregaps.delivery.models import Delivery, DeliveryAttempt, DeliveryChannel

DELIVERY, ATTEMPT, CHANNEL = Delivery.__table__, DeliveryAttempt.__table__, DeliveryChannel.__table__


def _iso(moment) -> str | None:
    return None if moment is None else moment.isoformat() + "Z"


def _local(moment, tz: str) -> str:
    """A naive UTC instant as the practice's wall time, e.g. 'Wed Dec 2, 06:45'."""
    from datetime import timezone
    from zoneinfo import ZoneInfo

    local = moment.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(tz))
    return f"{local:%a %b} {local.day}, {local:%H:%M}"


def delivery_log(engine: Engine, practice_id: str, limit: int = 50, with_attempts: bool = False) -> list[dict]:
    """The practice's latest deliveries, newest slot first."""
    with engine.connect() as conn:
        rows = conn.execute(select(DELIVERY, CHANNEL.c.kind, CHANNEL.c.target, CHANNEL.c.format)
                            .join(CHANNEL, CHANNEL.c.id == DELIVERY.c.channel_id)
                            .where(DELIVERY.c.practice_id == practice_id)
                            .order_by(DELIVERY.c.slot.desc(), DELIVERY.c.id.desc()).limit(limit)).mappings().all()
        attempts: dict[int, list[dict]] = {}
        if with_attempts and rows:
            for a in conn.execute(select(ATTEMPT).where(ATTEMPT.c.delivery_id.in_([r["id"] for r in rows]))
                                  .order_by(ATTEMPT.c.id)).mappings():
                attempts.setdefault(a["delivery_id"], []).append(
                    {"started_at": _iso(a["started_at"]), "finished_at": _iso(a["finished_at"]),
                     "outcome": a["outcome"], "error": a["error"], "item_count": a["item_count"]})
    return [{"id": r["id"], "slot": _iso(r["slot"]), "trigger": r["trigger"], "channel_id": r["channel_id"],
             "channel": f"{r['kind']} {r['target']}", "kind": r["kind"], "format": r["format"], "status": r["status"],
             "attempts": r["attempts"], "next_attempt_at": _iso(r["next_attempt_at"]) if r["status"] == "pending"
             else None, "item_count": r["item_count"], "new_gaps": r["new_gaps"], "closed_gaps": r["closed_gaps"],
             "error": r["error"], "sent_at": _iso(r["sent_at"]), "created_at": _iso(r["created_at"]),
             **({"attempt_log": attempts.get(r["id"], [])} if with_attempts else {})} for r in rows]


def delivery_overview(engine: Engine, practice_id: str, show_secret: bool, limit: int = 50) -> dict:
    """What the delivery page and its JSON twin show: schedule, next slot, channels, the log."""
    from caregaps.delivery.settings import delivery_settings
    from caregaps.models import utcnow

    ds = delivery_settings(engine, practice_id)
    nxt = ds.compiled().next_after(utcnow()) if ds.schedule.enabled else None
    return {
        "practice_id": practice_id, "practice_name": ds.practice.name,
        "schedule": {"days": ds.schedule.days, "at": ds.schedule.at, "timezone": ds.practice.timezone,
                     "enabled": ds.schedule.enabled, "next_slot": _iso(nxt),
                     "next_slot_local": None if nxt is None else _local(nxt, ds.practice.timezone)},
        "webhook_secret": ds.schedule.webhook_secret if show_secret else None,
        "channels": [{"id": c.id, "kind": c.kind, "target": c.target, "format": c.format, "enabled": c.enabled,
                      "created_at": _iso(c.created_at)} for c in ds.channels],
        "log": delivery_log(engine, practice_id, limit, with_attempts=True),
    }


def preview_digest(engine: Engine, practice_id: str, base_url: str):
    """The digest a delivery would carry now, counting gap changes since the practice's last delivery."""
    from sqlalchemy import func

    from caregaps.delivery.content import build_digest
    from caregaps.models import utcnow

    with engine.connect() as conn:
        since = conn.execute(select(func.max(DELIVERY.c.sent_at)).where(DELIVERY.c.practice_id == practice_id,
                                                                       DELIVERY.c.status == "sent")).scalar()
    return build_digest(engine, practice_id, since, utcnow(), base_url)
