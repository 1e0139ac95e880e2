"""/servers/{id}/os-instance-actions: the history of a server, from the event log."""

from __future__ import annotations

from typing import Any

import asyncpg
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from control_plane.api import common
from control_plane.api.common import P
from control_plane.api.compute.resources.servers import visible_server
from control_plane.api.faults import NotFound
from projections.instance_actions import queries as action_queries


def _action(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "action": row["action"], "instance_uuid": str(row["instance_uuid"]),
        "message": row["message"], "project_id": row["project_id"],
        "request_id": row["request_id"], "start_time": _time(row["start_time"]),
        "user_id": row["user_id"],
    }


def _time(value: Any) -> str | None:
    if value is None:
        return None
    return str(value.replace(tzinfo=None).isoformat(timespec="microseconds"))


async def index(request: Request) -> Response:
    ctx = common.context(request)
    async with common.deps(request).pool.acquire() as conn:
        sid = (await visible_server(conn, request.path_params["server_id"], ctx))["id"]
        rows = await action_queries.of_server(conn, sid)
    return common.JSON({"instanceActions": [_action(r) for r in rows]})


async def show(request: Request) -> Response:
    ctx = common.context(request)
    request_id = request.path_params["request_id"]
    show_events = common.allowed(request, ctx, "os_compute_api:os-instance-actions:events")
    async with common.deps(request).pool.acquire() as conn:
        sid = (await visible_server(conn, request.path_params["server_id"], ctx))["id"]
        row = await action_queries.by_request(conn, sid, request_id)
        if row is None:
            raise NotFound(f"Action {request_id} not found")
        events = await action_queries.events(conn, row["id"]) if show_events else []
    action = _action(row)
    if show_events:  # the events of an action are for admins by Nova's default policy
        action["events"] = [{
            "event": e["event"], "start_time": _time(e["start_time"]),
            "finish_time": _time(e["finish_time"]), "result": e["result"],
            "traceback": e["traceback"],
        } for e in events]
    return common.JSON({"instanceAction": action})


ROUTES: list[BaseRoute] = [
    P("/servers/{server_id}/os-instance-actions", index, "GET",
      "os_compute_api:os-instance-actions:list"),
    P("/servers/{server_id}/os-instance-actions/{request_id}", show, "GET",
      "os_compute_api:os-instance-actions:show"),
]
