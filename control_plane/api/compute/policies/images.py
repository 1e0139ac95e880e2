"""Policy defaults of /images: Nova's image proxy and image metadata."""

from __future__ import annotations

from control_plane.api.compute.policies.base import ANY, MEMBER, Section

SECTIONS: list[Section] = [
    # Not Nova policies: Nova serves flavor reads and its image proxy without any policy check
    # (anyone with a token may call them; Glance enforces image ownership). This project names
    # them so an operator can restrict them: reads stay open to all ("@"), writes need a member.
    ("os_compute_api:", "", [
        ("images:index", ANY, "GET /images"),
        ("images:detail", ANY, "GET /images/detail"),
        ("images:show", ANY, "GET /images/{image_id}"),
        ("images:delete", MEMBER, "DELETE /images/{image_id}"),
        ("images:metadata:index", ANY, "GET /images/{image_id}/metadata"),
        ("images:metadata:show", ANY, "GET /images/{image_id}/metadata/{key}"),
        ("images:metadata:create", MEMBER, "POST /images/{image_id}/metadata"),
        ("images:metadata:update_all", MEMBER, "PUT /images/{image_id}/metadata"),
        ("images:metadata:update", MEMBER, "PUT /images/{image_id}/metadata/{key}"),
        ("images:metadata:delete", MEMBER, "DELETE /images/{image_id}/metadata/{key}"),
    ]),
]
