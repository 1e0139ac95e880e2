"""Instance-action names of servers (os-instance-actions): user-visible, so frozen.

Nova records each request on a server as an action (``create``, ``stop``, ...) and the
compute work it caused as that action's events (``compute_stop_instance``, ...);
clients and tempest read these names. They are written here once. ``OPENS`` says which
stored event opens which action, ``STEPS`` which event ends its compute step, and
``FAILED_STEPS`` the step a failed driver operation (``ServerActionFailed``) ends.
"""

from __future__ import annotations

from typing import Final

# actions (Nova's nova/compute/instance_actions.py names)
CREATE: Final = "create"
DELETE: Final = "delete"
STOP: Final = "stop"
START: Final = "start"
REBOOT: Final = "reboot"
REBUILD: Final = "rebuild"
RESIZE: Final = "resize"
REVERT_RESIZE: Final = "revertResize"
MIGRATE: Final = "migrate"
LIVE_MIGRATION: Final = "live-migration"
EVACUATE: Final = "evacuate"
SHELVE: Final = "shelve"
SHELVE_OFFLOAD: Final = "shelveOffload"
UNSHELVE: Final = "unshelve"
RESTORE: Final = "restore"
RESCUE: Final = "rescue"
UNRESCUE: Final = "unrescue"
CHANGE_PASSWORD: Final = "changePassword"
PAUSE: Final = "pause"
UNPAUSE: Final = "unpause"
SUSPEND: Final = "suspend"
RESUME: Final = "resume"
ATTACH_VOLUME: Final = "attach_volume"
DETACH_VOLUME: Final = "detach_volume"
SWAP_VOLUME: Final = "swap_volume"
ATTACH_INTERFACE: Final = "attach_interface"
DETACH_INTERFACE: Final = "detach_interface"

# stored event type -> the action it opens
OPENS: Final[dict[str, str]] = {
    "ServerCreated": CREATE, "ServerDeleteRequested": DELETE,
    "ServerSoftDeleteRequested": DELETE, "ServerStopRequested": STOP,
    "ServerStartRequested": START, "ServerRebootRequested": REBOOT,
    "ServerRebuildRequested": REBUILD, "ServerResizeRequested": RESIZE,
    "ServerRevertResizeRequested": REVERT_RESIZE, "ServerMigrateRequested": MIGRATE,
    "ServerLiveMigrationStarted": LIVE_MIGRATION, "ServerEvacuationStarted": EVACUATE,
    "ServerShelveRequested": SHELVE, "ServerShelveOffloadRequested": SHELVE_OFFLOAD,
    "ServerUnshelveRequested": UNSHELVE, "ServerRestoreRequested": RESTORE,
    "ServerRescueRequested": RESCUE, "ServerUnrescueRequested": UNRESCUE,
    "ServerPasswordChangeRequested": CHANGE_PASSWORD,
    "ServerPauseRequested": PAUSE, "ServerUnpauseRequested": UNPAUSE,
    "ServerSuspendRequested": SUSPEND, "ServerResumeRequested": RESUME,
    "ServerVolumeAttachRequested": ATTACH_VOLUME,
    "ServerVolumeDetachRequested": DETACH_VOLUME,
    "ServerVolumeSwapRequested": SWAP_VOLUME,
    "ServerInterfaceAttachRequested": ATTACH_INTERFACE,
    "ServerInterfaceDetachRequested": DETACH_INTERFACE,
}

# stored event type -> the compute step it ends (successfully)
STEPS: Final[dict[str, str]] = {
    "ServerStopped": "compute_stop_instance", "ServerStarted": "compute_start_instance",
    "ServerRebooted": "compute_reboot_instance", "ServerRebuilt": "compute_rebuild_instance",
    "ServerResized": "compute_finish_resize", "ServerShelved": "compute_shelve_instance",
    "ServerShelveOffloaded": "compute_shelve_offload_instance",
    "ServerUnshelved": "compute_unshelve_instance",
    "ServerResizeReverted": "compute_finish_revert_resize",
    "ServerSoftDeleted": "compute_soft_delete_instance",
    "ServerRestored": "compute_restore_instance", "ServerRescued": "compute_rescue_instance",
    "ServerUnrescued": "compute_unrescue_instance",
    "ServerPasswordChanged": "compute_set_admin_password",
    "ServerLiveMigrated": "compute_live_migration",
    "ServerEvacuated": "compute_rebuild_instance",
    "ServerPaused": "compute_pause_instance", "ServerUnpaused": "compute_unpause_instance",
    "ServerSuspended": "compute_suspend_instance", "ServerResumed": "compute_resume_instance",
}

# a failed driver operation (ServerActionFailed's "action") -> the step it ends
FAILED_STEPS: Final[dict[str, str]] = {
    "stop": "compute_stop_instance", "start": "compute_start_instance",
    "reboot": "compute_reboot_instance", "rebuild": "compute_rebuild_instance",
    "unshelve": "compute_unshelve_instance", "soft_delete": "compute_soft_delete_instance",
    "restore": "compute_restore_instance", "rescue": "compute_rescue_instance",
    "unrescue": "compute_unrescue_instance", "changePassword": "compute_set_admin_password",
    "pause": "compute_pause_instance", "unpause": "compute_unpause_instance",
    "suspend": "compute_suspend_instance", "resume": "compute_resume_instance",
}
