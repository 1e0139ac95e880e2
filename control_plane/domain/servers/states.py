"""Nova's server states: vm_state, task_state, power_state, and the public status."""

from __future__ import annotations

# vm_state
ACTIVE = "active"
BUILDING = "building"
PAUSED = "paused"
SUSPENDED = "suspended"
STOPPED = "stopped"
RESCUED = "rescued"
RESIZED = "resized"
SOFT_DELETED = "soft-delete"
DELETED = "deleted"
ERROR = "error"
SHELVED = "shelved"
SHELVED_OFFLOADED = "shelved_offloaded"

# task_state (the subset used so far)
SCHEDULING = "scheduling"
SPAWNING = "spawning"
DELETING = "deleting"
POWERING_OFF = "powering-off"
POWERING_ON = "powering-on"
REBOOTING = "rebooting"
REBOOTING_HARD = "rebooting_hard"

# power_state
NOSTATE = 0
RUNNING = 1
PAUSED_POWER = 3
SHUTDOWN = 4
CRASHED = 6
SUSPENDED_POWER = 7

_STATUS_BY_VM_STATE = {
    ACTIVE: "ACTIVE",
    BUILDING: "BUILD",
    STOPPED: "SHUTOFF",
    RESIZED: "VERIFY_RESIZE",
    PAUSED: "PAUSED",
    SUSPENDED: "SUSPENDED",
    RESCUED: "RESCUE",
    ERROR: "ERROR",
    DELETED: "DELETED",
    SOFT_DELETED: "SOFT_DELETED",
    SHELVED: "SHELVED",
    SHELVED_OFFLOADED: "SHELVED_OFFLOADED",
}

# task states that override the vm_state's status, per vm_state (as Nova maps them)
_TASK_OVERRIDES: dict[str, dict[str, str]] = {
    ACTIVE: {
        "rebooting": "REBOOT",
        "reboot_pending": "REBOOT",
        "reboot_started": "REBOOT",
        "rebooting_hard": "HARD_REBOOT",
        "reboot_pending_hard": "HARD_REBOOT",
        "reboot_started_hard": "HARD_REBOOT",
        "updating_password": "PASSWORD",
        "rebuilding": "REBUILD",
        "rebuild_block_device_mapping": "REBUILD",
        "rebuild_spawning": "REBUILD",
        "migrating": "MIGRATING",
        "resize_prep": "RESIZE",
        "resize_migrating": "RESIZE",
        "resize_migrated": "RESIZE",
        "resize_finish": "RESIZE",
    },
    STOPPED: {
        "resize_prep": "RESIZE",
        "resize_migrating": "RESIZE",
        "resize_migrated": "RESIZE",
        "resize_finish": "RESIZE",
        "rebuilding": "REBUILD",
    },
    RESIZED: {"resize_reverting": "REVERT_RESIZE"},
    PAUSED: {"migrating": "MIGRATING"},
    ERROR: {"rebuilding": "REBUILD", "rebuild_block_device_mapping": "REBUILD",
            "rebuild_spawning": "REBUILD"},
}

ALL_STATUSES = frozenset(
    set(_STATUS_BY_VM_STATE.values())
    | {s for d in _TASK_OVERRIDES.values() for s in d.values()}
    | {"UNKNOWN", "MIGRATING"}
)


def status_of(vm_state: str, task_state: str | None) -> str:
    if task_state and task_state in _TASK_OVERRIDES.get(vm_state, {}):
        return _TASK_OVERRIDES[vm_state][task_state]
    return _STATUS_BY_VM_STATE.get(vm_state, "UNKNOWN")


def vm_states_for_status(status: str) -> list[tuple[str, str | None]]:
    """(vm_state, task_state or None for 'any') pairs matching a public status filter."""
    out: list[tuple[str, str | None]] = []
    for vm, st in _STATUS_BY_VM_STATE.items():
        if st == status:
            out.append((vm, None))
    for vm, tasks in _TASK_OVERRIDES.items():
        for task, st in tasks.items():
            if st == status:
                out.append((vm, task))
    return out
