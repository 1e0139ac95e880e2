"""Policy defaults of /os-quota-sets and /os-quota-class-sets (Nova's quota_sets.py,
quota_class_sets.py)."""

from __future__ import annotations

from control_plane.api.compute.policies.base import ADMIN, ANY, READER, Section

SECTIONS: list[Section] = [
    ("os_compute_api:os-quota-class-sets:", "/os-quota-class-sets/{quota_class}", [
        ("show", ADMIN, "GET"),
        ("update", ADMIN, "PUT"),
    ]),
    ("os_compute_api:os-quota-sets:", "/os-quota-sets/{tenant_id}", [
        ("show", READER, "GET"),
        ("detail", READER, "GET /detail"),
        ("defaults", ANY, "GET /defaults"),
        ("update", ADMIN, "PUT"),
        ("delete", ADMIN, "DELETE"),
    ]),
]
