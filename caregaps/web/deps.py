"""Request dependencies: the database, the practice a bearer token belongs to, who is asking, and
the turn of a worklist or patient read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlmodel import Session

from caregaps.config import Settings
from caregaps.models import Practice
from caregaps.practices import practice_for_token


class AuthError(Exception):
    """Missing, unknown or revoked credentials (answered with 401 and an OperationOutcome)."""


class RequestTooLarge(Exception):
    """The request body is over CAREGAPS_MAX_REQUEST_BYTES (answered with 413)."""


# async although they do no I/O: FastAPI runs a plain `def` dependency on a worker thread, and
# handing every request to a thread and back just to read app.state cost more than the lookup
async def get_engine(request: Request) -> Engine:
    return request.app.state.engine


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_now(request: Request) -> datetime:
    """This instant by the app's clock (`create_app(clock=...)`), read once per request so that the
    default period and the as-of day of one answer agree."""
    return request.app.state.clock()


def token_practice(request: Request, engine: Annotated[Engine, Depends(get_engine)]) -> Practice:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("missing bearer token: send Authorization: Bearer <practice token>")
    practice = practice_for_token(engine, token.strip())
    if practice is None:
        raise AuthError("unknown or revoked token")
    return practice


async def page_turn(request: Request):
    """Worklist and patient reads run one at a time per worker process, in arrival order. They are
    short and CPU-bound: run side by side on several threads they share one GIL, so each takes as
    long as all of them together; one after another, each waits only for those that came first.
    Every other request (FHIR, exports, dashboards, changes) keeps the other threads, so a long one
    never holds these up. The lock is made in the app's lifespan, on its event loop."""
    async with request.app.state.page_turn:
        yield


PageTurn = Depends(page_turn, scope="function")  # released when the page is built, before it is sent
EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
NowDep = Annotated[datetime, Depends(get_now)]
PracticeDep = Annotated[Practice, Depends(token_practice)]


@dataclass
class Viewer:
    """Who is asking and which practices they may see (a signed-in user, or a practice token)."""

    actor: str
    practices: list[str]
    user_id: int | None = None
    role: str | None = None
    session: dict | None = None


def signed_in(request: Request, engine: Engine):
    """(user, session, the practices they see) from the session cookie, or (None, None, [])."""
    from caregaps.users import active_user
    from caregaps.web.sessions import COOKIE, read_cookie

    data = read_cookie(request.app.state.secret_key, request.cookies.get(COOKIE))
    found = active_user(engine, data["uid"]) if data is not None else None
    return (found[0], data, found[1]) if found is not None else (None, None, [])


def session_user(request: Request, engine: Engine):
    user, data, _ = signed_in(request, engine)
    return user, data


def viewer(request: Request, engine: Annotated[Engine, Depends(get_engine)]) -> Viewer:
    user, data, practices = signed_in(request, engine)
    if user is not None:
        return Viewer(user.email, practices, user.id, user.role, data)
    practice = token_practice(request, engine)
    return Viewer(f"token:{practice.id}", [practice.id])


ViewerDep = Annotated[Viewer, Depends(viewer)]


def check_admin(viewer: Viewer) -> None:
    """403 for anyone but a signed-in admin (practice tokens included)."""
    from fastapi import HTTPException

    if viewer.role != "admin":
        raise HTTPException(403, "admins only")


def scoped_practice(request: Request, engine: Annotated[Engine, Depends(get_engine)]) -> Practice:
    """The one practice a FHIR request is about: the token's, or for a signed-in user the practice
    named by `organization=Organization/<id>` (or their only one); 403 for a practice not theirs."""
    from fastapi import HTTPException

    user, _, allowed = signed_in(request, engine)
    if user is None:
        return token_practice(request, engine)
    wanted = (request.query_params.get("organization") or "").partition("/")[2]
    if not wanted and len(allowed) == 1:
        wanted = allowed[0]
    if not wanted:
        raise HTTPException(400, "name the practice: organization=Organization/<practice id>")
    if wanted not in allowed:
        raise HTTPException(403, f"practice {wanted!r} is not one of yours")
    with Session(engine) as s:
        return s.get(Practice, wanted)


ScopedPracticeDep = Annotated[Practice, Depends(scoped_practice)]
