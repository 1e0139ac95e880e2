"""Remote consoles (Nova's remote_consoles.py): the os-getVNCConsole, os-getSPICEConsole,
os-getRDPConsole and os-getSerialConsole actions (2.1-2.5), and from 2.6
POST /servers/{id}/remote-consoles (2.8 adds the MKS protocol).

Each answers a URL carrying a fresh console token (see control_plane.service.handlers.consoles).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from control_plane.api import common
from control_plane.api.common import P
from control_plane.api.compute import action_dispatch
from control_plane.api.compute.resources import servers
from control_plane.api.compute.schemas import remote_consoles as schema
from control_plane.api.faults import NotFound
from control_plane.context import RequestContext
from control_plane.domain.consoles import commands as c

RULE = "os_compute_api:os-remote-consoles"


def _action(protocol: str) -> action_dispatch.ActionHandler:
    async def handler(request: Request, ctx: RequestContext, server_id: str, args: Any
                      ) -> Response:
        if common.is_supported(request, "2.6"):
            raise NotFound()  # replaced by POST remote-consoles, as in Nova
        console_type = args["type"]
        url = await common.bus(request).handle(
            c.AuthorizeConsole(server_id, protocol, console_type), ctx)
        return common.JSON({"console": {"type": console_type, "url": url}})
    return handler


@common.request_body(schema.create_v28, schema.create_v26,
                     note="2.8 and later: the first schema; 2.6 and 2.7: the second")
async def create(request: Request) -> Response:
    """POST /servers/{server_id}/remote-consoles (2.6+)."""
    ctx = common.context(request)
    server_id = request.path_params["server_id"]
    if not common.is_supported(request, "2.6"):
        async with common.deps(request).pool.acquire() as conn:
            await servers.visible_server(conn, server_id, ctx)  # others' servers: not found
        raise NotFound()
    body_schema = schema.create_v28 if common.is_supported(request, "2.8") else schema.create_v26
    body = (await common.body(request, body_schema))["remote_console"]
    protocol, console_type = body["protocol"], body["type"]
    url = await common.bus(request).handle(
        c.AuthorizeConsole(server_id, protocol, console_type), ctx)
    return common.JSON({"remote_console": {"protocol": protocol, "type": console_type,
                                           "url": url}})


ACTIONS: dict[str, action_dispatch.Entry] = {
    "os-getVNCConsole": (RULE, schema.get_vnc_console, _action("vnc")),
    "os-getSPICEConsole": (RULE, schema.get_spice_console, _action("spice")),
    "os-getRDPConsole": (RULE, schema.get_rdp_console, _action("rdp")),
    "os-getSerialConsole": (RULE, schema.get_serial_console, _action("serial")),
}


ROUTES: list[BaseRoute] = [
    P("/servers/{server_id}/remote-consoles", create, "POST", "os_compute_api:os-remote-consoles"),
]
