"""GET /servers/{server_id}/diagnostics (Nova's server_diagnostics.py): the guest's usage
counters from its compute worker, in Nova's flat form (before 2.48)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from control_plane.api import common
from control_plane.api.common import P
from control_plane.service.handlers import consoles


async def index(request: Request) -> Response:
    ctx = common.context(request)
    result = await consoles.diagnostics(common.deps(request), request.path_params["server_id"],
                                        ctx)
    return common.JSON(result)


ROUTES: list[BaseRoute] = [
    P("/servers/{server_id}/diagnostics", index, "GET", "os_compute_api:os-server-diagnostics"),
]
