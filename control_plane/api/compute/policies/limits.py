"""Policy defaults of /limits (Nova's limits.py, and the removed os-used-limits)."""

from __future__ import annotations

from control_plane.api.compute.policies.base import ADMIN, ADMIN_API, ANY, Section

SECTIONS: list[Section] = [
    ("os_compute_api:", "", [
        ("limits", ANY, "GET /limits"),
        ("limits:other_project", ADMIN, "GET /limits"),
    ]),
    # APIs Nova has since removed (nova-network, cells v1, ...) that this project still serves.
    # Names are Nova's last published ones. Those Nova defaulted to admin_api (or, briefly, to
    # system admin/reader) are "rule:admin_api"; those it defaulted to admin_or_owner are
    # project_member_or_admin (if the rule covers a write) or project_reader_or_admin (reads only).
    ("os_compute_api:", "", [
        ("os-used-limits", ADMIN_API, "GET /limits"),  # limits:other_project since Ussuri,
    ]),
]
