"""Policy defaults of /servers/{server_id}/os-interface (Nova's attach_interfaces.py)."""

from __future__ import annotations

from control_plane.api.compute.policies.base import MEMBER, READER, SRV, Section

SECTIONS: list[Section] = [
    # server actions and sub-resources of one server
    ("os_compute_api:", SRV, [
        ("os-attach-interfaces:list", READER, "GET /os-interface"),
        ("os-attach-interfaces:show", READER, "GET /os-interface/{port_id}"),
        ("os-attach-interfaces:create", MEMBER, "POST /os-interface"),
        ("os-attach-interfaces:delete", MEMBER, "DELETE /os-interface/{port_id}"),
    ]),
]
