"""Policy defaults of /os-keypairs (Nova's keypairs.py)."""

from __future__ import annotations

from control_plane.api.compute.policies.base import Section

SECTIONS: list[Section] = [
    ("os_compute_api:os-keypairs:", "/os-keypairs", [
        ("index", "(rule:context_is_admin) or user_id:%(user_id)s", "GET"),
        # Nova lets any role of the owner create and delete; here a reader only reads
        # (this project's rule: "the reader role may only read").
        ("create", "(rule:context_is_admin) or (role:member and user_id:%(user_id)s)", "POST"),
        ("show", "(rule:context_is_admin) or user_id:%(user_id)s", "GET /{keypair_name}"),
        ("delete", "(rule:context_is_admin) or (role:member and user_id:%(user_id)s)",
         "DELETE /{keypair_name}"),
    ]),
]
