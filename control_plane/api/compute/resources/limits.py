"""/limits: the project's absolute limits and what it uses now."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from control_plane.api import common
from control_plane.api.common import P
from projections.servers import queries as server_queries


async def show(request: Request) -> Response:
    ctx = common.context(request)
    project_id = ctx.project_id
    if "tenant_id" in request.query_params:
        # Nova checks the used-limits policy whenever tenant_id is given, even one's own
        project_id = request.query_params["tenant_id"]
        common.authorize(request, ctx, "os_compute_api:limits:other_project",
                         {"project_id": project_id})
    q = common.deps(request).settings.quotas
    async with common.deps(request).pool.acquire() as conn:
        row = await server_queries.usage(conn, project_id)
    absolute = {
        "maxImageMeta": q["metadata_items"],
        "maxPersonality": q["injected_files"],
        "maxPersonalitySize": q["injected_file_content_bytes"],
        "maxSecurityGroupRules": q["security_group_rules"],
        "maxSecurityGroups": q["security_groups"],
        "maxServerMeta": q["metadata_items"],
        "maxTotalCores": q["cores"],
        "maxTotalFloatingIps": q["floating_ips"],
        "maxTotalInstances": q["instances"],
        "maxTotalKeypairs": q["key_pairs"],
        "maxTotalRAMSize": q["ram"],
        "maxServerGroups": q["server_groups"],
        "maxServerGroupMembers": q["server_group_members"],
        "totalCoresUsed": row["cores"],
        "totalInstancesUsed": row["n"],
        "totalRAMUsed": row["ram"],
        "totalSecurityGroupsUsed": 0,
        "totalFloatingIpsUsed": 0,
        "totalServerGroupsUsed": 0,
    }
    return common.JSON({"limits": {"rate": [], "absolute": absolute}})


ROUTES: list[BaseRoute] = [
    P("/limits", show, "GET", "os_compute_api:limits"),
]
