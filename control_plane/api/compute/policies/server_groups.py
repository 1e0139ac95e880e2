"""Policy defaults of /os-server-groups (Nova's server_groups.py; not served yet)."""

from __future__ import annotations

from control_plane.api.compute.policies.base import ADMIN, MEMBER, READER, Section

SECTIONS: list[Section] = [
    ("os_compute_api:os-server-groups:", "/os-server-groups", [
        ("index", READER, "GET"),
        ("index:all_projects", ADMIN, "GET"),
        ("show", READER, "GET /{server_group_id}"),
        ("create", MEMBER, "POST"),
        ("delete", MEMBER, "DELETE /{server_group_id}"),
    ]),
]
