"""POST /servers/{id}/action: one table maps each body key to its rule, schema and handler.

Each resource module with server actions declares them as ``ACTIONS`` (body key ->
``Entry``); ``control_plane.api.compute.routes`` joins the tables explicitly and hands
the result to one ``ActionDispatcher``. A handler takes (request, ctx, server_id, args),
where args is the value under the body's single key, and returns the response.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from control_plane.api import common
from control_plane.api.faults import BadRequest
from control_plane.context import RequestContext
from control_plane.domain.base import Command
from control_plane.domain.servers import commands as c

ActionHandler = Callable[[Request, RequestContext, str, Any], Awaitable[Response]]
# (policy rule, request schema of the action's value, handler)
Entry = tuple[str, dict[str, Any], ActionHandler]


def simple(action: str, status: int = 202) -> ActionHandler:
    """An action that is a RequestServerAction with no argument."""
    async def handler(request: Request, ctx: RequestContext, server_id: str, args: Any
                      ) -> Response:
        await common.bus(request).handle(c.RequestServerAction(server_id, action), ctx)
        return common.empty(status)
    return handler


def from_args(make: Callable[[str, Any], Command], status: int = 202) -> ActionHandler:
    """An action that is one command made from the server id and the action's
    arguments, answered with an empty body."""
    async def handler(request: Request, ctx: RequestContext, server_id: str, args: Any
                      ) -> Response:
        await common.bus(request).handle(make(server_id, args), ctx)
        return common.empty(status)
    return handler


def command(make: Callable[[str], Command], status: int = 202) -> ActionHandler:
    """An action that is one command on the server (no arguments), answered with an
    empty body."""
    return from_args(lambda server_id, _args: make(server_id), status)


def combine(*tables: Mapping[str, Entry]) -> dict[str, Entry]:
    """One table from the modules' tables; a body key may be claimed once."""
    joined: dict[str, Entry] = {}
    for table in tables:
        clash = set(table) & set(joined)
        if clash:
            raise ValueError(f"server actions declared twice: {sorted(clash)}")
        joined.update(table)
    return joined


class ActionDispatcher:
    """The endpoint of POST /servers/{id}/action over one joined table."""

    def __init__(self, actions: Mapping[str, Entry]) -> None:
        self.actions = dict(actions)
        self.__qualname__ = "action"

    @property
    def rules(self) -> dict[str, str]:
        """Body key -> policy rule, as the route table and the policy tests see them."""
        return {key: rule for key, (rule, _, _) in self.actions.items()}

    async def __call__(self, request: Request) -> Response:
        ctx = common.context(request)
        try:
            raw = orjson.loads(await request.body() or b"null")
        except orjson.JSONDecodeError:
            raise BadRequest("Malformed request body") from None
        if not isinstance(raw, dict) or len(raw) != 1:
            raise BadRequest("Malformed request body")
        (key,) = raw
        if key not in self.actions:
            raise BadRequest(f"There is no such action: {key}")
        rule, body_schema, handler = self.actions[key]
        common.authorize(request, ctx, rule)
        data = await common.body(request, body_schema)
        return await handler(request, ctx, request.path_params["server_id"], data[key])
