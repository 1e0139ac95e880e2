"""addFixedIp and removeFixedIp server actions (1.4.1, 1.4.17; Nova 2.1 to 2.43).

``networkId`` names the network (the default network's id); Nova casts this to the
compute host and reports nothing, while here an unknown network is refused at once.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from control_plane import commands as c
from control_plane.api import common, server_actions
from control_plane.api.schemas import multinic as schema
from control_plane.context import RequestContext

RULE = "os_compute_api:os-multinic:"


async def _add(request: Request, ctx: RequestContext, server_id: str, args: Any) -> Response:
    await common.bus(request).handle(c.AddFixedIp(server_id, str(args["networkId"])), ctx)
    return common.empty(202)


async def _remove(request: Request, ctx: RequestContext, server_id: str, args: Any
                  ) -> Response:
    await common.bus(request).handle(c.RemoveFixedIp(server_id, args["address"]), ctx)
    return common.empty(202)


server_actions.register({
    "addFixedIp": (RULE + "add", schema.add_fixed_ip, _add),
    "removeFixedIp": (RULE + "remove", schema.remove_fixed_ip, _remove),
})
