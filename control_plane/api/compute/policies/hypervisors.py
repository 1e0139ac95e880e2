"""Policy defaults of /os-hypervisors (Nova's hypervisors.py; not served yet)."""

from __future__ import annotations

from control_plane.api.compute.policies.base import ADMIN, Section

SECTIONS: list[Section] = [
    ("os_compute_api:os-hypervisors:", "/os-hypervisors", [
        ("list", ADMIN, "GET"),
        ("list-detail", ADMIN, "GET /details"),
        ("statistics", ADMIN, "GET /statistics"),
        ("show", ADMIN, "GET /{hypervisor_id}"),
        ("uptime", ADMIN, "GET /{hypervisor_id}/uptime"),
        ("search", ADMIN, "GET /{hypervisor_hostname_pattern}/search"),
        ("servers", ADMIN, "GET /{hypervisor_hostname_pattern}/servers"),
    ]),
]
