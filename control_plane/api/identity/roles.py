"""/identity/v3/roles and role assignments: list and show roles (any token), create and
delete them (admin); grant, check and revoke a user's role on a project, and list
assignments (admin). A change drops every cached token validation."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from control_plane.api import common
from control_plane.api.faults import NotFound
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
    query_value,
    v3,
    validated,
)
from control_plane.domain.identity import commands as c
from projections.identity import queries


def render(request: Request, row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "name": row["name"], "domain_id": None,
            "description": row.get("description"), "options": {},
            "links": {"self": f"{v3(request)}/roles/{row['id']}"}}


async def _role(request: Request, role_id: str) -> dict[str, Any]:
    return found(await queries.role(pool(request), role_id), "role", role_id)


@keystone
async def index(request: Request) -> Response:
    await validated(request)
    rows = await queries.roles(pool(request), filters(request, ("name",)))
    return collection(request, "roles", [render(request, r) for r in rows])


@keystone
async def create(request: Request) -> Response:
    ctx = context(request, await admin(request))
    r = (await body(request, schemas.role_create))["role"]
    role_id = await common.bus(request).handle(
        c.CreateRole(r["name"], r.get("description")), ctx)
    return common.JSON({"role": render(request, await _role(request, role_id))},
                       status_code=201)


@keystone
async def show(request: Request) -> Response:
    await validated(request)
    return common.JSON({"role": render(request, await _role(
        request, path_id(request, "role_id", "role")))})


@keystone
async def delete(request: Request) -> Response:
    ctx = context(request, await admin(request))
    role_id = path_id(request, "role_id", "role")
    await _role(request, role_id)
    await common.bus(request).handle(c.DeleteRole(role_id), ctx)
    authenticator(request).invalidate()
    return Response(status_code=204)


@keystone
async def grant_list(request: Request) -> Response:
    await admin(request)
    rows = await queries.roles_on_project(
        pool(request), path_id(request, "user_id", "user"),
        path_id(request, "project_id", "project"))
    return collection(request, "roles", [render(request, r) for r in rows])


@keystone
async def grant(request: Request) -> Response:
    v = await admin(request)
    p = {name: path_id(request, name, kind) for name, kind in (
        ("project_id", "project"), ("user_id", "user"), ("role_id", "role"))}
    if request.method in ("GET", "HEAD"):
        if not await queries.is_granted(pool(request), p["project_id"], p["user_id"],
                                        p["role_id"]):
            raise NotFound(f"Could not find role assignment with role: {p['role_id']}, "
                           f"user or group: {p['user_id']}, project, domain, or system: "
                           f"{p['project_id']}.")
        return Response(status_code=204)
    cmd_type = c.GrantRole if request.method == "PUT" else c.RevokeRole
    await common.bus(request).handle(cmd_type(p["project_id"], p["user_id"], p["role_id"]),
                                     context(request, v))
    authenticator(request).invalidate()
    return Response(status_code=204)


@keystone
async def assignments(request: Request) -> Response:
    await admin(request)
    q = request.query_params
    given = {param: query_value(request, param) for param in
             ("user.id", "scope.project.id", "role.id") if param in q}
    rows = await queries.assignments(pool(request), user_id=given.get("user.id"),
                                     project_id=given.get("scope.project.id"),
                                     role_id=given.get("role.id"))
    items = []
    for r in rows:
        role: dict[str, Any] = {"id": r["role_id"]}
        if "include_names" in q:
            role["name"] = r["role_name"]
        items.append({
            "role": role, "user": {"id": r["user_id"]},
            "scope": {"project": {"id": r["project_id"]}},
            "links": {"assignment": f"{v3(request)}/projects/{r['project_id']}/users/"
                                    f"{r['user_id']}/roles/{r['role_id']}"}})
    return collection(request, "role_assignments", items)
