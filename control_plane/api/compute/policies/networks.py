"""Policy defaults of Networks: os-networks, os-tenant-networks, fixed IPs and fping, current
and removed (Nova's networks.py, tenant_networks.py and their removed relatives)."""

from __future__ import annotations

from control_plane.api.compute.policies.base import ADMIN_API, MEMBER, READER, Section

SECTIONS: list[Section] = [
    ("os_compute_api:", "", [
        ("os-networks:list", READER, "GET /os-networks"),
        ("os-networks:show", READER, "GET /os-networks/{network_id}"),
        ("os-tenant-networks:list", READER, "GET /os-tenant-networks"),
        ("os-tenant-networks:show", READER, "GET /os-tenant-networks/{network_id}"),
    ]),
    # APIs Nova has since removed (nova-network, cells v1, ...) that this project still serves.
    # Names are Nova's last published ones. Those Nova defaulted to admin_api (or, briefly, to
    # system admin/reader) are "rule:admin_api"; those it defaulted to admin_or_owner are
    # project_member_or_admin (if the rule covers a write) or project_reader_or_admin (reads only).
    ("os_compute_api:", "", [
        ("os-fixed-ips", ADMIN_API, "GET /os-fixed-ips/{fixed_ip}; "
                                    "POST /os-fixed-ips/{fixed_ip}/action (reserve); "
                                    "POST /os-fixed-ips/{fixed_ip}/action (unreserve)"),
        ("os-fping", READER, "GET /os-fping; GET /os-fping/{instance_id}"),
        ("os-fping:all_tenants", ADMIN_API, "GET /os-fping?all_tenants=true"),
        # the os-networks writes, before Train left only list/show (kept above with Nova's
        # current defaults); "os-networks:view" is the older name of those reads
        ("os-networks", ADMIN_API, "POST /os-networks; POST /os-networks/add; "
                                   "DELETE /os-networks/{network_id}; "
                                   "POST /os-networks/{network_id}/action (disassociate)"),
        ("os-networks:view", READER, "GET /os-networks; GET /os-networks/{network_id}"),
        ("os-networks-associate", ADMIN_API,
         "POST /os-networks/{network_id}/action (associate_host); "
         "POST /os-networks/{network_id}/action (disassociate_host); "
         "POST /os-networks/{network_id}/action (disassociate_project)"),
        ("os-tenant-networks", MEMBER, "GET /os-tenant-networks; POST /os-tenant-networks; "
                                       "GET /os-tenant-networks/{network_id}; "
                                       "DELETE /os-tenant-networks/{network_id}"),
    ]),
]
