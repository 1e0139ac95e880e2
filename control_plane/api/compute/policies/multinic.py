"""Policy defaults of addFixedIp and removeFixedIp server actions (Nova's multinic.py)."""

from __future__ import annotations

from control_plane.api.compute.policies.base import MEMBER, SRV, Section

SECTIONS: list[Section] = [
    # server actions and sub-resources of one server
    ("os_compute_api:", SRV, [
        ("os-multinic:add", MEMBER, "POST /action (addFixedIp)"),
        ("os-multinic:remove", MEMBER, "POST /action (removeFixedIp)"),
    ]),
]
