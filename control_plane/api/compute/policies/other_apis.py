"""Policy defaults of Nova APIs with no resource here yet and no closer home: baremetal nodes,
server external events, usage audit log, services, simple tenant usage, and removed ones
(agents, cells, certificates, cloudpipe)."""

from __future__ import annotations

from control_plane.api.compute.policies.base import (
    ADMIN,
    ADMIN_API,
    MEMBER,
    READER,
    SERVICE,
    Section,
)

SECTIONS: list[Section] = [
    ("os_compute_api:", "", [
        ("os-baremetal-nodes:list", ADMIN, "GET /os-baremetal-nodes"),
        ("os-baremetal-nodes:show", ADMIN, "GET /os-baremetal-nodes/{node_id}"),
        ("os-server-external-events:create", SERVICE, "POST /os-server-external-events"),
    ]),
    ("os_compute_api:os-instance-usage-audit-log:", "/os-instance_usage_audit_log", [
        ("list", ADMIN, "GET"),
        ("show", ADMIN, "GET /{before_timestamp}"),
    ]),
    ("os_compute_api:os-services:", "/os-services", [
        ("list", ADMIN, "GET"),
        ("update", ADMIN, "PUT /{service_id}"),
        ("delete", ADMIN, "DELETE /{service_id}"),
    ]),
    ("os_compute_api:os-simple-tenant-usage:", "/os-simple-tenant-usage", [
        ("list", ADMIN, "GET"),
        ("show", READER, "GET /{tenant_id}"),
    ]),
    # APIs Nova has since removed (nova-network, cells v1, ...) that this project still serves.
    # Names are Nova's last published ones. Those Nova defaulted to admin_api (or, briefly, to
    # system admin/reader) are "rule:admin_api"; those it defaulted to admin_or_owner are
    # project_member_or_admin (if the rule covers a write) or project_reader_or_admin (reads only).
    ("os_compute_api:", "", [
        ("os-agents:list", ADMIN_API, "GET /os-agents"),  # removed in Victoria,
        ("os-agents:create", ADMIN_API, "POST /os-agents"),
        ("os-agents:update", ADMIN_API, "PUT /os-agents/{agent_build_id}"),
        ("os-agents:delete", ADMIN_API, "DELETE /os-agents/{agent_build_id}"),
        ("os-cells", ADMIN_API, "GET /os-cells; GET /os-cells/detail; GET /os-cells/info; "
                                "GET /os-cells/capacities; GET /os-cells/{cell_id}"),
        ("os-cells:create", ADMIN_API, "POST /os-cells"),
        ("os-cells:update", ADMIN_API, "PUT /os-cells/{cell_id}"),
        ("os-cells:delete", ADMIN_API, "DELETE /os-cells/{cell_id}"),
        ("os-cells:sync_instances", ADMIN_API, "POST /os-cells/sync_instances"),
        ("os-certificates:create", MEMBER, "POST /os-certificates"),
        ("os-certificates:show", READER, "GET /os-certificates/root"),
        ("os-cloudpipe", ADMIN_API,
         "GET /os-cloudpipe; POST /os-cloudpipe; PUT /os-cloudpipe/configure-project"),
    ]),
]
