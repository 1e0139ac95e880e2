"""Policy defaults of Floating IPs: the add/remove server actions, os-floating-ips, pools, DNS
and bulk (Nova's floating_ips.py and its removed relatives)."""

from __future__ import annotations

from control_plane.api.compute.policies.base import ADMIN_API, ANY, MEMBER, READER, SRV, Section

SECTIONS: list[Section] = [
    # server actions and sub-resources of one server
    ("os_compute_api:", SRV, [
        ("os-floating-ips:add", MEMBER, "POST /action (addFloatingIp)"),
        ("os-floating-ips:remove", MEMBER, "POST /action (removeFloatingIp)"),
    ]),
    ("os_compute_api:", "", [
        ("os-floating-ip-pools", ANY, "GET /os-floating-ip-pools"),
    ]),
    ("os_compute_api:os-floating-ips:", "/os-floating-ips", [
        ("list", READER, "GET"),
        ("create", MEMBER, "POST"),
        ("show", READER, "GET /{floating_ip_id}"),
        ("delete", MEMBER, "DELETE /{floating_ip_id}"),
    ]),
    # APIs Nova has since removed (nova-network, cells v1, ...) that this project still serves.
    # Names are Nova's last published ones. Those Nova defaulted to admin_api (or, briefly, to
    # system admin/reader) are "rule:admin_api"; those it defaulted to admin_or_owner are
    # project_member_or_admin (if the rule covers a write) or project_reader_or_admin (reads only).
    ("os_compute_api:", "", [
        ("os-floating-ip-dns", MEMBER, "GET /os-floating-ip-dns; "
                                       "GET /os-floating-ip-dns/{domain}/entries/{ip}; "
                                       "GET /os-floating-ip-dns/{domain}/entries/{name}; "
                                       "PUT /os-floating-ip-dns/{domain}/entries/{name}; "
                                       "DELETE /os-floating-ip-dns/{domain}/entries/{name}"),
        ("os-floating-ip-dns:domain:update", ADMIN_API, "PUT /os-floating-ip-dns/{domain}"),
        ("os-floating-ip-dns:domain:delete", ADMIN_API, "DELETE /os-floating-ip-dns/{domain}"),
        ("os-floating-ips-bulk", ADMIN_API, "GET /os-floating-ips-bulk; "
                                            "POST /os-floating-ips-bulk; "
                                            "PUT /os-floating-ips-bulk/delete; "
                                            "GET /os-floating-ips-bulk/{host_name}"),
    ]),
]
