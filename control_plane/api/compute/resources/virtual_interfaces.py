"""/servers/{id}/os-virtual-interfaces: a server's virtual interfaces (1.12).

Removed from Nova with nova-network (Nova 2.1 to 2.43 served it); kept here. Each
interface is one of the server's ports: its id and MAC, and from 2.12 its network
(``net_id``); the legacy v2 API named that ``OS-EXT-VIF-NET:net_id``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from control_plane.api import common
from control_plane.api.common import P
from control_plane.api.compute.resources import servers
from control_plane.api.compute.resources.attach_interfaces import server_ports


async def index(request: Request) -> Response:
    ctx = common.context(request)
    async with common.deps(request).pool.acquire() as conn:
        row = await servers.visible_server(conn, request.path_params["server_id"], ctx)
        ports = await server_ports(conn, str(row["id"]))
    legacy = "/v2/" in request.url.path  # the v2.0 API (Nova's legacy v2 mode)
    out = []
    for port in ports:
        vif = {"id": str(port["id"]), "mac_address": port["mac"]}
        if legacy:
            vif["OS-EXT-VIF-NET:net_id"] = str(port["network_id"])
        elif common.is_supported(request, "2.12"):
            vif["net_id"] = str(port["network_id"])
        out.append(vif)
    return common.JSON({"virtual_interfaces": out})


ROUTES: list[BaseRoute] = [
    P("/servers/{server_id}/os-virtual-interfaces", index, "GET",
      "os_compute_api:os-virtual-interfaces"),
]
