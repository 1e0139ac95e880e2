"""Policy defaults of /servers/{server_id}/os-virtual-interfaces (Nova's last
virtual_interfaces.py)."""

from __future__ import annotations

from control_plane.api.compute.policies.base import READER, SRV, Section

SECTIONS: list[Section] = [
    # APIs Nova has since removed (nova-network, cells v1, ...) that this project still serves.
    # Names are Nova's last published ones. Those Nova defaulted to admin_api (or, briefly, to
    # system admin/reader) are "rule:admin_api"; those it defaulted to admin_or_owner are
    # project_member_or_admin (if the rule covers a write) or project_reader_or_admin (reads only).
    ("os_compute_api:", "", [
        ("os-virtual-interfaces", READER, f"GET {SRV}/os-virtual-interfaces"),
    ]),
]
