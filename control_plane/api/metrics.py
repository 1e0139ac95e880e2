"""GET /metrics: this process's Prometheus metrics (control_plane.observability.metrics).

Before answering, the log's head and every projection's and follower's tracked
position are read in one query and set on their gauges (lag = head - position).
Access (``CONTROL_PLANE_METRICS_ACCESS``): ``public`` (default, like Nova's
healthcheck: scrapers carry no token), ``admin`` (an admin's X-Auth-Token), ``off``.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.requests import Request
from starlette.responses import Response

from control_plane.api import common
from control_plane.api.faults import Forbidden, NotFound, Unauthorized
from control_plane.api.middleware import authenticate
from control_plane.observability import metrics
from control_plane.ops import health

log = logging.getLogger(__name__)


def projection_names(request: Request) -> list[str]:
    system = getattr(request.app.state, "system", None)
    return [p.name for p in system.runner.projections] if system is not None else []


async def refresh_positions(request: Request) -> None:
    deps = common.deps(request)
    try:
        async with asyncio.timeout(deps.settings.ready_timeout), deps.pool.acquire() as conn:
            pos = await health.positions(conn)
    except Exception as exc:  # the process's own metrics are still worth answering
        log.warning("metrics: positions unavailable: %s: %s", type(exc).__name__, exc)
        metrics.DATABASE_UP.set(0)
        return
    metrics.DATABASE_UP.set(1)
    metrics.set_positions(pos.head, pos.tracked, projection_names(request))
    metrics.set_health(pos.dead_letters, pos.seen, common.deps(request).settings
                       .service_down_time)


async def _check_access(request: Request) -> None:
    access = common.deps(request).settings.metrics_access
    if access == "off":
        raise NotFound()
    if access == "admin":
        ctx = await authenticate(request.app.state, common.deps(request).settings,
                                 dict(request.headers), request.state.request_id)
        if ctx is None:
            raise Unauthorized("The request you have made requires authentication.")
        if not ctx.is_admin:
            raise Forbidden("Metrics are for admins only.")


async def show(request: Request) -> Response:
    await _check_access(request)
    await refresh_positions(request)
    body, content_type = metrics.exposition(request.headers.get("accept"))
    return Response(body, headers={"content-type": content_type})
