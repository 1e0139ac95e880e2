"""Policy defaults of /os-migrations (Nova's migrations.py)."""

from __future__ import annotations

from control_plane.api.compute.policies.base import ADMIN, MANAGER, Section

SECTIONS: list[Section] = [
    ("os_compute_api:os-migrations:", "/os-migrations", [
        ("index", MANAGER, "GET"),
        ("index:all_projects", ADMIN, "GET"),
        ("index:host", ADMIN, "GET"),
    ]),
]
