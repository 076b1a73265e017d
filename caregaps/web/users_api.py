"""Users JSON API, the twin of the admin page /admin/users: users, roles and practice memberships.

Admins only (403 for everyone else, practice tokens included). Bodies are JSON, which a form on
another site cannot send without the browser asking first, so the session cookie is enough here.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel

from caregaps.users import ROLES, add_user, list_users, set_memberships
from caregaps.web.aco_api import check_admin
from caregaps.web.deps import EngineDep, ViewerDep

router = APIRouter(prefix="/api/users", tags=["Users"])


class NewUser(BaseModel):
    email: str
    name: str
    role: str  # one of caregaps.users.ROLES
    password: str  # at least 10 characters; only its scrypt hash is kept
    practices: list[str] = []


class Memberships(BaseModel):
    practices: list[str]


@router.get("", summary="Every user with role, active flag and practices (admins only)")
def users(viewer: ViewerDep, engine: EngineDep) -> dict:
    check_admin(viewer)
    return {"roles": list(ROLES), "users": list_users(engine)}


@router.post("", status_code=201, summary="Add a user with practice memberships (admins only)")
def create_user(body: NewUser, viewer: ViewerDep, engine: EngineDep) -> dict:
    check_admin(viewer)
    try:
        user = add_user(engine, body.email, body.name, body.role, body.password, body.practices)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    return _one(engine, user.id)


@router.put("/{user_id}/practices", summary="Replace a user's practice memberships (admins only)")
def put_memberships(user_id: int, body: Memberships, viewer: ViewerDep, engine: EngineDep) -> dict:
    check_admin(viewer)
    try:
        set_memberships(engine, user_id, body.practices)
    except ValueError as exc:
        raise HTTPException(404 if str(exc).startswith("no user") else 400, str(exc)) from None
    return _one(engine, user_id)


def _one(engine, user_id: int) -> dict:
    return next(u for u in list_users(engine) if u["id"] == user_id)
