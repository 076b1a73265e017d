"""Delivery JSON API: a practice's schedule, channels, signing secret, log, preview and send-now.

Members of a practice see its delivery settings; admins and the practice's own practice users
and care managers (and the practice's token) change them. Quality leads only look.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from caregaps.web.deps import EngineDep, SettingsDep, Viewer, ViewerDep

router = APIRouter(prefix="/api/delivery", tags=["Delivery"])
CHANGERS = ("admin", "practice-user", "care-manager")


class ScheduleChange(BaseModel):
    days: str | None = None  # mon-fri, weekdays, daily, mon,wed,fri
    at: str | None = None  # HH:MM in the practice's timezone
    enabled: bool | None = None


class NewChannel(BaseModel):
    kind: Literal["email", "webhook"]
    target: str  # email addresses (comma-separated) or the webhook URL
    format: Literal["html", "json", "fhir"] | None = None


class ChannelChange(BaseModel):
    enabled: bool


def may_change(viewer: Viewer) -> bool:
    return viewer.user_id is None or viewer.role in CHANGERS  # a practice token manages its own practice


def check_practice(viewer: Viewer, practice_id: str, change: bool = False) -> None:
    from caregaps.aco import ACO_ID

    if practice_id not in viewer.practices or practice_id == ACO_ID:
        raise HTTPException(404, f"no practice {practice_id!r} among yours")
    if change and not may_change(viewer):
        raise HTTPException(403, f"a {viewer.role} may not change delivery settings")


@router.get("/{practice_id}", summary="Schedule, next slot, channels and the delivery log")
def overview(practice_id: str, viewer: ViewerDep, engine: EngineDep, limit: int = 50) -> dict:
    from caregaps.delivery.log import delivery_overview

    check_practice(viewer, practice_id)
    return delivery_overview(engine, practice_id, may_change(viewer), min(max(limit, 1), 500))


@router.put("/{practice_id}/schedule", summary="Set the days and local time of delivery, or pause it")
def put_schedule(practice_id: str, body: ScheduleChange, viewer: ViewerDep, engine: EngineDep) -> dict:
    from caregaps.delivery.settings import SettingsError, set_schedule

    check_practice(viewer, practice_id, change=True)
    try:
        s = set_schedule(engine, practice_id, body.days, body.at, body.enabled)
    except SettingsError as exc:
        raise HTTPException(400, str(exc)) from None
    return {"days": s.days, "at": s.at, "enabled": s.enabled}


@router.post("/{practice_id}/channels", status_code=201, summary="Add an email or webhook channel")
def post_channel(practice_id: str, body: NewChannel, viewer: ViewerDep, engine: EngineDep,
                 settings: SettingsDep) -> dict:
    from caregaps.delivery.settings import SettingsError, add_channel

    check_practice(viewer, practice_id, change=True)
    try:
        c = add_channel(engine, practice_id, body.kind, body.target, body.format, settings.webhook_allow_private)
    except SettingsError as exc:
        raise HTTPException(400, str(exc)) from None
    return {"id": c.id, "kind": c.kind, "target": c.target, "format": c.format, "enabled": c.enabled}


@router.patch("/{practice_id}/channels/{channel_id}", summary="Pause or resume a channel")
def patch_channel(practice_id: str, channel_id: int, body: ChannelChange, viewer: ViewerDep,
                  engine: EngineDep) -> dict:
    from caregaps.delivery.settings import set_channel_enabled

    check_practice(viewer, practice_id, change=True)
    try:
        c = set_channel_enabled(engine, practice_id, channel_id, body.enabled)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
    return {"id": c.id, "enabled": c.enabled}


@router.post("/{practice_id}/secret", summary="Rotate the webhook signing secret")
def post_secret(practice_id: str, viewer: ViewerDep, engine: EngineDep) -> dict:
    from caregaps.delivery.settings import rotate_secret

    check_practice(viewer, practice_id, change=True)
    return {"webhook_secret": rotate_secret(engine, practice_id)}


@router.post("/{practice_id}/send", summary="Send the worklist now to every enabled channel")
def send_now(practice_id: str, viewer: ViewerDep, engine: EngineDep, settings: SettingsDep) -> dict:
    check_practice(viewer, practice_id, change=True)
    outcomes = send_practice_now(engine, settings, practice_id)
    return {"deliveries": [o.__dict__ for o in outcomes]}


@router.get("/{practice_id}/preview", response_class=HTMLResponse, summary="The email as it would be sent now")
def preview(practice_id: str, viewer: ViewerDep, engine: EngineDep, settings: SettingsDep) -> HTMLResponse:
    check_practice(viewer, practice_id)
    return HTMLResponse(preview_html(engine, settings, practice_id, viewer.actor))


def send_practice_now(engine, settings, practice_id: str) -> list:
    """Record a send-now delivery to each enabled channel and send what is due for the practice."""
    from caregaps.delivery.dispatch import deliver_due, record_now
    from caregaps.models import utcnow

    if not record_now(engine, practice_id, utcnow()):
        raise HTTPException(409, f"practice {practice_id} has no enabled delivery channel")
    return deliver_due(engine, settings, practices=[practice_id])


def preview_html(engine, settings, practice_id: str, actor: str) -> str:
    from caregaps.delivery.email import render_html
    from caregaps.delivery.log import preview_digest
    from caregaps.web.worklist_api import audit

    audit(engine, actor, "view", practice_id, None, f"/practices/{practice_id}/delivery/preview")
    return render_html(preview_digest(engine, practice_id, settings.public_url))
