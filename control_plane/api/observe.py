"""Pure ASGI middleware, outermost: the request id, one log line and metrics per request.

It picks the request's id (``ComputeMiddleware`` takes it from ``scope["state"]``
and returns it in ``X-OpenStack-Request-Id``) and binds it to the logs for the
whole request (``control_plane.observability.logs``). After the answer it logs the request, as
Nova's request log does, and counts it by *route template*: Starlette's routers
set ``scope["route"]`` at each level (mounts, then the route), and the templates
of that chain, joined, name the route (``/v2.1/servers/{server_id}``), so labels
stay bounded whatever paths clients send. Requests answered before routing (401,
413) or by no route (404) count as ``unrouted``.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from control_plane.context import new_request_id
from control_plane.observability import logs, metrics

log = logging.getLogger("control_plane.api.access")

UNROUTED = "unrouted"
QUIET = ("/healthz", "/readyz", "/metrics")  # probes and scrapes: logged at DEBUG only
_CONVERTOR = re.compile(r"\{(\w+):[^}]*\}")


class _RouteTrail(dict[str, Any]):
    """The ASGI scope, remembering every route the routers matched on the way down."""

    trail: list[BaseRoute]

    def __setitem__(self, key: str, value: Any) -> None:
        if key == "route":
            self.trail.append(value)
        super().__setitem__(key, value)


def route_template(trail: list[BaseRoute]) -> str:
    """``/v2.1`` + ``/{project_id}`` + ``/servers/{server_id}``; convertors left out."""
    if not trail or (isinstance(trail[-1], Mount) and trail[-1].routes):
        return UNROUTED  # no route at all, or a mount none of whose routes matched
    parts = [getattr(r, "path", "") for r in trail]
    return _CONVERTOR.sub(r"{\1}", "".join(parts)) or "/"


class ObserveMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()
        traced = _RouteTrail(scope)
        traced.trail = []
        traced.setdefault("state", {})["request_id"] = request_id
        status = 500  # unless the app answers
        length = 0
        started = time.perf_counter()

        async def observed_send(message: Message) -> None:
            nonlocal status, length
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                length += len(message.get("body", b""))
            await send(message)

        with logs.bound(request_id=request_id):
            try:
                await self.app(traced, receive, observed_send)
            finally:
                elapsed = time.perf_counter() - started
                route = route_template(traced.trail)
                method = scope["method"]
                metrics.HTTP_REQUESTS.labels(route, method, str(status)).inc()
                metrics.HTTP_DURATION.labels(route, method).observe(elapsed)
                path = scope["path"]
                query = scope.get("query_string", b"").decode("latin-1")
                client = scope.get("client") or ("-", 0)
                log.log(logging.DEBUG if path in QUIET else logging.INFO,
                        '%s "%s %s" status: %d len: %d time: %.4f', client[0], method,
                        path + ("?" + query if query else ""), status, length, elapsed,
                        extra={"http_route": route, "http_status": status})
