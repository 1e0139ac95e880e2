"""Policy defaults of /servers/{server_id}/metadata (Nova's server_metadata.py)."""

from __future__ import annotations

from control_plane.api.compute.policies.base import MEMBER, READER, SRV, Section

SECTIONS: list[Section] = [
    # server actions and sub-resources of one server
    ("os_compute_api:", SRV, [
        ("server-metadata:index", READER, "GET /metadata"),
        ("server-metadata:show", READER, "GET /metadata/{key}"),
        ("server-metadata:create", MEMBER, "POST /metadata"),
        ("server-metadata:update_all", MEMBER, "PUT /metadata"),
        ("server-metadata:update", MEMBER, "PUT /metadata/{key}"),
        ("server-metadata:delete", MEMBER, "DELETE /metadata/{key}"),
    ]),
]
