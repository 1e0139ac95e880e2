"""addFloatingIp and removeFloatingIp server actions (1.4.2, 1.4.18; Nova 2.1 to 2.43).

Addresses come from the default floating pool ("public", control_plane.domain.
floating_ip); binding a free address takes it for the server's project.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from control_plane import commands as c
from control_plane.api import common, server_actions
from control_plane.api.schemas import floating_ips as schema
from control_plane.context import RequestContext

RULE = "os_compute_api:os-floating-ips:"


async def _add(request: Request, ctx: RequestContext, server_id: str, args: Any) -> Response:
    await common.bus(request).handle(
        c.AddFloatingIp(server_id, args["address"], args.get("fixed_address")), ctx)
    return common.empty(202)


async def _remove(request: Request, ctx: RequestContext, server_id: str, args: Any
                  ) -> Response:
    await common.bus(request).handle(c.RemoveFloatingIp(server_id, args["address"]), ctx)
    return common.empty(202)


server_actions.register({
    "addFloatingIp": (RULE + "add", schema.add_floating_ip, _add),
    "removeFloatingIp": (RULE + "remove", schema.remove_floating_ip, _remove),
})
