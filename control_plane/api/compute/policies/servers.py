"""Policy defaults of /servers: list, show, create, update, delete, the servers:* actions, and
the server's extended attributes, tags, shares and topology (Nova's servers.py and friends)."""

from __future__ import annotations

from control_plane.api.compute.policies.base import (
    ADMIN,
    MANAGER,
    MEMBER,
    NOBODY,
    READER,
    SRV,
    Section,
)

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
    ]),
    # server actions and sub-resources of one server
    ("os_compute_api:", SRV, [
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
    ]),
    ("os_compute_api:", "", [
        ("os-extended-server-attributes", ADMIN,
         f"GET {SRV}; GET /servers/detail; PUT {SRV}; POST {SRV}/action (rebuild)"),
    ]),
]
