"""Policy defaults of GET /servers/{server_id}/diagnostics (Nova's server_diagnostics.py)."""

from __future__ import annotations

from control_plane.api.compute.policies.base import ADMIN, SRV, Section

SECTIONS: list[Section] = [
    # server actions and sub-resources of one server
    ("os_compute_api:", SRV, [
        ("os-server-diagnostics", ADMIN, "GET /diagnostics"),
    ]),
]
