"""GET /os-migrations (1.41): every move of a server, from the migrations view.

Filters: host (source or destination), source_compute, status, instance_uuid,
migration_type. Without os-migrations:index:all_projects the caller sees its own
project's migrations; without os-migrations:index:host the host fields are null
(Nova's current defaults: managers list their project's moves, admins everything).
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from control_plane.api import common
from control_plane.api.common import P
from projections.migrations import queries as migration_queries

MR = "os_compute_api:os-migrations:"
_HOST_FIELDS = ("dest_compute", "dest_host", "dest_node", "source_compute", "source_node")


def render(row: asyncpg.Record, with_hosts: bool) -> dict[str, Any]:
    out = {
        "created_at": common.isotime(row["created_at"]),
        "dest_compute": row["dest_compute"], "dest_host": row["dest_host"],
        "dest_node": row["dest_node"], "id": row["id"],
        "instance_uuid": str(row["instance_uuid"]),
        "new_instance_type_id": row["new_instance_type_id"],
        "old_instance_type_id": row["old_instance_type_id"],
        "source_compute": row["source_compute"], "source_node": row["source_node"],
        "status": row["status"], "updated_at": common.isotime(row["updated_at"]),
    }
    if not with_hosts:
        out.update(dict.fromkeys(_HOST_FIELDS))
    return out


async def index(request: Request) -> Response:
    ctx = common.context(request)
    q = request.query_params
    f = migration_queries.Filter(
        host=q.get("host") or None, source_compute=q.get("source_compute") or None,
        status=q.get("status") or None, migration_type=q.get("migration_type") or None)
    if not common.allowed(request, ctx, MR + "index:all_projects"):
        f.project_id = ctx.project_id
    if q.get("instance_uuid"):
        try:
            f.instance_uuid = uuid.UUID(q["instance_uuid"])
        except ValueError:
            return common.JSON({"migrations": []})
    async with common.deps(request).pool.acquire() as conn:
        rows = await migration_queries.matching(conn, f)
    with_hosts = common.allowed(request, ctx, MR + "index:host")
    return common.JSON({"migrations": [render(r, with_hosts) for r in rows]})


ROUTES: list[BaseRoute] = [
    # the index rule; the handler widens the view with index:all_projects / index:host
    P("/os-migrations", index, "GET", "os_compute_api:os-migrations:index"),
]
