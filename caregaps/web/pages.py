"""Server-rendered pages (Jinja2). Until people sign in, the home page shows no practice data."""

from __future__ import annotations

from pathlib import Path

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from caregaps.engine.codes import GapStatus, Population


class PageEnvironment(jinja2.Environment):
    """Page data is plain dicts: `item.status` looks the key up first. Jinja's default tries the
    attribute first and raises AttributeError for every key it reads (about half of rendering a
    worklist page). The result is the same unless a dict has a key named like a dict method."""

    def getattr(self, obj, attribute):
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


router = APIRouter(include_in_schema=False)
# templates are read once per process (no stat of every template file on every page)
templates = Jinja2Templates(env=PageEnvironment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
                                                autoescape=jinja2.select_autoescape(), auto_reload=False))
templates.env.globals.update(Population=Population, GapStatus=GapStatus)  # templates name codes from engine.codes


@router.get("/", response_class=HTMLResponse)
def home(request: Request):
    return templates.TemplateResponse(request, "home.html", {})
