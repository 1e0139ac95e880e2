"""Policy defaults of os-security-groups and their rules (Nova's security_groups.py; not served
yet)."""

from __future__ import annotations

from control_plane.api.compute.policies.base import ADMIN_API, MEMBER, READER, SRV, Section

SECTIONS: list[Section] = [
    # server actions and sub-resources of one server
    ("os_compute_api:", SRV, [
        ("os-security-groups:list", READER, "GET /os-security-groups"),
    ]),
    ("os_compute_api:os-security-groups:", "", [
        ("get", READER, "GET /os-security-groups"),
        ("show", READER, "GET /os-security-groups/{security_group_id}"),
        ("create", MEMBER, "POST /os-security-groups"),
        ("update", MEMBER, "PUT /os-security-groups/{security_group_id}"),
        ("delete", MEMBER, "DELETE /os-security-groups/{security_group_id}"),
        ("rule:create", MEMBER, "POST /os-security-group-rules"),
        ("rule:delete", MEMBER, "DELETE /os-security-group-rules/{security_group_id}"),
    ]),
    # APIs Nova has since removed (nova-network, cells v1, ...) that this project still serves.
    # Names are Nova's last published ones. Those Nova defaulted to admin_api (or, briefly, to
    # system admin/reader) are "rule:admin_api"; those it defaulted to admin_or_owner are
    # project_member_or_admin (if the rule covers a write) or project_reader_or_admin (reads only).
    ("os_compute_api:", "", [
        ("os-security-group-default-rules", ADMIN_API,
         "GET /os-security-group-default-rules; POST /os-security-group-default-rules; "
         "GET /os-security-group-default-rules/{id}; "
         "DELETE /os-security-group-default-rules/{id}"),
    ]),
]
