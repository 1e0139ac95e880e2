"""Policy defaults of /servers/{server_id}/ips (Nova's ips.py)."""

from __future__ import annotations

from control_plane.api.compute.policies.base import READER, SRV, Section

SECTIONS: list[Section] = [
    # server actions and sub-resources of one server
    ("os_compute_api:", SRV, [
        ("ips:index", READER, "GET /ips"),
        ("ips:show", READER, "GET /ips/{network_label}"),
    ]),
]
