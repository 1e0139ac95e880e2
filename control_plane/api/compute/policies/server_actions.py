"""Policy defaults of Server actions routed by the action table: reset state, backup, lock,
pause, shelve, suspend, security group add/remove (Nova's admin_actions.py, lock_server.py,
...)."""

from __future__ import annotations

from control_plane.api.compute.policies.base import ADMIN, MEMBER, SRV, Section

SECTIONS: list[Section] = [
    # server actions and sub-resources of one server
    ("os_compute_api:", SRV, [
        ("os-admin-actions:reset_state", ADMIN, "POST /action (os-resetState)"),
        ("os-create-backup", MEMBER, "POST /action (createBackup)"),
        ("os-lock-server:lock", MEMBER, "POST /action (lock)"),
        ("os-lock-server:unlock", MEMBER, "POST /action (unlock)"),
        ("os-lock-server:unlock:unlock_override", ADMIN, "POST /action (unlock)"),
        ("os-pause-server:pause", MEMBER, "POST /action (pause)"),
        ("os-pause-server:unpause", MEMBER, "POST /action (unpause)"),
        ("os-security-groups:add", MEMBER, "POST /action (addSecurityGroup)"),
        ("os-security-groups:remove", MEMBER, "POST /action (removeSecurityGroup)"),
        ("os-shelve:shelve", MEMBER, "POST /action (shelve)"),
        ("os-shelve:unshelve", MEMBER, "POST /action (unshelve)"),
        ("os-shelve:unshelve_to_host", ADMIN, "POST /action (unshelve)"),
        ("os-shelve:shelve_offload", ADMIN, "POST /action (shelveOffload)"),
        ("os-suspend-server:resume", MEMBER, "POST /action (resume)"),
        ("os-suspend-server:suspend", MEMBER, "POST /action (suspend)"),
    ]),
]
