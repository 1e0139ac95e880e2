"""Policy defaults of /servers/{server_id}/os-volume_attachments (Nova's
volumes_attachment.py)."""

from __future__ import annotations

from control_plane.api.compute.policies.base import MEMBER, READER, SERVICE, SRV, Section

SECTIONS: list[Section] = [
    # server actions and sub-resources of one server
    ("os_compute_api:", SRV, [
        ("os-volumes-attachments:index", READER, "GET /os-volume_attachments"),
        ("os-volumes-attachments:show", READER, "GET /os-volume_attachments/{volume_id}"),
        ("os-volumes-attachments:create", MEMBER, "POST /os-volume_attachments"),
        ("os-volumes-attachments:update", MEMBER, "PUT /os-volume_attachments/{volume_id}"),
        ("os-volumes-attachments:swap", SERVICE, "PUT /os-volume_attachments/{volume_id}"),
        ("os-volumes-attachments:delete", MEMBER, "DELETE /os-volume_attachments/{volume_id}"),
    ]),
]
