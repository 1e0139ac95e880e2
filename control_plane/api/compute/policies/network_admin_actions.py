"""Policy defaults of injectNetworkInfo and resetNetwork server actions (Nova's
admin_actions.py)."""

from __future__ import annotations

from control_plane.api.compute.policies.base import ADMIN, SRV, Section

SECTIONS: list[Section] = [
    # server actions and sub-resources of one server
    ("os_compute_api:", SRV, [
        ("os-admin-actions:inject_network_info", ADMIN, "POST /action (injectNetworkInfo)"),
        ("os-admin-actions:reset_network", ADMIN, "POST /action (resetNetwork)"),
    ]),
]
