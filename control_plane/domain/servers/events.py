"""The Server aggregate's own events: a server's life cycle from creation to deletion.

They are declared on a base class so that ``Server`` (control_plane.domain.servers.aggregate)
holds its decisions and state and stays readable; the eventsourcing library redefines
each on ``Server`` (``Server.Created``, ``Server.Stopped``, ...) with the same stable
type name. The events of the other server operations (resize, shelve, moves, ...)
sit in their own modules of this package; every one is listed in the registry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate

from control_plane.domain.servers import states

if TYPE_CHECKING:
    from control_plane.domain.servers.aggregate import Server


class ServerEvents(Aggregate):
    """The events; ``Server`` inherits them (it has the stable stream type, ``TOPIC``)."""

    class Created(Aggregate.Created):
        """v2 added the sealed admin password and the personality files for the driver."""

        TOPIC = "ServerCreated"
        class_version = 2
        name: str
        project_id: str
        user_id: str
        flavor: dict[str, Any]
        image_ref: str
        key_name: str | None
        key_data: str | None
        metadata: dict[str, str]
        access_ipv4: str
        access_ipv6: str
        disk_config: str
        availability_zone: str | None
        config_drive: str
        user_data: str | None
        reservation_id: str
        launch_index: int
        security_groups: list[str]
        networks: Any
        hostname: str
        admin_pass: str  # sealed (control_plane.access.tokens.seal); "" when none was kept
        files: list[dict[str, str]]  # personality: {"path", "contents" (base64)}

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["admin_pass"] = ""  # servers created before v2: the password was not kept
            state["files"] = []

        def apply(self, s: Server) -> None:
            s.name = self.name
            s.project_id = self.project_id
            s.user_id = self.user_id
            s.flavor = self.flavor
            s.image_ref = self.image_ref
            s.key_name = self.key_name
            s.metadata = dict(self.metadata)
            s.access_ipv4 = self.access_ipv4
            s.access_ipv6 = self.access_ipv6
            s.disk_config = self.disk_config
            s.availability_zone = self.availability_zone
            s.vm_state = states.BUILDING
            s.task_state = states.SCHEDULING
            s.power_state = states.NOSTATE
            s.host = None
            s.node = None
            s.fault = None
            s.deleted = False
            s.locked_by = None
            s.security_groups = list(self.security_groups)
            s.move_target = None
            s.admin_pass = self.admin_pass
            s.files = list(self.files)
            # what only GET /servers shows (kept here so the view is this state, folded)
            s.key_data = self.key_data
            s.config_drive = self.config_drive
            s.user_data = self.user_data
            s.reservation_id = self.reservation_id
            s.launch_index = self.launch_index
            s.hostname = self.hostname
            s.shown_addresses = {}
            s.shown_volumes = []
            s.launched_at = s.terminated_at = s.soft_deleted_at = None
            s.resize = None
            s.guest_password = ""

    class Scheduled(Aggregate.Event):
        TOPIC = "ServerScheduled"
        host: str
        node: str
        availability_zone: str

        def apply(self, s: Server) -> None:
            s.host = self.host
            s.node = self.node
            s.availability_zone = self.availability_zone
            s.task_state = states.SPAWNING

    class SchedulingFailed(Aggregate.Event):
        TOPIC = "ServerSchedulingFailed"
        fault: dict[str, Any]

        def apply(self, s: Server) -> None:
            s.vm_state = states.ERROR
            s.task_state = None
            s.fault = self.fault

    class Spawned(Aggregate.Event):
        TOPIC = "ServerSpawned"
        started_at: str
        addresses: dict[str, Any]

        def apply(self, s: Server) -> None:
            s.vm_state = states.ACTIVE
            s.task_state = None
            s.power_state = states.RUNNING
            s.shown_addresses = self.addresses
            s.launched_at = self.timestamp

    class BuildFailed(Aggregate.Event):
        TOPIC = "ServerBuildFailed"
        started_at: str
        fault: dict[str, Any]

        def apply(self, s: Server) -> None:
            s.vm_state = states.ERROR
            s.task_state = None
            s.power_state = states.NOSTATE
            s.fault = self.fault

    class Updated(Aggregate.Event):
        TOPIC = "ServerUpdated"
        changes: dict[str, Any]

        def apply(self, s: Server) -> None:
            for key, value in self.changes.items():
                setattr(s, key, value)

    class StopRequested(Aggregate.Event):
        TOPIC = "ServerStopRequested"

        def apply(self, s: Server) -> None:
            s.task_state = states.POWERING_OFF

    class Stopped(Aggregate.Event):
        TOPIC = "ServerStopped"
        started_at: str

        def apply(self, s: Server) -> None:
            s.vm_state = states.STOPPED
            s.task_state = None
            s.power_state = states.SHUTDOWN

    class StartRequested(Aggregate.Event):
        TOPIC = "ServerStartRequested"

        def apply(self, s: Server) -> None:
            s.task_state = states.POWERING_ON

    class Started(Aggregate.Event):
        TOPIC = "ServerStarted"
        started_at: str

        def apply(self, s: Server) -> None:
            s.vm_state = states.ACTIVE
            s.task_state = None
            s.power_state = states.RUNNING

    class RebootRequested(Aggregate.Event):
        TOPIC = "ServerRebootRequested"
        reboot_type: str

        def apply(self, s: Server) -> None:
            s.task_state = states.REBOOTING_HARD if self.reboot_type == "HARD" \
                else states.REBOOTING

    class Rebooted(Aggregate.Event):
        TOPIC = "ServerRebooted"
        started_at: str

        def apply(self, s: Server) -> None:
            s.vm_state = states.ACTIVE
            s.task_state = None
            s.power_state = states.RUNNING

    class ActionFailed(Aggregate.Event):
        """A driver operation failed; the server keeps its state, the task is cleared."""

        TOPIC = "ServerActionFailed"
        action: str
        started_at: str
        message: str
        details: str

        def apply(self, s: Server) -> None:
            s.task_state = None

    class Locked(Aggregate.Event):
        TOPIC = "ServerLocked"
        locked_by: str  # "owner" or "admin", as Nova records it

        def apply(self, s: Server) -> None:
            s.locked_by = self.locked_by

    class Unlocked(Aggregate.Event):
        TOPIC = "ServerUnlocked"

        def apply(self, s: Server) -> None:
            s.locked_by = None

    class StateReset(Aggregate.Event):
        """An admin forced the vm_state (os-resetState); the task is cleared."""

        TOPIC = "ServerStateReset"
        vm_state: str

        def apply(self, s: Server) -> None:
            s.vm_state = self.vm_state
            s.task_state = None

    class MetadataSet(Aggregate.Event):
        TOPIC = "ServerMetadataSet"
        metadata: dict[str, str]
        replace: bool

        def apply(self, s: Server) -> None:
            s.metadata = dict(self.metadata) if self.replace else {**s.metadata,
                                                                   **self.metadata}

    class MetadataItemDeleted(Aggregate.Event):
        TOPIC = "ServerMetadataItemDeleted"
        key: str

        def apply(self, s: Server) -> None:
            s.metadata = {k: v for k, v in s.metadata.items() if k != self.key}

    class SecurityGroupAdded(Aggregate.Event):
        TOPIC = "ServerSecurityGroupAdded"
        name: str

        def apply(self, s: Server) -> None:
            s.security_groups = [*s.security_groups, self.name]

    class SecurityGroupRemoved(Aggregate.Event):
        TOPIC = "ServerSecurityGroupRemoved"
        name: str

        def apply(self, s: Server) -> None:
            s.security_groups = [g for g in s.security_groups if g != self.name]

    class DeleteRequested(Aggregate.Event):
        TOPIC = "ServerDeleteRequested"

        def apply(self, s: Server) -> None:
            s.task_state = states.DELETING

    class Deleted(Aggregate.Event):
        TOPIC = "ServerDeleted"
        started_at: str | None

        def apply(self, s: Server) -> None:
            s.vm_state = states.DELETED
            s.task_state = None
            s.power_state = states.NOSTATE
            s.deleted = True
            s.terminated_at = self.timestamp
