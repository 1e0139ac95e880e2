"""GET /healthz (liveness) and GET /readyz (readiness), unauthenticated as Nova's
healthcheck: a load balancer or an orchestrator asks without a token.

/healthz answers 200 whenever the process answers at all. /readyz answers 200
when the database, the migrations, the projections (lag, pauses), the dead letters
and the followers (up, lag) are fine (control_plane.ops.health) and 503 otherwise; either
way its body says what each check found.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from control_plane.api import common
from control_plane.api.metrics import projection_names
from control_plane.ops import health


async def healthz(request: Request) -> Response:
    return common.JSON({"status": "ok"})


async def readyz(request: Request) -> Response:
    deps = common.deps(request)
    system = getattr(request.app.state, "system", None)
    local = {f.name: f.state for f in system.followers} if system is not None else {}
    result = await health.readiness(deps.pool, projection_names(request),
                                    max_lag=deps.settings.ready_max_lag,
                                    timeout=deps.settings.ready_timeout,
                                    down_after=deps.settings.service_down_time,
                                    local_followers=local)
    return common.JSON(result.body(), status_code=200 if result.ready else 503)
