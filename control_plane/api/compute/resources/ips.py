"""/servers/{id}/ips: a server's addresses by network (1.7)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from control_plane.api import common
from control_plane.api.common import P
from control_plane.api.compute.resources.servers import visible_server
from control_plane.api.faults import NotFound


async def _addresses(request: Request) -> dict[str, list[dict[str, Any]]]:
    ctx = common.context(request)
    async with common.deps(request).pool.acquire() as conn:
        row = await visible_server(conn, request.path_params["server_id"], ctx)
    return {net: [{"version": a["version"], "addr": a["addr"]} for a in items]
            for net, items in row["addresses"].items()}


async def index(request: Request) -> Response:
    return common.JSON({"addresses": await _addresses(request)})


async def show(request: Request) -> Response:
    network = request.path_params["network"]
    addresses = await _addresses(request)
    if network not in addresses:
        raise NotFound("Instance is not a member of specified network")
    return common.JSON({network: addresses[network]})


ROUTES: list[BaseRoute] = [
    P("/servers/{server_id}/ips", index, "GET", "os_compute_api:ips:index"),
    P("/servers/{server_id}/ips/{network}", show, "GET", "os_compute_api:ips:show"),
]
