"""The admin page of ACO matches: each person with several records, how each record matched,
and a split form per pair. Its JSON twin is /api/aco/matches."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from caregaps.web.aco_api import read_matches, split
from caregaps.web.deps import EngineDep
from caregaps.web.pages import templates
from caregaps.web.pages_app import _admin, _form

router = APIRouter(include_in_schema=False)


@router.get("/admin/matches", response_class=HTMLResponse)
def matches_page(request: Request, engine: EngineDep, error: str = "", done: str = ""):
    ctx = _admin(request, engine)
    ctx.update(m=read_matches(engine, ctx["user"].email, "/admin/matches", 200), error=error, done=done)
    return templates.TemplateResponse(request, "aco_matches.html", ctx)


@router.post("/admin/matches/split")
async def split_form(request: Request, engine: EngineDep):
    ctx = _admin(request, engine)
    form = await _form(request, ctx)
    try:
        rebuilt = split(engine, ctx["user"].email, str(form.get("a", "")), str(form.get("b", "")),
                        "/admin/matches/split")
    except HTTPException as exc:
        return RedirectResponse("/admin/matches?" + urlencode({"error": str(exc.detail)}), status_code=303)
    message = f"Split {form.get('a')} from {form.get('b')}: the ACO now counts {rebuilt['persons']} persons."
    return RedirectResponse("/admin/matches?" + urlencode({"done": message}), status_code=303)
