"""Signed-in pages: sign-in, the worklist, the patient page, data quality, users.

Every form carries a CSRF token tied to the session; every page checks the user's practices;
patient pages and changes are written to the audit log. Each page has a JSON twin under /api.
"""

from __future__ import annotations

import math
from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import bindparam
from sqlmodel import select

from caregaps.db import session
from caregaps.models import Membership, Practice, User, utcnow
from caregaps.quality import practice_quality
from caregaps.users import ROLES, add_user, authenticate, list_users, set_memberships
from caregaps.web.deps import EngineDep, PageTurn, signed_in
from caregaps.web.fhir_measures import catalog_of
from caregaps.web.pages import templates
from caregaps.web.sessions import COOKIE, LIFETIME, csrf_ok, csrf_token, make_cookie
from caregaps.web.worklist_api import audit
from caregaps.worklist.changes import Change, ChangeError, apply_change
from caregaps.worklist.patient_view import patient_view
from caregaps.worklist.queries import Filters, get_item, list_items
from caregaps.worklist.rules import DISMISS_REASONS, STATUSES, WORKED

router = APIRouter(include_in_schema=False)


class SignInRequired(Exception):
    """Answered with a redirect to /signin."""


def _context(request: Request, engine) -> dict:
    user, data, practices = signed_in(request, engine)
    if user is None:
        raise SignInRequired()
    return {"user": user, "session": data, "practices": practices,
            "csrf": csrf_token(request.app.state.secret_key, data)}


async def _form(request: Request, ctx: dict) -> dict:
    form = await request.form()
    if not csrf_ok(request.app.state.secret_key, ctx["session"], form.get("csrf")):
        raise HTTPException(403, "missing or wrong CSRF token; reload the page and try again")
    return form


_CARE_MANAGERS = (select(User.__table__.c.id, User.__table__.c.name)
                  .where(User.__table__.c.role == "care-manager",
                         User.__table__.c.id.in_(select(Membership.__table__.c.user_id).where(
                             Membership.__table__.c.practice_id.in_(bindparam("practices", expanding=True)))))
                  .order_by(User.__table__.c.name))


def _users(engine, practices: list[str]) -> list:
    """The care managers of these practices (id and name), for the assignee choices."""
    with engine.connect() as conn:
        return list(conn.execute(_CARE_MANAGERS, {"practices": practices}))


@router.get("/signin", response_class=HTMLResponse)
def signin_page(request: Request):
    return templates.TemplateResponse(request, "signin.html", {"user": None})


@router.post("/signin")
async def signin(request: Request, engine: EngineDep):
    form = await request.form()
    email, password = str(form.get("email", "")).strip().lower(), str(form.get("password", ""))
    throttle, client = request.app.state.throttle, f"ip:{request.client.host if request.client else '?'}"
    if throttle.blocked(f"email:{email}", client):
        return templates.TemplateResponse(request, "signin.html", {"user": None, "email": email, "error":
                                          "Too many failed sign-ins; wait 15 minutes and try again."}, status_code=429)
    user = authenticate(engine, email, password)
    if user is None:
        throttle.failed(f"email:{email}", client)
        return templates.TemplateResponse(request, "signin.html", {"user": None, "email": email,
                                          "error": "Wrong email or password."}, status_code=401)
    throttle.succeeded(f"email:{email}", client)
    response = RedirectResponse("/worklist", status_code=303)
    response.set_cookie(COOKIE, make_cookie(request.app.state.secret_key, user.id), max_age=LIFETIME, httponly=True,
                        samesite="lax", secure=request.app.state.settings.secure_cookies)
    return response


@router.post("/signout")
async def signout(request: Request, engine: EngineDep):
    await _form(request, _context(request, engine))
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/worklist", response_class=HTMLResponse, dependencies=[PageTurn])
def worklist_page(request: Request, engine: EngineDep, practice: str = "", status: str = "", tier: str = "",
                  measure: str = "", assignee: str = "", sort: str = "priority", page: int = 1):
    ctx = _context(request, engine)
    practices = [p for p in ctx["practices"] if not practice or p == practice]
    filters = Filters(practices, [status] if status else list(WORKED), [tier] if tier else [], measure or None,
                      int(assignee) if assignee.isdigit() else None, sort if sort in ("priority", "risk", "due", "updated")
                      else "priority", max(page, 1), 25)
    total, items = list_items(engine, filters)
    pages = max(1, math.ceil(total / filters.per_page))
    query = {"practice": practice, "status": status, "tier": tier, "measure": measure, "assignee": assignee, "sort": sort}
    ctx.update(items=items, total=total, page=filters.page, pages=pages, statuses=STATUSES, users=_users(engine, ctx["practices"]),
               measures=sorted(catalog_of(request, engine).measures), f=query,
               prev_url="/worklist?" + urlencode({**query, "page": filters.page - 1}),
               next_url="/worklist?" + urlencode({**query, "page": filters.page + 1}))
    return templates.TemplateResponse(request, "worklist.html", ctx)


