"""The delivery page of a practice: schedule, channels, signing secret, the log with every
attempt, a preview of the email and a send-now button. Its JSON twin is /api/delivery."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from caregaps.aco import ACO_ID
from caregaps.delivery.log import delivery_overview
from caregaps.web.delivery_api import CHANGERS, preview_html, send_practice_now
from caregaps.web.deps import EngineDep
from caregaps.web.pages import templates
from caregaps.web.pages_app import _context, _form

router = APIRouter(include_in_schema=False)


def _member(request: Request, engine, practice_id: str, change: bool = False) -> dict:
    ctx = _context(request, engine)
    if practice_id not in ctx["practices"] or practice_id == ACO_ID:
        raise HTTPException(404, f"no practice {practice_id} among yours")
    ctx["may_change"] = ctx["user"].role in CHANGERS
    if change and not ctx["may_change"]:
        raise HTTPException(403, f"a {ctx['user'].role} may not change delivery settings")
    return ctx


def _back(practice_id: str, **message: str) -> RedirectResponse:
    query = f"?{urlencode(message)}" if message else ""
    return RedirectResponse(f"/practices/{practice_id}/delivery{query}", status_code=303)


@router.get("/practices/{practice_id}/delivery", response_class=HTMLResponse)
def delivery_page(practice_id: str, request: Request, engine: EngineDep, error: str = "", done: str = ""):
    ctx = _member(request, engine, practice_id)
    ctx.update(practice=practice_id, d=delivery_overview(engine, practice_id, ctx["may_change"]), error=error,
               done=done, days=("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
    return templates.TemplateResponse(request, "delivery.html", ctx)


@router.get("/practices/{practice_id}/delivery/preview", response_class=HTMLResponse)
def delivery_preview(practice_id: str, request: Request, engine: EngineDep):
    ctx = _member(request, engine, practice_id)
    return HTMLResponse(preview_html(engine, request.app.state.settings, practice_id, ctx["user"].email))


@router.post("/practices/{practice_id}/delivery/schedule")
async def schedule_form(practice_id: str, request: Request, engine: EngineDep):
    from caregaps.delivery.settings import SettingsError, set_schedule

    ctx = _member(request, engine, practice_id, change=True)
    form = await _form(request, ctx)
    try:
        set_schedule(engine, practice_id, ",".join(form.getlist("days")), str(form.get("at", "")),
                     form.get("enabled") == "on")
    except SettingsError as exc:
        return _back(practice_id, error=str(exc))
    return _back(practice_id, done="Schedule saved.")


@router.post("/practices/{practice_id}/delivery/channels")
async def channel_form(practice_id: str, request: Request, engine: EngineDep):
    from caregaps.delivery.settings import SettingsError, add_channel

    ctx = _member(request, engine, practice_id, change=True)
    form = await _form(request, ctx)
    try:
        c = add_channel(engine, practice_id, str(form.get("kind", "")), str(form.get("target", "")),
                        str(form.get("format") or "") or None, request.app.state.settings.webhook_allow_private)
    except SettingsError as exc:
        return _back(practice_id, error=str(exc))
    return _back(practice_id, done=f"Channel {c.id} added: {c.kind} {c.target}.")


@router.post("/practices/{practice_id}/delivery/channels/{channel_id}")
async def channel_toggle_form(practice_id: str, channel_id: int, request: Request, engine: EngineDep):
    from caregaps.delivery.settings import set_channel_enabled

    ctx = _member(request, engine, practice_id, change=True)
    form = await _form(request, ctx)
    try:
        c = set_channel_enabled(engine, practice_id, channel_id, form.get("enabled") == "true")
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
    return _back(practice_id, done=f"Channel {c.id} {'resumed' if c.enabled else 'paused'}.")


@router.post("/practices/{practice_id}/delivery/secret")
async def secret_form(practice_id: str, request: Request, engine: EngineDep):
    from caregaps.delivery.settings import rotate_secret

    ctx = _member(request, engine, practice_id, change=True)
    await _form(request, ctx)
    rotate_secret(engine, practice_id)
    return _back(practice_id, done="A new signing secret is in force; give it to your webhook receiver.")


@router.post("/practices/{practice_id}/delivery/send")
async def send_form(practice_id: str, request: Request, engine: EngineDep):
    from starlette.concurrency import run_in_threadpool

    ctx = _member(request, engine, practice_id, change=True)
    await _form(request, ctx)
    try:
        outcomes = await run_in_threadpool(send_practice_now, engine, request.app.state.settings, practice_id)
    except HTTPException as exc:
        return _back(practice_id, error=str(exc.detail))
    summary = ", ".join(f"{o.channel} {o.status}" + (f" ({o.error})" if o.error else "") for o in outcomes)
    return _back(practice_id, done=f"Sent now: {summary or 'nothing was due'}.")
