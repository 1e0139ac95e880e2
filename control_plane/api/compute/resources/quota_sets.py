"""/os-quota-sets: a project's quotas (the deployment's defaults so far) and its usage."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from control_plane.api import common
from control_plane.api.common import P
from projections.keypairs import queries as keypair_queries
from projections.servers import queries as server_queries

# the quota names shown at microversions 2.1-2.35, in Nova's order
NAMES = ("cores", "fixed_ips", "floating_ips", "injected_file_content_bytes",
         "injected_file_path_bytes", "injected_files", "instances", "key_pairs",
         "metadata_items", "ram", "security_group_rules", "security_groups",
         "server_group_members", "server_groups")


def _limits(request: Request) -> dict[str, int]:
    q = common.deps(request).settings.quotas
    return {n: q[n] for n in NAMES}


async def _usage(request: Request, project_id: str, user_id: str | None) -> dict[str, int]:
    async with common.deps(request).pool.acquire() as conn:
        row = await server_queries.usage(conn, project_id, user_id)
        keypairs = await keypair_queries.count_held(conn, project_id, user_id)
    used = dict.fromkeys(NAMES, 0)
    used.update(instances=row["n"], cores=row["cores"], ram=row["ram"], key_pairs=keypairs)
    return used


def _target(request: Request) -> dict[str, object]:
    return {"project_id": request.path_params["tenant_id"]}


async def show(request: Request) -> Response:
    ctx = common.context(request)
    common.authorize(request, ctx, "os_compute_api:os-quota-sets:show", _target(request))
    body: dict[str, Any] = {"id": request.path_params["tenant_id"], **_limits(request)}
    return common.JSON({"quota_set": body})


async def detail(request: Request) -> Response:
    ctx = common.context(request)
    common.authorize(request, ctx, "os_compute_api:os-quota-sets:detail", _target(request))
    project_id = request.path_params["tenant_id"]
    used = await _usage(request, project_id, request.query_params.get("user_id"))
    body: dict[str, Any] = {"id": project_id}
    for name, limit in _limits(request).items():
        body[name] = {"limit": limit, "in_use": used[name], "reserved": 0}
    return common.JSON({"quota_set": body})


async def defaults(request: Request) -> Response:
    ctx = common.context(request)
    common.authorize(request, ctx, "os_compute_api:os-quota-sets:defaults", _target(request))
    return common.JSON({"quota_set": {"id": request.path_params["tenant_id"],
                                      **_limits(request)}})


ROUTES: list[BaseRoute] = [
    # the rules are checked in the handlers, against the project named in the URL
    P("/os-quota-sets/{tenant_id}", show, "GET", {"show": "os_compute_api:os-quota-sets:show"}),
    P("/os-quota-sets/{tenant_id}/detail", detail, "GET",
      {"detail": "os_compute_api:os-quota-sets:detail"}),
    P("/os-quota-sets/{tenant_id}/defaults", defaults, "GET",
      {"defaults": "os_compute_api:os-quota-sets:defaults"}),
]