@router.post("/worklist/assign")
async def assign_page(request: Request, engine: EngineDep):
    ctx = _context(request, engine)
    form = await _form(request, ctx)
    assignee = str(form.get("assignee_id") or "")
    for raw in form.getlist("item_ids"):
        item = get_item(engine, int(raw), ctx["practices"])
        if item is None:
            raise HTTPException(404, f"no worklist item {raw} among your practices")
        apply_change(engine, item["id"], Change(assignee_id=int(assignee) if assignee else None, unassign=not assignee),
                     ctx["user"].email)
        audit(engine, ctx["user"].email, "change", item["practice_id"], item["patient_id"], "/worklist/assign")
    return RedirectResponse(request.headers.get("referer") or "/worklist", status_code=303)


@router.get("/patients/{practice_id}/{patient_id}", response_class=HTMLResponse, dependencies=[PageTurn])
def patient_page(practice_id: str, patient_id: str, request: Request, engine: EngineDep, error: str = ""):
    ctx = _context(request, engine)
    view = _view(request, engine, ctx, practice_id, patient_id)
    ctx.update(p=view, statuses=[s for s in STATUSES if s != "closed-by-data"], reasons=DISMISS_REASONS, error=error)
    return templates.TemplateResponse(request, "patient.html", ctx)


def _view(request: Request, engine, ctx: dict, practice_id: str, patient_id: str) -> dict:
    view = patient_view(engine, catalog_of(request, engine), practice_id, patient_id, request.app.state.clock()) \
        if practice_id in ctx["practices"] else None
    if view is None:
        raise HTTPException(404, f"no patient {patient_id} in your practices")
    audit(engine, ctx["user"].email, "view", practice_id, patient_id, str(request.url.path))
    return view


@router.post("/worklist/{item_id}")
async def change_page(item_id: int, request: Request, engine: EngineDep):
    ctx = _context(request, engine)
    form = await _form(request, ctx)
    item = get_item(engine, item_id, ctx["practices"])
    if item is None:
        raise HTTPException(404, f"no worklist item {item_id} among your practices")
    day = lambda name: date.fromisoformat(form[name]) if form.get(name) else None  # noqa: E731
    status = form.get("status") or None
    change = Change(status=status if status != item["status"] else None, due_date=day("due_date"),
                    dismissed_reason=form.get("dismissed_reason") or None, dismissed_until=day("dismissed_until"),
                    note=(form.get("note") or "").strip() or None)
    target = f"/patients/{item['practice_id']}/{item['patient_id']}"
    try:
        apply_change(engine, item_id, change, ctx["user"].email)
    except ChangeError as exc:
        return RedirectResponse(target + "?" + urlencode({"error": str(exc)}), status_code=303)
    audit(engine, ctx["user"].email, "change", item["practice_id"], item["patient_id"], target)
    return RedirectResponse(target, status_code=303)


@router.get("/practices/{practice_id}/quality", response_class=HTMLResponse)
def quality_page(practice_id: str, request: Request, engine: EngineDep):
    ctx = _context(request, engine)
    if practice_id not in ctx["practices"]:
        raise HTTPException(404, f"no practice {practice_id} among yours")
    with session(engine) as s:
        ctx.update(practice=practice_id, report=practice_quality(s, practice_id, utcnow()))
    return templates.TemplateResponse(request, "quality.html", ctx)


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, engine: EngineDep, error: str = ""):
    ctx = _admin(request, engine)
    with session(engine) as s:
        ctx.update(people=list_users(engine), roles=ROLES, all_practices=list(s.exec(select(Practice.id).where(Practice.kind != "aco").order_by(Practice.id))),
                   error=error)
    return templates.TemplateResponse(request, "users.html", ctx)


@router.post("/admin/users")
async def add_user_page(request: Request, engine: EngineDep):
    ctx = _admin(request, engine)
    form = await _form(request, ctx)
    try:
        add_user(engine, str(form.get("email", "")), str(form.get("name", "")), str(form.get("role", "")),
                 str(form.get("password", "")), [str(p) for p in form.getlist("practices")])
    except ValueError as exc:
        return RedirectResponse("/admin/users?" + urlencode({"error": str(exc)}), status_code=303)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}/practices")
async def memberships_page(user_id: int, request: Request, engine: EngineDep):
    ctx = _admin(request, engine)
    form = await _form(request, ctx)
    try:
        set_memberships(engine, user_id, [str(p) for p in form.getlist("practices")])
    except ValueError as exc:
        return RedirectResponse("/admin/users?" + urlencode({"error": str(exc)}), status_code=303)
    return RedirectResponse("/admin/users", status_code=303)


def _admin(request: Request, engine) -> dict:
    ctx = _context(request, engine)
    if ctx["user"].role != "admin":
        raise HTTPException(403, "admins only")
    return ctx


def signin_redirect(_: Request, __: SignInRequired) -> Response:
    return RedirectResponse("/signin", status_code=303)
