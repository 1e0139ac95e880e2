"""Policy defaults of /servers/{server_id}/os-instance-actions (Nova's instance_actions.py)."""

from __future__ import annotations

from control_plane.api.compute.policies.base import ADMIN, READER, SRV, Section

SECTIONS: list[Section] = [
    # server actions and sub-resources of one server
    ("os_compute_api:", SRV, [
        ("os-instance-actions:list", READER, "GET /os-instance-actions"),
        ("os-instance-actions:show", READER, "GET /os-instance-actions/{request_id}"),
        ("os-instance-actions:events", ADMIN, "GET /os-instance-actions/{request_id}"),
        ("os-instance-actions:events:details", ADMIN, "GET /os-instance-actions/{request_id}"),
    ]),
]
