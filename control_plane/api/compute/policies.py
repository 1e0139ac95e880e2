"""Nova's default policy rules, as data.

Rule names and check strings follow nova/policies/*.py in openstack/nova (the defaults in
force with ``enforce_new_defaults=True``): project resources are ``project_reader_or_admin``
to read and ``project_member_or_admin`` to change, cloud-wide resources ``context_is_admin``,
move operations ``project_manager_or_admin``. ``scope_types`` are left out on purpose: this
control plane issues project-scoped tokens only, so a scope check could only ever pass.

The table is turned into ``oslo_policy.policy.DocumentedRuleDefault`` objects by ``defaults()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from oslo_policy import policy

if TYPE_CHECKING:  # a TypedDict only in oslo.policy's own annotations
    from oslo_policy.policy import Operation

# the check strings used below: aliases for the base rules registered in BASE_RULES
ADMIN = "rule:context_is_admin"
MANAGER = "rule:project_manager_or_admin"
MEMBER = "rule:project_member_or_admin"
READER = "rule:project_reader_or_admin"
SERVICE = "rule:service_or_admin"
ADMIN_API = "rule:admin_api"  # the legacy alias, for removed admin-only APIs
ANY = "@"
NOBODY = "!"

# (name, check string, description)
BASE_RULES: list[tuple[str, str, str]] = [
    ("context_is_admin", "role:admin",
     "Decides what is required for the 'is_admin:True' check to succeed."),
    # Nova says "is_admin:True"; the credentials' is_admin is "admin" in roles, so it is the same.
    ("admin_api", "role:admin", "Default rule for most Admin APIs (legacy)."),
    ("admin_or_owner", "is_admin:True or project_id:%(project_id)s",
     "Default rule for most non-Admin APIs (legacy)."),
    ("project_manager_api", "role:manager and project_id:%(project_id)s",
     "Default rule for Project level management APIs."),
    ("project_member_api", "role:member and project_id:%(project_id)s",
     "Default rule for Project level non admin APIs."),
    ("project_reader_api", "role:reader and project_id:%(project_id)s",
     "Default rule for Project level read only APIs."),
    ("service_api", "role:service", "Default rule for service-to-service APIs."),
    ("project_manager_or_admin", "rule:project_manager_api or rule:context_is_admin",
     "Default rule for Project Manager or admin APIs."),
    ("project_member_or_admin", "rule:project_member_api or rule:context_is_admin",
     "Default rule for Project Member or admin APIs."),
    ("project_reader_or_admin", "rule:project_reader_api or rule:context_is_admin",
     "Default rule for Project reader or admin APIs."),
    ("service_or_admin", "rule:service_api or rule:context_is_admin",
     "Default rule for service or admin APIs."),
]

# A section is (name prefix, path root, rows); a row is (name suffix, check string, operations).
# Operations are "METHOD rest" joined by "; ", where the path is root + rest ("POST /action
# (pause)" under root "/servers/{server_id}" is "POST /servers/{server_id}/action (pause)").
# An empty suffix names the prefix itself, without its trailing ':'.
Row = tuple[str, str, str]
Section = tuple[str, str, list[Row]]

SRV = "/servers/{server_id}"

SECTIONS: list[Section] = [
    ("os_compute_api:servers:", "/servers", [
        ("index", READER, "GET"),
        ("detail", READER, "GET /detail"),
        ("index:get_all_tenants", ADMIN, "GET"),
        ("detail:get_all_tenants", ADMIN, "GET /detail"),
        ("allow_all_filters", ADMIN, "GET; GET /detail"),
        ("show", READER, "GET /{server_id}"),
        ("show:flavor-extra-specs", READER,
         "GET /detail; GET /{server_id}; PUT /{server_id}; POST /{server_id}/action (rebuild)"),
        ("show:host_status", ADMIN,
         "GET /{server_id}; GET /detail; PUT /{server_id}; POST /{server_id}/action (rebuild)"),
        ("show:host_status:unknown-only", ADMIN,
         "GET /{server_id}; GET /detail; PUT /{server_id}; POST /{server_id}/action (rebuild)"),
        ("create", MEMBER, "POST"),
        ("create:forced_host", ADMIN, "POST"),
        ("create:attach_volume", MEMBER, "POST"),
        ("create:attach_network", MEMBER, "POST"),
        ("create:trusted_certs", MEMBER, "POST"),
        ("create:zero_disk_flavor", ADMIN, "POST"),
        ("delete", MEMBER, "DELETE /{server_id}"),
        ("update", MEMBER, "PUT /{server_id}"),
        ("confirm_resize", MEMBER, "POST /{server_id}/action (confirmResize)"),
        ("revert_resize", MEMBER, "POST /{server_id}/action (revertResize)"),
        ("reboot", MEMBER, "POST /{server_id}/action (reboot)"),
        ("resize", MEMBER, "POST /{server_id}/action (resize)"),
        ("rebuild", MEMBER, "POST /{server_id}/action (rebuild)"),
        ("rebuild:trusted_certs", MEMBER, "POST /{server_id}/action (rebuild)"),
        ("create_image", MEMBER, "POST /{server_id}/action (createImage)"),
        ("create_image:allow_volume_backed", MEMBER, "POST /{server_id}/action (createImage)"),
        ("start", MEMBER, "POST /{server_id}/action (os-start)"),
        ("stop", MEMBER, "POST /{server_id}/action (os-stop)"),
        ("trigger_crash_dump", MEMBER, "POST /{server_id}/action (trigger_crash_dump)"),
        ("migrations:show", ADMIN, "GET /{server_id}/migrations/{migration_id}"),
        ("migrations:force_complete", MANAGER,
         "POST /{server_id}/migrations/{migration_id}/action (force_complete)"),
        ("migrations:delete", MANAGER, "DELETE /{server_id}/migrations/{migration_id}"),
        ("migrations:index", MANAGER, "GET /{server_id}/migrations"),
        ("migrations:index:host", ADMIN, "GET /{server_id}/migrations"),
    ]),
    # rules Nova names outside the os_compute_api: namespace
    ("", "", [
        ("compute:servers:create:requested_destination", ADMIN, "POST /servers"),
        ("compute:servers:resize:cross_cell", NOBODY, f"POST {SRV}/action (resize)"),
        ("network:attach_external_network", ADMIN, f"POST /servers; POST {SRV}/os-interface"),
        ("compute:server:topology:index", READER, f"GET {SRV}/topology"),
        ("compute:server:topology:host:index", ADMIN, f"GET {SRV}/topology"),
        ("compute:aggregates:images", ADMIN, "POST /os-aggregates/{aggregate_id}/images"),
    ]),
    # server actions and sub-resources of one server
    ("os_compute_api:", SRV, [
        ("os-admin-actions:reset_state", ADMIN, "POST /action (os-resetState)"),
        ("os-admin-actions:inject_network_info", ADMIN, "POST /action (injectNetworkInfo)"),
        ("os-admin-actions:reset_network", ADMIN, "POST /action (resetNetwork)"),
        ("os-admin-password", MEMBER, "POST /action (changePassword)"),
        ("os-console-output", MEMBER, "POST /action (os-getConsoleOutput)"),
        ("os-create-backup", MEMBER, "POST /action (createBackup)"),
        ("os-deferred-delete:restore", MEMBER, "POST /action (restore)"),
        ("os-deferred-delete:force", MEMBER, "POST /action (forceDelete)"),
        ("os-evacuate", ADMIN, "POST /action (evacuate)"),
        ("os-floating-ips:add", MEMBER, "POST /action (addFloatingIp)"),
        ("os-floating-ips:remove", MEMBER, "POST /action (removeFloatingIp)"),
        ("os-lock-server:lock", MEMBER, "POST /action (lock)"),
        ("os-lock-server:unlock", MEMBER, "POST /action (unlock)"),
        ("os-lock-server:unlock:unlock_override", ADMIN, "POST /action (unlock)"),
        ("os-migrate-server:migrate", MANAGER, "POST /action (migrate)"),
        ("os-migrate-server:migrate:host", ADMIN, "POST /action (migrate)"),
        ("os-migrate-server:migrate_live", MANAGER, "POST /action (os-migrateLive)"),
        ("os-migrate-server:migrate_live:host", ADMIN, "POST /action (os-migrateLive)"),
        ("os-multinic:add", MEMBER, "POST /action (addFixedIp)"),
        ("os-multinic:remove", MEMBER, "POST /action (removeFixedIp)"),
        ("os-pause-server:pause", MEMBER, "POST /action (pause)"),
        ("os-pause-server:unpause", MEMBER, "POST /action (unpause)"),
        ("os-remote-consoles", MEMBER,
         "POST /action (os-getSerialConsole); POST /action (os-getSPICEConsole); "
         "POST /action (os-getVNCConsole); POST /remote-consoles"),
        ("os-rescue", MEMBER, "POST /action (rescue)"),
        ("os-unrescue", MEMBER, "POST /action (unrescue)"),
        ("os-security-groups:list", READER, "GET /os-security-groups"),
        ("os-security-groups:add", MEMBER, "POST /action (addSecurityGroup)"),
        ("os-security-groups:remove", MEMBER, "POST /action (removeSecurityGroup)"),
        ("os-server-diagnostics", ADMIN, "GET /diagnostics"),
        ("os-shelve:shelve", MEMBER, "POST /action (shelve)"),
        ("os-shelve:unshelve", MEMBER, "POST /action (unshelve)"),
        ("os-shelve:unshelve_to_host", ADMIN, "POST /action (unshelve)"),
        ("os-shelve:shelve_offload", ADMIN, "POST /action (shelveOffload)"),
        ("os-suspend-server:resume", MEMBER, "POST /action (resume)"),
        ("os-suspend-server:suspend", MEMBER, "POST /action (suspend)"),
        ("os-attach-interfaces:list", READER, "GET /os-interface"),
        ("os-attach-interfaces:show", READER, "GET /os-interface/{port_id}"),
        ("os-attach-interfaces:create", MEMBER, "POST /os-interface"),
        ("os-attach-interfaces:delete", MEMBER, "DELETE /os-interface/{port_id}"),
        ("os-instance-actions:list", READER, "GET /os-instance-actions"),
        ("os-instance-actions:show", READER, "GET /os-instance-actions/{request_id}"),
        ("os-instance-actions:events", ADMIN, "GET /os-instance-actions/{request_id}"),
        ("os-instance-actions:events:details", ADMIN, "GET /os-instance-actions/{request_id}"),
        ("ips:index", READER, "GET /ips"),
        ("ips:show", READER, "GET /ips/{network_label}"),
        ("server-metadata:index", READER, "GET /metadata"),
        ("server-metadata:show", READER, "GET /metadata/{key}"),
        ("server-metadata:create", MEMBER, "POST /metadata"),
        ("server-metadata:update_all", MEMBER, "PUT /metadata"),
        ("server-metadata:update", MEMBER, "PUT /metadata/{key}"),
        ("server-metadata:delete", MEMBER, "DELETE /metadata/{key}"),
        ("os-server-password:show", READER, "GET /os-server-password"),
        ("os-server-password:clear", MEMBER, "DELETE /os-server-password"),
        ("os-server-shares:index", READER, "GET /shares"),
        ("os-server-shares:create", MEMBER, "POST /shares"),
        ("os-server-shares:show", READER, "GET /shares/{share_id}"),
        ("os-server-shares:delete", MEMBER, "DELETE /shares/{share_id}"),
        ("os-server-tags:index", READER, "GET /tags"),
        ("os-server-tags:show", READER, "GET /tags/{tag}"),
        ("os-server-tags:update_all", MEMBER, "PUT /tags"),
        ("os-server-tags:update", MEMBER, "PUT /tags/{tag}"),
        ("os-server-tags:delete_all", MEMBER, "DELETE /tags"),
        ("os-server-tags:delete", MEMBER, "DELETE /tags/{tag}"),
        ("os-volumes-attachments:index", READER, "GET /os-volume_attachments"),
        ("os-volumes-attachments:show", READER, "GET /os-volume_attachments/{volume_id}"),
        ("os-volumes-attachments:create", MEMBER, "POST /os-volume_attachments"),
        ("os-volumes-attachments:update", MEMBER, "PUT /os-volume_attachments/{volume_id}"),
        ("os-volumes-attachments:swap", SERVICE, "PUT /os-volume_attachments/{volume_id}"),
        ("os-volumes-attachments:delete", MEMBER, "DELETE /os-volume_attachments/{volume_id}"),
    ]),
    ("os_compute_api:os-flavor-manage:", "/flavors", [
        ("create", ADMIN, "POST"),
        ("update", ADMIN, "PUT /{flavor_id}"),
        ("delete", ADMIN, "DELETE /{flavor_id}"),
    ]),
    ("os_compute_api:os-flavor-access", "/flavors/{flavor_id}", [
        ("", ADMIN, "GET /os-flavor-access"),
        (":add_tenant_access", ADMIN, "POST /action (addTenantAccess)"),
        (":remove_tenant_access", ADMIN, "POST /action (removeTenantAccess)"),
    ]),
    ("os_compute_api:os-flavor-extra-specs:", "/flavors", [
        ("index", READER, "GET /{flavor_id}/os-extra_specs/; POST; GET /detail; "
                          "GET /{flavor_id}; PUT /{flavor_id}"),
        ("show", READER, "GET /{flavor_id}/os-extra_specs/{flavor_extra_spec_key}"),
        ("create", ADMIN, "POST /{flavor_id}/os-extra_specs/"),
        ("update", ADMIN, "PUT /{flavor_id}/os-extra_specs/{flavor_extra_spec_key}"),
        ("delete", ADMIN, "DELETE /{flavor_id}/os-extra_specs/{flavor_extra_spec_key}"),
    ]),
    ("os_compute_api:os-keypairs:", "/os-keypairs", [
        ("index", "(rule:context_is_admin) or user_id:%(user_id)s", "GET"),
        # Nova lets any role of the owner create and delete; here a reader only reads
        # (this project's rule: "the reader role may only read").
        ("create", "(rule:context_is_admin) or (role:member and user_id:%(user_id)s)", "POST"),
        ("show", "(rule:context_is_admin) or user_id:%(user_id)s", "GET /{keypair_name}"),
        ("delete", "(rule:context_is_admin) or (role:member and user_id:%(user_id)s)",
         "DELETE /{keypair_name}"),
    ]),
    ("os_compute_api:", "", [
        ("limits", ANY, "GET /limits"),
        ("limits:other_project", ADMIN, "GET /limits"),
        ("extensions", ANY, "GET /extensions; GET /extensions/{alias}"),
        ("os-availability-zone:list", ANY, "GET /os-availability-zone"),
        ("os-availability-zone:detail", ADMIN, "GET /os-availability-zone/detail"),
        ("os-baremetal-nodes:list", ADMIN, "GET /os-baremetal-nodes"),
        ("os-baremetal-nodes:show", ADMIN, "GET /os-baremetal-nodes/{node_id}"),
        ("os-extended-server-attributes", ADMIN,
         f"GET {SRV}; GET /servers/detail; PUT {SRV}; POST {SRV}/action (rebuild)"),
        ("os-console-auth-tokens", ADMIN, "GET /os-console-auth-tokens/{console_token}"),
        ("os-floating-ip-pools", ANY, "GET /os-floating-ip-pools"),
        ("os-server-external-events:create", SERVICE, "POST /os-server-external-events"),
        ("os-assisted-volume-snapshots:create", SERVICE, "POST /os-assisted-volume-snapshots"),
        ("os-assisted-volume-snapshots:delete", SERVICE,
         "DELETE /os-assisted-volume-snapshots/{snapshot_id}"),
        ("os-networks:list", READER, "GET /os-networks"),
        ("os-networks:show", READER, "GET /os-networks/{network_id}"),
        ("os-tenant-networks:list", READER, "GET /os-tenant-networks"),
        ("os-tenant-networks:show", READER, "GET /os-tenant-networks/{network_id}"),
    ]),
    ("os_compute_api:os-aggregates:", "/os-aggregates", [
        ("index", ADMIN, "GET"),
        ("create", ADMIN, "POST"),
        ("show", ADMIN, "GET /{aggregate_id}"),
        ("update", ADMIN, "PUT /{aggregate_id}"),
        ("delete", ADMIN, "DELETE /{aggregate_id}"),
        ("add_host", ADMIN, "POST /{aggregate_id}/action (add_host)"),
        ("remove_host", ADMIN, "POST /{aggregate_id}/action (remove_host)"),
        ("set_metadata", ADMIN, "POST /{aggregate_id}/action (set_metadata)"),
    ]),
    ("os_compute_api:os-floating-ips:", "/os-floating-ips", [
        ("list", READER, "GET"),
        ("create", MEMBER, "POST"),
        ("show", READER, "GET /{floating_ip_id}"),
        ("delete", MEMBER, "DELETE /{floating_ip_id}"),
    ]),
    ("os_compute_api:os-hosts:", "/os-hosts", [
        ("list", ADMIN, "GET"),
        ("show", ADMIN, "GET /{host_name}"),
        ("update", ADMIN, "PUT /{host_name}"),
        ("reboot", ADMIN, "GET /{host_name}/reboot"),
        ("shutdown", ADMIN, "GET /{host_name}/shutdown"),
        ("start", ADMIN, "GET /{host_name}/startup"),
    ]),
    ("os_compute_api:os-hypervisors:", "/os-hypervisors", [
        ("list", ADMIN, "GET"),
        ("list-detail", ADMIN, "GET /details"),
        ("statistics", ADMIN, "GET /statistics"),
        ("show", ADMIN, "GET /{hypervisor_id}"),
        ("uptime", ADMIN, "GET /{hypervisor_id}/uptime"),
        ("search", ADMIN, "GET /{hypervisor_hostname_pattern}/search"),
        ("servers", ADMIN, "GET /{hypervisor_hostname_pattern}/servers"),
    ]),
    ("os_compute_api:os-instance-usage-audit-log:", "/os-instance_usage_audit_log", [
        ("list", ADMIN, "GET"),
        ("show", ADMIN, "GET /{before_timestamp}"),
    ]),
    ("os_compute_api:os-migrations:", "/os-migrations", [
        ("index", MANAGER, "GET"),
        ("index:all_projects", ADMIN, "GET"),
        ("index:host", ADMIN, "GET"),
    ]),
    ("os_compute_api:os-quota-class-sets:", "/os-quota-class-sets/{quota_class}", [
        ("show", ADMIN, "GET"),
        ("update", ADMIN, "PUT"),
    ]),
    ("os_compute_api:os-quota-sets:", "/os-quota-sets/{tenant_id}", [
        ("show", READER, "GET"),
        ("detail", READER, "GET /detail"),
        ("defaults", ANY, "GET /defaults"),
        ("update", ADMIN, "PUT"),
        ("delete", ADMIN, "DELETE"),
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
    ("os_compute_api:os-server-groups:", "/os-server-groups", [
        ("index", READER, "GET"),
        ("index:all_projects", ADMIN, "GET"),
        ("show", READER, "GET /{server_group_id}"),
        ("create", MEMBER, "POST"),
        ("delete", MEMBER, "DELETE /{server_group_id}"),
    ]),
    ("os_compute_api:os-services:", "/os-services", [
        ("list", ADMIN, "GET"),
        ("update", ADMIN, "PUT /{service_id}"),
        ("delete", ADMIN, "DELETE /{service_id}"),
    ]),
    ("os_compute_api:os-simple-tenant-usage:", "/os-simple-tenant-usage", [
        ("list", ADMIN, "GET"),
        ("show", READER, "GET /{tenant_id}"),
    ]),
    ("os_compute_api:os-volumes:", "", [
        ("list", READER, "GET /os-volumes"),
        ("detail", READER, "GET /os-volumes/detail"),
        ("show", READER, "GET /os-volumes/{volume_id}"),
        ("create", MEMBER, "POST /os-volumes"),
        ("delete", MEMBER, "DELETE /os-volumes/{volume_id}"),
        ("snapshots:list", READER, "GET /os-snapshots"),
        ("snapshots:detail", READER, "GET /os-snapshots/detail"),
        ("snapshots:show", READER, "GET /os-snapshots/{snapshot_id}"),
        ("snapshots:create", MEMBER, "POST /os-snapshots"),
        ("snapshots:delete", MEMBER, "DELETE /os-snapshots/{snapshot_id}"),
    ]),
    # Not a Nova API: os-volume-types is in the 2016 reference only (a read of Cinder's
    # volume types); named like the os-volumes reads, with the same defaults.
    ("os_compute_api:os-volume-types:", "/os-volume-types", [
        ("list", READER, "GET"),
        ("show", READER, "GET /{volume_type_id}"),
    ]),
    # Not a Nova API: the event log replayed for auditors
    # (control_plane.api.compute.resources.history). It
    # shows every project's servers and who did what, so it is for admins only.
    ("os_compute_api:os-history:", "/os-history/servers", [
        ("servers:list", ADMIN, "GET"),
        ("servers:show", ADMIN, "GET /{server_id}"),
        ("servers:timeline", ADMIN, "GET /{server_id}/timeline"),
    ]),
    # Not Nova policies: Nova serves flavor reads and its image proxy without any policy check
    # (anyone with a token may call them; Glance enforces image ownership). This project names
    # them so an operator can restrict them: reads stay open to all ("@"), writes need a member.
    ("os_compute_api:", "", [
        ("flavors:index", ANY, "GET /flavors"),
        ("flavors:detail", ANY, "GET /flavors/detail"),
        ("flavors:show", ANY, "GET /flavors/{flavor_id}"),
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
    # APIs Nova has since removed (nova-network, cells v1, ...) that this project still serves.
    # Names are Nova's last published ones. Those Nova defaulted to admin_api (or, briefly, to
    # system admin/reader) are "rule:admin_api"; those it defaulted to admin_or_owner are
    # project_member_or_admin (if the rule covers a write) or project_reader_or_admin (reads only).
    ("os_compute_api:", "", [
        ("os-agents:list", ADMIN_API, "GET /os-agents"),  # removed in Victoria
        ("os-agents:create", ADMIN_API, "POST /os-agents"),
        ("os-agents:update", ADMIN_API, "PUT /os-agents/{agent_build_id}"),
        ("os-agents:delete", ADMIN_API, "DELETE /os-agents/{agent_build_id}"),
        ("os-cells", ADMIN_API, "GET /os-cells; GET /os-cells/detail; GET /os-cells/info; "
                                "GET /os-cells/capacities; GET /os-cells/{cell_id}"),
        ("os-cells:create", ADMIN_API, "POST /os-cells"),
        ("os-cells:update", ADMIN_API, "PUT /os-cells/{cell_id}"),
        ("os-cells:delete", ADMIN_API, "DELETE /os-cells/{cell_id}"),
        ("os-cells:sync_instances", ADMIN_API, "POST /os-cells/sync_instances"),
        ("os-certificates:create", MEMBER, "POST /os-certificates"),
        ("os-certificates:show", READER, "GET /os-certificates/root"),
        ("os-cloudpipe", ADMIN_API,
         "GET /os-cloudpipe; POST /os-cloudpipe; PUT /os-cloudpipe/configure-project"),
        ("os-consoles:index", READER, f"GET {SRV}/consoles"),
        ("os-consoles:show", READER, f"GET {SRV}/consoles/{{console_id}}"),
        ("os-consoles:create", MEMBER, f"POST {SRV}/consoles"),
        ("os-consoles:delete", MEMBER, f"DELETE {SRV}/consoles/{{console_id}}"),
        ("os-fixed-ips", ADMIN_API, "GET /os-fixed-ips/{fixed_ip}; "
                                    "POST /os-fixed-ips/{fixed_ip}/action (reserve); "
                                    "POST /os-fixed-ips/{fixed_ip}/action (unreserve)"),
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
        ("os-security-group-default-rules", ADMIN_API,
         "GET /os-security-group-default-rules; POST /os-security-group-default-rules; "
         "GET /os-security-group-default-rules/{id}; "
         "DELETE /os-security-group-default-rules/{id}"),
        ("os-virtual-interfaces", READER, f"GET {SRV}/os-virtual-interfaces"),
        ("os-used-limits", ADMIN_API, "GET /limits"),  # limits:other_project since Ussuri
    ]),
]


def _operations(root: str, spec: str) -> list[Operation]:
    ops: list[Operation] = []
    for op in spec.split(";"):
        method, _, rest = op.strip().partition(" ")
        ops.append({"method": method, "path": root + rest})
    return ops


def table() -> list[tuple[str, str, list[Operation]]]:
    """Every API rule: (name, check string, operations)."""
    rows = []
    for prefix, root, section in SECTIONS:
        for suffix, check, spec in section:
            name = prefix + suffix if suffix else prefix.rstrip(":")
            rows.append((name, check, _operations(root, spec)))
    return rows


def defaults() -> list[policy.RuleDefault]:
    """The oslo.policy defaults to register: the base rules, then every API rule."""
    rules: list[policy.RuleDefault] = [
        policy.RuleDefault(name, check, description) for name, check, description in BASE_RULES
    ]
    for name, check, ops in table():
        described = ", ".join(f"{op['method']} {op['path']}" for op in ops)
        rules.append(policy.DocumentedRuleDefault(name, check, f"Allow {described}", ops))
    return rules
