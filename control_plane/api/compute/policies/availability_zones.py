"""Policy defaults of /os-availability-zone (Nova's availability_zone.py)."""

from __future__ import annotations

from control_plane.api.compute.policies.base import ADMIN, ANY, Section

SECTIONS: list[Section] = [
    ("os_compute_api:", "", [
        ("os-availability-zone:list", ANY, "GET /os-availability-zone"),
        ("os-availability-zone:detail", ADMIN, "GET /os-availability-zone/detail"),
    ]),
]
