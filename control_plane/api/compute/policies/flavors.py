"""Policy defaults of /flavors: reads, flavor manage, flavor access and extra specs (Nova's
flavor_*.py)."""

from __future__ import annotations

from control_plane.api.compute.policies.base import ADMIN, ANY, READER, Section

SECTIONS: list[Section] = [
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
    # Not Nova policies: Nova serves flavor reads and its image proxy without any policy check
    # (anyone with a token may call them; Glance enforces image ownership). This project names
    # them so an operator can restrict them: reads stay open to all ("@"), writes need a member.
    ("os_compute_api:", "", [
        ("flavors:index", ANY, "GET /flavors"),
        ("flavors:detail", ANY, "GET /flavors/detail"),
        ("flavors:show", ANY, "GET /flavors/{flavor_id}"),
    ]),
]
