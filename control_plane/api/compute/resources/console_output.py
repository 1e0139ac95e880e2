"""os-getConsoleOutput (Nova's console_output.py): the tail of the guest's console log,
read from its compute worker."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from control_plane.api import common
from control_plane.api.compute import action_dispatch
from control_plane.api.compute.schemas import console_output as schema
from control_plane.context import RequestContext
from control_plane.service.handlers import consoles


async def _get_console_output(request: Request, ctx: RequestContext, server_id: str,
                              args: Any) -> Response:
    length = (args or {}).get("length")
    lines = None if length is None or int(length) < 0 else int(length)
    output = await consoles.console_output(common.deps(request), server_id, lines, ctx)
    return common.JSON({"output": output})


ACTIONS: dict[str, action_dispatch.Entry] = {
    "os-getConsoleOutput": ("os_compute_api:os-console-output", schema.get_console_output,
                            _get_console_output),
}
