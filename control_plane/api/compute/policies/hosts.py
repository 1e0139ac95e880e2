"""Policy defaults of /os-hosts (Nova's hosts.py; not served yet)."""

from __future__ import annotations

from control_plane.api.compute.policies.base import ADMIN, Section

SECTIONS: list[Section] = [
    ("os_compute_api:os-hosts:", "/os-hosts", [
        ("list", ADMIN, "GET"),
        ("show", ADMIN, "GET /{host_name}"),
        ("update", ADMIN, "PUT /{host_name}"),
        ("reboot", ADMIN, "GET /{host_name}/reboot"),
        ("shutdown", ADMIN, "GET /{host_name}/shutdown"),
        ("start", ADMIN, "GET /{host_name}/startup"),
    ]),
]
