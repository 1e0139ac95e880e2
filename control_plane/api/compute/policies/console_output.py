"""Policy defaults of os-getConsoleOutput (Nova's console_output.py)."""

from __future__ import annotations

from control_plane.api.compute.policies.base import MEMBER, SRV, Section

SECTIONS: list[Section] = [
    # server actions and sub-resources of one server
    ("os_compute_api:", SRV, [
        ("os-console-output", MEMBER, "POST /action (os-getConsoleOutput)"),
    ]),
]
