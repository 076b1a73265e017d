"""Request dependencies: the database, and the practice a bearer token belongs to."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

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
