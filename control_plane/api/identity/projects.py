"""/identity/v3/projects: list and create (admin), show (admin or a token scoped to it),
update and delete (admin); and the projects a user may scope to (/auth/projects,
/users/{user_id}/projects). A change drops every cached token validation."""

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
    return {"id": row["id"], "name": row["name"], "domain_id": row["domain_id"],
            "description": row["description"] or "", "enabled": row["enabled"],
            "parent_id": row["domain_id"], "is_domain": False, "tags": [], "options": {},
            "links": {"self": f"{v3(request)}/projects/{row['id']}"}}


async def _project(request: Request, project_id: str) -> dict[str, Any]:
    return found(await queries.project(pool(request), project_id), "project", project_id)


@keystone
async def of_user(request: Request) -> Response:
    v = await validated(request)
    user_id = path_id(request, "user_id", "user") if "user_id" in request.path_params \
        else v.user["id"]
    if user_id != v.user["id"]:
        await admin(request)
    rows = await queries.projects_of_user(pool(request), user_id)
    return collection(request, "projects", [render(request, r) for r in rows])


@keystone
async def index(request: Request) -> Response:
    await admin(request)
    rows = await queries.projects(pool(request), filters(request, ("name", "domain_id")))
    return collection(request, "projects", [render(request, r) for r in rows])


@keystone
async def create(request: Request) -> Response:
    ctx = context(request, await admin(request))
    p = (await body(request, schemas.project_create))["project"]
    project_id = await common.bus(request).handle(c.CreateProject(
        name=p["name"], domain_id=p.get("domain_id") or "default",
        description=p.get("description"), enabled=p.get("enabled", True)), ctx)
    return common.JSON({"project": render(request, await _project(request, project_id))},
                       status_code=201)


@keystone
async def show(request: Request) -> Response:
    v = await validated(request)
    project_id = path_id(request, "project_id", "project")
    if v.project is None or project_id != v.project["id"]:
        await admin(request)
    return common.JSON({"project": render(request, await _project(request, project_id))})


@keystone
async def update(request: Request) -> Response:
    ctx = context(request, await admin(request))
    project_id = path_id(request, "project_id", "project")
    p = (await body(request, schemas.project_update))["project"]
    changes = {k: p[k] for k in ("name", "enabled", "description") if k in p}
    await _project(request, project_id)
    await common.bus(request).handle(c.UpdateProject(project_id, changes), ctx)
    authenticator(request).invalidate()
    return common.JSON({"project": render(request, await _project(request, project_id))})


@keystone
async def delete(request: Request) -> Response:
    ctx = context(request, await admin(request))
    project_id = path_id(request, "project_id", "project")
    await _project(request, project_id)
    await common.bus(request).handle(c.DeleteProject(project_id), ctx)
    authenticator(request).invalidate()
    return Response(status_code=204)
