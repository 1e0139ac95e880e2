"""/servers/{id}/os-server-password (1.11): the password the guest encrypted with the
server's key pair and posted to the metadata service; the owner reads it, or clears it."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from control_plane.api import common
from control_plane.api.common import P
from control_plane.api.compute.resources.servers import visible_server
from control_plane.domain.servers import commands as c


async def show(request: Request) -> Response:
    ctx = common.context(request)
    async with common.deps(request).pool.acquire() as conn:
        row = await visible_server(conn, request.path_params["server_id"], ctx)
    return common.JSON({"password": row["password"]})


async def clear(request: Request) -> Response:
    ctx = common.context(request)
    await common.bus(request).handle(
        c.ClearServerPassword(request.path_params["server_id"]), ctx)
    return common.empty(204)


ROUTES: list[BaseRoute] = [
    P("/servers/{server_id}/os-server-password", show, "GET",
      "os_compute_api:os-server-password:show"),
    P("/servers/{server_id}/os-server-password", clear, "DELETE",
      "os_compute_api:os-server-password:clear"),
]
