"""Policy defaults of Server actions of the deferred-delete, rescue, admin-password, evacuate
and migrate-server extensions (Nova's deferred_delete.py, rescue.py, ...)."""

from __future__ import annotations

from control_plane.api.compute.policies.base import ADMIN, MANAGER, MEMBER, SRV, Section

SECTIONS: list[Section] = [
    # server actions and sub-resources of one server
    ("os_compute_api:", SRV, [
        ("os-admin-password", MEMBER, "POST /action (changePassword)"),
        ("os-deferred-delete:restore", MEMBER, "POST /action (restore)"),
        ("os-deferred-delete:force", MEMBER, "POST /action (forceDelete)"),
        ("os-evacuate", ADMIN, "POST /action (evacuate)"),
        ("os-migrate-server:migrate", MANAGER, "POST /action (migrate)"),
        ("os-migrate-server:migrate:host", ADMIN, "POST /action (migrate)"),
        ("os-migrate-server:migrate_live", MANAGER, "POST /action (os-migrateLive)"),
        ("os-migrate-server:migrate_live:host", ADMIN, "POST /action (os-migrateLive)"),
        ("os-rescue", MEMBER, "POST /action (rescue)"),
        ("os-unrescue", MEMBER, "POST /action (unrescue)"),
    ]),
]
