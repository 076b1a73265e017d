"""Practices and their API tokens (stored as SHA-256 hashes; revocable)."""

from __future__ import annotations

import hashlib
import secrets
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Engine
from sqlmodel import select

from caregaps.db import session
from caregaps.models import ApiToken, Practice, utcnow

TOKEN_PREFIX = "cg_"


def add_practice(engine: Engine, practice_id: str, name: str, timezone: str = "America/New_York") -> Practice:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {timezone!r} (use an IANA name such as America/Chicago)") from None
    with session(engine) as s:
        if s.get(Practice, practice_id) is not None:
            raise ValueError(f"practice {practice_id!r} already exists")
        practice = Practice(id=practice_id, name=name, timezone=timezone)
        s.add(practice)
        s.commit()
        return practice


def create_token(engine: Engine, practice_id: str, label: str = "") -> str:
    """A new bearer token for the practice; only its hash is kept, so show it once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with session(engine) as s:
        if s.get(Practice, practice_id) is None:
            raise LookupError(f"unknown practice {practice_id!r}")
        s.add(ApiToken(practice_id=practice_id, token_hash=hash_token(token), label=label))
        s.commit()
    return token


def revoke_token(engine: Engine, token: str) -> bool:
    with session(engine) as s:
        row = s.exec(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).first()
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at = utcnow()
        s.add(row)
        s.commit()
        return True


def practice_for_token(engine: Engine, token: str) -> Practice | None:
    """The practice a live token belongs to; None for an unknown or revoked token."""
    with session(engine) as s:
        row = s.exec(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).first()
        if row is None or row.revoked_at is not None:
            return None
        return s.get(Practice, row.practice_id)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def list_practices(engine: Engine) -> list[Practice]:
    """Every member practice, by id (not the ACO roll-up: `caregaps aco` evaluates that one)."""
    with session(engine) as s:
        return list(s.exec(select(Practice).where(Practice.kind != "aco").order_by(Practice.id)))
