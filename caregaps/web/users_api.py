"""Users JSON API, the twin of the admin page /admin/users: users, roles and practice memberships.

Admins only (403 for everyone else, practice tokens included). Bodies are JSON, which a form on
another site cannot send without the browser asking first, so the session cookie is enough here.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel

from caregaps.users import ROLES, UnknownUser, add_user, list_users, set_memberships
from caregaps.web.deps import EngineDep, ViewerDep, check_admin

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
    return list_users(engine, user.id)[0]


@router.put("/{user_id}/practices", summary="Replace a user's practice memberships (admins only)")
def put_memberships(user_id: int, body: Memberships, viewer: ViewerDep, engine: EngineDep) -> dict:
    check_admin(viewer)
    try:
        set_memberships(engine, user_id, body.practices)
    except UnknownUser as exc:
        raise HTTPException(404, str(exc)) from None
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    return list_users(engine, user_id)[0]
