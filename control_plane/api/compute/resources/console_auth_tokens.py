"""GET /os-console-auth-tokens/{console_token} (Nova's console_auth_tokens.py): what a
live console token connects to, for console proxies and admins.

As in Nova before microversion 2.31 (this API's maximum is below it), only RDP tokens
are shown; a token of another console type is 401. Unknown and expired tokens are 404.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from control_plane.api import common
from control_plane.api.common import P
from control_plane.api.faults import BadRequest, NotFound, Unauthorized
from control_plane.context import now
from control_plane.domain.consoles.aggregate import token_hash
from projections.consoles import queries as console_queries


async def show(request: Request) -> Response:
    token = request.path_params["console_token"].strip()
    if not token:
        raise BadRequest("token not provided")
    async with common.deps(request).pool.acquire() as conn:
        row = await console_queries.live_token(conn, token_hash(token), now())
    if row is None:
        raise NotFound("Token not found")
    if row["console_type"] != "rdp-html5":
        raise Unauthorized("The requested console type details are not accessible")
    return common.JSON({"console": {
        "instance_uuid": str(row["instance_uuid"]), "host": row["host"], "port": row["port"],
        "internal_access_path": row["internal_access_path"]}})


ROUTES: list[BaseRoute] = [
    P("/os-console-auth-tokens/{console_token}", show, "GET",
      "os_compute_api:os-console-auth-tokens"),
]
