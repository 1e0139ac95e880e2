"""/servers/{id}/os-volume_attachments (Nova's API, 2.1 to 2.14), and the 2016
reference's ``attach`` server action (1.4.3), which does the same as a POST here.

The attachment's id is the volume's id, as in Nova. The server is looked up first,
so another project's server is not found (404) whatever the request says.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from control_plane.api import common
from control_plane.api.common import P
from control_plane.api.compute import action_dispatch
from control_plane.api.compute.resources import servers
from control_plane.api.compute.resources.volumes import limited
from control_plane.api.compute.schemas import volume_attachments as schema
from control_plane.api.faults import NotFound
from control_plane.context import RequestContext
from control_plane.domain.volumes import commands as c
from projections.volumes import queries as volume_queries

RULE = "os_compute_api:os-volumes-attachments:"


def render(row: asyncpg.Record) -> dict[str, Any]:
    vid = str(row["id"])
    out = {"id": vid, "volumeId": vid, "serverId": str(row["server_id"])}
    if row["device"]:
        out["device"] = row["device"]
    return out


async def index(request: Request) -> Response:
    ctx = common.context(request)
    server_id = str(await servers.visible_server_id(request, ctx))
    async with common.deps(request).pool.acquire() as conn:
        rows = await volume_queries.attached_to(conn, uuid.UUID(server_id))
    return common.JSON({"volumeAttachments": [render(r) for r in limited(request, rows)]})


async def show(request: Request) -> Response:
    ctx = common.context(request)
    server_id = str(await servers.visible_server_id(request, ctx))
    volume_id = request.path_params["volume_id"]
    row = None
    try:
        key = uuid.UUID(volume_id)
    except ValueError:
        key = None
    if key is not None:
        async with common.deps(request).pool.acquire() as conn:
            row = await volume_queries.attached(conn, key, uuid.UUID(server_id))
    if row is None:
        raise NotFound(f"Instance {server_id} is not attached to volume {volume_id}")
    return common.JSON({"volumeAttachment": render(row)})


@common.request_body(schema.create)
async def create(request: Request) -> Response:
    ctx = common.context(request)
    server_id = str(await servers.visible_server_id(request, ctx))
    data = (await common.body(request, schema.create))["volumeAttachment"]
    volume_id = data["volumeId"]
    device = await common.bus(request).handle(
        c.AttachVolume(server_id, volume_id, data.get("device")), ctx)
    # 200, not 202, though the attach goes on after the response (as in Nova)
    return common.JSON({"volumeAttachment": {"id": volume_id, "serverId": server_id,
                                             "volumeId": volume_id, "device": device}})


@common.request_body(schema.update)
async def update(request: Request) -> Response:
    """Swap the attached volume for another (an admin's, or Cinder's, call)."""
    ctx = common.context(request)
    server_id = str(await servers.visible_server_id(request, ctx))
    data = (await common.body(request, schema.update))["volumeAttachment"]
    await common.bus(request).handle(
        c.SwapVolume(server_id, request.path_params["volume_id"], data["volumeId"]), ctx)
    return common.empty(202)


async def delete(request: Request) -> Response:
    ctx = common.context(request)
    server_id = str(await servers.visible_server_id(request, ctx))
    await common.bus(request).handle(
        c.DetachVolume(server_id, request.path_params["volume_id"]), ctx)
    return common.empty(202)


async def _attach_action(request: Request, ctx: RequestContext, server_id: str, args: Any
                         ) -> Response:
    server_id = str(await servers.visible_server_id(request, ctx))
    await common.bus(request).handle(c.AttachVolume(
        server_id, args["volume_id"], args.get("device"), args.get("disk_bus"),
        args.get("device_type")), ctx)
    return common.empty(202)


ACTIONS: dict[str, action_dispatch.Entry] = {
    "attach": (RULE + "create", schema.attach_action, _attach_action),
}


ROUTES: list[BaseRoute] = [
    P("/servers/{server_id}/os-volume_attachments", index, "GET",
      "os_compute_api:os-volumes-attachments:index"),
    P("/servers/{server_id}/os-volume_attachments", create, "POST",
      "os_compute_api:os-volumes-attachments:create"),
    P("/servers/{server_id}/os-volume_attachments/{volume_id}", show, "GET",
      "os_compute_api:os-volumes-attachments:show"),
    # before 2.85 an update is always a swap, and takes the swap rule
    P("/servers/{server_id}/os-volume_attachments/{volume_id}", update, "PUT",
      "os_compute_api:os-volumes-attachments:swap"),
    P("/servers/{server_id}/os-volume_attachments/{volume_id}", delete, "DELETE",
      "os_compute_api:os-volumes-attachments:delete"),
]
