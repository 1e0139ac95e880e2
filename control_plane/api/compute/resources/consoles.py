"""os-consoles (Nova's consoles.py, XVP consoles): a server's console record, with the
proxy's address and the console's password. Nova has since removed this API; it is
kept working here natively. Console ids are integers (the opening event's position).
"""

from __future__ import annotations

import asyncpg
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from control_plane.access.tokens import unseal
from control_plane.api import common
from control_plane.api.common import P
from control_plane.api.compute.resources import servers
from control_plane.api.compute.views import servers as server_views
from control_plane.api.faults import NotFound
from control_plane.context import RequestContext
from control_plane.domain.consoles import commands as c
from projections.consoles import queries as console_queries


def _console_id(request: Request) -> int:
    raw = request.path_params["console_id"]
    try:
        console_id = int(raw)
    except ValueError:
        raise NotFound(f"Console {raw} could not be found.") from None
    if not 0 <= console_id <= 2**63 - 1:  # what the bigint id column holds
        raise NotFound(f"Console {raw} could not be found.")
    return console_id


async def _console(request: Request, ctx: RequestContext) -> asyncpg.Record:
    server_id = await servers.visible_server_id(request, ctx)
    console_id = _console_id(request)
    async with common.deps(request).pool.acquire() as conn:
        row = await console_queries.console(conn, console_id, server_id)
    if row is None:
        raise NotFound(f"Console {console_id} could not be found.")
    return row


async def index(request: Request) -> Response:
    ctx = common.context(request)
    server_id = await servers.visible_server_id(request, ctx)
    async with common.deps(request).pool.acquire() as conn:
        rows = await console_queries.of_server(conn, server_id)
    return common.JSON({"consoles": [
        {"console": {"console_type": r["console_type"], "id": r["id"]}} for r in rows]})


async def create(request: Request) -> Response:
    ctx = common.context(request)
    await common.bus(request).handle(c.CreateConsole(request.path_params["server_id"]), ctx)
    return common.empty(200)


async def show(request: Request) -> Response:
    ctx = common.context(request)
    row = await _console(request, ctx)
    return common.JSON({"console": {
        "console_type": row["console_type"], "host": row["host"], "id": row["id"],
        "instance_name": server_views.instance_name(row["instance_uuid"]),
        "password": unseal(row["password"]) or "", "port": row["port"]}})


async def delete(request: Request) -> Response:
    ctx = common.context(request)
    await common.bus(request).handle(
        c.DeleteConsole(request.path_params["server_id"], _console_id(request)), ctx)
    return common.empty(202)


_RULE = "os_compute_api:os-consoles:"


def _routes(collection: str, item: str) -> list[BaseRoute]:
    """os-consoles at Nova's path, and at the reference's printed ones (aliases)."""
    routes: list[BaseRoute] = []
    if collection:
        routes += [P(collection, index, "GET", _RULE + "index"),
                   P(collection, create, "POST", _RULE + "create")]
    return [*routes, P(item, show, "GET", _RULE + "show"),
            P(item, delete, "DELETE", _RULE + "delete")]


ROUTES: list[BaseRoute] = [
    *_routes("/servers/{server_id}/consoles", "/servers/{server_id}/consoles/{console_id}"),
    *_routes("/servers/{server_id}/os-consoles",
             "/servers/{server_id}/os-consoles/{console_id}"),
    *_routes("", "/servers/{server_id}/os-console/{console_id}"),
]
