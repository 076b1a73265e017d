"""Request dependencies: the database, and the practice a bearer token belongs to."""

from __future__ import annotations

from dataclasses import dataclass
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


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def token_practice(request: Request, engine: Annotated[Engine, Depends(get_engine)]) -> Practice:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("missing bearer token: send Authorization: Bearer <practice token>")
    practice = practice_for_token(engine, token.strip())
    if practice is None:
        raise AuthError("unknown or revoked token")
    return practice


EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
PracticeDep = Annotated[Practice, Depends(token_practice)]


@dataclass
class Viewer:
    """Who is asking and which practices they may see (a signed-in user, or a practice token)."""

    actor: str
    practices: list[str]
    user_id: int | None = None
    role: str | None = None
    session: dict | None = None


def session_user(request: Request, engine: Engine):
    from caregaps.models import User
    from caregaps.web.sessions import COOKIE, read_cookie

    data = read_cookie(request.app.state.secret_key, request.cookies.get(COOKIE))
    if data is None:
        return None, None
    with Session(engine) as s:
        user = s.get(User, data["uid"])
    return (user, data) if user is not None and user.active else (None, None)


def viewer(request: Request, engine: Annotated[Engine, Depends(get_engine)]) -> Viewer:
    from caregaps.users import practices_of

    user, data = session_user(request, engine)
    if user is not None:
        return Viewer(user.email, practices_of(engine, user), user.id, user.role, data)
    practice = token_practice(request, engine)
    return Viewer(f"token:{practice.id}", [practice.id])


ViewerDep = Annotated[Viewer, Depends(viewer)]


def scoped_practice(request: Request, engine: Annotated[Engine, Depends(get_engine)]) -> Practice:
    """The one practice a FHIR request is about: the token's, or for a signed-in user the practice
    named by `organization=Organization/<id>` (or their only one); 403 for a practice not theirs."""
    from fastapi import HTTPException

    from caregaps.users import practices_of

    user, _ = session_user(request, engine)
    if user is None:
        return token_practice(request, engine)
    allowed = practices_of(engine, user)
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
