"""Policy defaults of /servers/{server_id}/os-server-password (Nova's server_password.py)."""

from __future__ import annotations

from control_plane.api.compute.policies.base import MEMBER, READER, SRV, Section

SECTIONS: list[Section] = [
    # server actions and sub-resources of one server
    ("os_compute_api:", SRV, [
        ("os-server-password:show", READER, "GET /os-server-password"),
        ("os-server-password:clear", MEMBER, "DELETE /os-server-password"),
    ]),
]
