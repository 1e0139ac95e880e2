"""Policy defaults of Remote consoles (Nova's remote_consoles.py)."""

from __future__ import annotations

from control_plane.api.compute.policies.base import MEMBER, SRV, Section

SECTIONS: list[Section] = [
    # server actions and sub-resources of one server
    ("os_compute_api:", SRV, [
        ("os-remote-consoles", MEMBER,
         "POST /action (os-getSerialConsole); POST /action (os-getSPICEConsole); "
         "POST /action (os-getVNCConsole); POST /remote-consoles"),
    ]),
]
