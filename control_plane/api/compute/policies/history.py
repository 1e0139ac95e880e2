"""Policy defaults of /os-history: the event log replayed for auditors (not a Nova API)."""

from __future__ import annotations

from control_plane.api.compute.policies.base import ADMIN, Section

SECTIONS: list[Section] = [
    # Not a Nova API: the event log replayed for auditors
    # (control_plane.api.compute.resources.history). It
    # shows every project's servers and who did what, so it is for admins only.
    ("os_compute_api:os-history:", "/os-history/servers", [
        ("servers:list", ADMIN, "GET"),
        ("servers:show", ADMIN, "GET /{server_id}"),
        ("servers:timeline", ADMIN, "GET /{server_id}/timeline"),
    ]),
]
