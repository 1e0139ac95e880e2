"""Policy defaults of os-consoles, the XVP consoles Nova has removed (Nova's last consoles.py)."""

from __future__ import annotations

from control_plane.api.compute.policies.base import MEMBER, READER, SRV, Section

SECTIONS: list[Section] = [
    # APIs Nova has since removed (nova-network, cells v1, ...) that this project still serves.
    # Names are Nova's last published ones. Those Nova defaulted to admin_api (or, briefly, to
    # system admin/reader) are "rule:admin_api"; those it defaulted to admin_or_owner are
    # project_member_or_admin (if the rule covers a write) or project_reader_or_admin (reads only).
    ("os_compute_api:", "", [
        ("os-consoles:index", READER, f"GET {SRV}/consoles"),
        ("os-consoles:show", READER, f"GET {SRV}/consoles/{{console_id}}"),
        ("os-consoles:create", MEMBER, f"POST {SRV}/consoles"),
        ("os-consoles:delete", MEMBER, f"DELETE {SRV}/consoles/{{console_id}}"),
    ]),
]
