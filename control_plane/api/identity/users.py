"""/identity/v3/users: list and create (admin), show (admin or the user), update and
delete (admin). A change drops every cached token validation."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from control_plane.api import common
from control_plane.api.identity import schemas
from control_plane.api.identity.keystone import (
    admin,
    authenticator,
    body,
    collection,
    context,
    filters,
    found,
    keystone,
    path_id,
    pool,
    v3,
    validated,
)
from control_plane.domain.identity import commands as c
from projections.identity import queries


def render(request: Request, row: dict[str, Any]) -> dict[str, Any]:
    out = {"id": row["id"], "name": row["name"], "domain_id": row["domain_id"],
           "enabled": row["enabled"], "password_expires_at": None, "options": {},
           "links": {"self": f"{v3(request)}/users/{row['id']}"}}
    for key in ("email", "description", "default_project_id"):
        if row.get(key) is not None:
            out[key] = row[key]
    return out


async def _user(request: Request, user_id: str) -> dict[str, Any]:
    return found(await queries.user(pool(request), user_id), "user", user_id)


@keystone
async def index(request: Request) -> Response:
    await admin(request)
    rows = await queries.users(pool(request), filters(request, ("name", "domain_id")))
    return collection(request, "users", [render(request, r) for r in rows])


@keystone
async def create(request: Request) -> Response:
    ctx = context(request, await admin(request))
    u = (await body(request, schemas.user_create))["user"]
    user_id = await common.bus(request).handle(c.CreateUser(
        name=u["name"], domain_id=u.get("domain_id", "default"), password=u.get("password"),
        enabled=u.get("enabled", True), email=u.get("email"),
        description=u.get("description"), default_project_id=u.get("default_project_id")),
        ctx)
    return common.JSON({"user": render(request, await _user(request, user_id))},
                       status_code=201)


@keystone
async def show(request: Request) -> Response:
    v = await validated(request)
    user_id = path_id(request, "user_id", "user")
    if user_id != v.user["id"]:
        await admin(request)
    return common.JSON({"user": render(request, await _user(request, user_id))})


@keystone
async def update(request: Request) -> Response:
    ctx = context(request, await admin(request))
    user_id = path_id(request, "user_id", "user")
    u = (await body(request, schemas.user_update))["user"]
    changes = {k: u[k] for k in ("name", "enabled", "email", "description",
                                 "default_project_id") if k in u}
    await _user(request, user_id)
    await common.bus(request).handle(c.UpdateUser(user_id, changes, u.get("password")), ctx)
    authenticator(request).invalidate()
    return common.JSON({"user": render(request, await _user(request, user_id))})


@keystone
async def delete(request: Request) -> Response:
    ctx = context(request, await admin(request))
    user_id = path_id(request, "user_id", "user")
    await _user(request, user_id)
    await common.bus(request).handle(c.DeleteUser(user_id), ctx)
    authenticator(request).invalidate()
    return Response(status_code=204)
