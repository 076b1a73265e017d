"""Users, roles and practice memberships; passwords hashed with scrypt (a memory-hard KDF)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from sqlalchemy import Connection, Engine, bindparam
from sqlmodel import select

from caregaps.db import session
from caregaps.models import Membership, Practice, User

ROLES = ("admin", "quality-lead", "care-manager", "practice-user")
_N, _R, _P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if kind != "scrypt":
        return False
    check = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=32)
    return hmac.compare_digest(check, base64.b64decode(digest))


def add_user(engine: Engine, email: str, name: str, role: str, password: str, practices: list[str]) -> User:
    """A new user with memberships; ValueError for a bad role, a short password or an unknown practice."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if len(password) < 10:
        raise ValueError("password: at least 10 characters")
    with session(engine) as s:
        if s.exec(select(User).where(User.email == email.lower())).first():
            raise ValueError(f"a user {email!r} already exists")
        _check_practices(s, practices)
        user = User(email=email.lower(), name=name, role=role, password_hash=hash_password(password))
        s.add(user)
        s.flush()
        for pid in practices:
            s.add(Membership(user_id=user.id, practice_id=pid))
        s.commit()
        s.refresh(user)
        return user


def authenticate(engine: Engine, email: str, password: str) -> User | None:
    with session(engine) as s:
        user = s.exec(select(User).where(User.email == email.lower(), User.active)).first()
    if user is None:
        hash_password(password)  # the same work either way: no timing hint that the email exists
        return None
    return user if verify_password(password, user.password_hash) else None


USER, MEMBERSHIP, PRACTICE = User.__table__, Membership.__table__, Practice.__table__
_ACTIVE_USER = select(USER).where(USER.c.id == bindparam("user_id"), USER.c.active.is_(True))
_ALL_PRACTICES = select(PRACTICE.c.id).order_by(PRACTICE.c.id)
_MEMBERSHIPS = (select(MEMBERSHIP.c.practice_id).where(MEMBERSHIP.c.user_id == bindparam("user_id"))
                .where(MEMBERSHIP.c.practice_id.in_(select(PRACTICE.c.id).where(PRACTICE.c.kind != "aco")))
                .order_by(MEMBERSHIP.c.practice_id))  # the ACO roll-up (caregaps.aco) is never a membership


def practices_of(engine: Engine, user: User) -> list[str]:
    """The practices a user sees: every practice (and the ACO roll-up) for an admin or quality lead,
    else memberships."""
    with engine.connect() as conn:
        return _practices(conn, user.id, user.role)


def _practices(conn: Connection, user_id: int, role: str) -> list[str]:
    query = _ALL_PRACTICES if role in ("admin", "quality-lead") else _MEMBERSHIPS
    return list(conn.execute(query, {"user_id": user_id}).scalars())


def active_user(engine: Engine, user_id: int) -> tuple[User, list[str]] | None:
    """An active user and the practices they see, or None; read fresh in one connection, since
    every signed-in request asks (a deactivated user or a changed membership counts at once)."""
    with engine.connect() as conn:
        row = conn.execute(_ACTIVE_USER, {"user_id": user_id}).mappings().first()
        if row is None:
            return None
        return User(**row), _practices(conn, row["id"], row["role"])


def ensure_user(engine: Engine, email: str, name: str, role: str, practices: list[str]) -> str:
    """Create the user (or reset an existing one's password) with these memberships; the new password."""
    password = secrets.token_urlsafe(12)
    with session(engine) as s:
        user = s.exec(select(User).where(User.email == email.lower())).first()
        if user is None:
            user = User(email=email.lower(), name=name, role=role, password_hash=hash_password(password))
            s.add(user)
            s.flush()
        else:
            user.password_hash, user.role, user.active = hash_password(password), role, True
            s.add(user)
        have = set(s.exec(select(Membership.practice_id).where(Membership.user_id == user.id)))
        for pid in practices:
            if pid not in have:
                s.add(Membership(user_id=user.id, practice_id=pid))
        s.commit()
    return password


class UnknownUser(ValueError):
    """No user has this id."""


def list_users(engine: Engine, user_id: int | None = None) -> list[dict]:
    """Every user (by email), or the one with `user_id`, with role, whether active, and practice
    memberships: the admin page's table and its JSON twin."""
    members = select(MEMBERSHIP.c.user_id, MEMBERSHIP.c.practice_id).order_by(MEMBERSHIP.c.practice_id)
    people = select(USER.c.id, USER.c.email, USER.c.name, USER.c.role, USER.c.active).order_by(USER.c.email)
    if user_id is not None:
        members, people = members.where(MEMBERSHIP.c.user_id == user_id), people.where(USER.c.id == user_id)
    with engine.connect() as conn:
        memberships: dict[int, list[str]] = {}
        for member, practice_id in conn.execute(members):
            memberships.setdefault(member, []).append(practice_id)
        return [{**row, "practices": memberships.get(row["id"], [])} for row in conn.execute(people).mappings()]


def set_memberships(engine: Engine, user_id: int, practices: list[str]) -> None:
    """Replace a user's practices; ValueError for an unknown user or practice."""
    with session(engine) as s:
        if s.get(User, user_id) is None:
            raise UnknownUser(f"no user {user_id}")
        _check_practices(s, practices)
        for membership in s.exec(select(Membership).where(Membership.user_id == user_id)):
            s.delete(membership)
        s.flush()
        for pid in sorted(set(practices)):
            s.add(Membership(user_id=user_id, practice_id=pid))
        s.commit()


def _check_practices(s, practices: list[str]) -> None:
    """ValueError for an unknown practice, or for the ACO roll-up (caregaps.aco), which every admin
    and quality lead sees and nobody is a member of."""
    for pid in practices:
        practice = s.get(Practice, pid)
        if practice is None:
            raise ValueError(f"no practice {pid!r}")
        if practice.kind == "aco":
            raise ValueError(f"{pid!r} is the ACO roll-up, not a practice to be a member of")
