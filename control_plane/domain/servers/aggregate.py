"""The Server aggregate: a compute instance and its life cycle, as pure state transitions."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, ClassVar

from eventsourcing.domain import Aggregate

from control_plane.domain.errors import Conflict, Invalid, NotFound, QuotaExceeded
from control_plane.domain.servers import states


class Server(Aggregate):
    TOPIC = "Server"

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

    # state, set by the events above
    name: str
    project_id: str
    user_id: str
    flavor: dict[str, Any]
    image_ref: str
    key_name: str | None
    metadata: dict[str, str]
    access_ipv4: str
    access_ipv6: str
    disk_config: str
    availability_zone: str | None
    vm_state: str
    task_state: str | None
    power_state: int
    host: str | None
    node: str | None
    fault: dict[str, Any] | None
    deleted: bool
    locked_by: str | None
    security_groups: list[str]
    rebuild_return_to: str  # set by a rebuild request (control_plane.domain.servers.rebuild)
    # set by a resize (control_plane.domain.servers.resize)
    new_flavor: dict[str, Any] | None
    old_flavor: dict[str, Any]
    resize_return_to: str
    resize_source: str
    resize_target: str
    shelved_image: str | None  # set by a shelve (control_plane.domain.servers.shelve)
    move_target: str | None  # a live migration's or evacuation's target host (server_moves)
    guest_password: str  # what the guest posted to the metadata service (server_rescue)
    admin_pass: str  # sealed; for the driver at spawn and rebuild
    files: list[dict[str, str]]  # personality files for the driver

    def __init__(self) -> None:
        pass

    @classmethod
    def create(cls, server_id: uuid.UUID, now: dt.datetime, **fields: Any) -> Server:
        return cls._create(cls.Created, id=server_id, timestamp=now, **fields)

    @property
    def status(self) -> str:
        return states.status_of(self.vm_state, self.task_state)

    # -- decisions -------------------------------------------------------------------

    def schedule(self, host: str, node: str, zone: str, now: dt.datetime) -> bool:
        """Place a building server on a host; False if it no longer needs a host."""
        if self.deleted or self.vm_state != states.BUILDING or self.host is not None:
            return False
        if self.task_state != states.SCHEDULING:
            return False
        self.trigger_event(self.Scheduled, host=host, node=node, availability_zone=zone,
                           timestamp=now)
        return True

    def fail_scheduling(self, message: str, now: dt.datetime) -> bool:
        if self.deleted or self.vm_state != states.BUILDING or self.host is not None:
            return False
        fault = {"code": 500, "message": message, "details": "", "created": now.isoformat()}
        self.trigger_event(self.SchedulingFailed, fault=fault, timestamp=now)
        return True

    def mark_spawned(self, started_at: str, addresses: dict[str, Any], now: dt.datetime) -> bool:
        if self.deleted or self.vm_state != states.BUILDING or self.task_state != states.SPAWNING:
            return False
        self.trigger_event(self.Spawned, started_at=started_at, addresses=addresses,
                           timestamp=now)
        return True

    def mark_build_failed(
        self, started_at: str, message: str, details: str, now: dt.datetime
    ) -> bool:
        if self.deleted or self.vm_state != states.BUILDING:
            return False
        fault = {"code": 500, "message": message, "details": details,
                 "created": now.isoformat()}
        self.trigger_event(self.BuildFailed, started_at=started_at, fault=fault, timestamp=now)
        return True

    def update(self, changes: dict[str, Any], now: dt.datetime) -> None:
        self._require_not_deleted()
        if changes:
            self.trigger_event(self.Updated, changes=changes, timestamp=now)
        else:
            # An empty update still touches the server, as Nova bumps updated_at.
            self.trigger_event(self.Updated, changes={}, timestamp=now)

    def request_delete(self, now: dt.datetime) -> bool:
        """Ask for deletion. Returns True if a driver must destroy the guest first."""
        self._require_not_deleted()
        if self.task_state == states.DELETING:
            return True
        if self.host is None:
            self.trigger_event(self.Deleted, started_at=None, timestamp=now)
            return False
        self.trigger_event(self.DeleteRequested, timestamp=now)
        return True

    def mark_deleted(self, started_at: str | None, now: dt.datetime) -> bool:
        if self.deleted:
            return False
        self.trigger_event(self.Deleted, started_at=started_at, timestamp=now)
        return True

    # -- power actions (each a request, then the driver's outcome) ---------------------

    def lock(self, by_admin: bool, now: dt.datetime) -> None:
        self._require_not_deleted()
        if self.locked_by is None:
            self.trigger_event(self.Locked, locked_by="admin" if by_admin else "owner",
                               timestamp=now)

    def unlock(self, by_admin: bool, now: dt.datetime) -> None:
        """Unlock; a lock an admin set needs an admin (the caller checks that policy)."""
        self._require_not_deleted()
        if self.locked_by is not None:
            self.trigger_event(self.Unlocked, timestamp=now)

    def reset_state(self, vm_state: str, now: dt.datetime) -> None:
        self._require_not_deleted()
        self.trigger_event(self.StateReset, vm_state=vm_state, timestamp=now)

    def set_metadata(self, metadata: dict[str, str], replace: bool, limit: int,
                     now: dt.datetime) -> None:
        self._require_not_deleted()
        merged = dict(metadata) if replace else {**self.metadata, **metadata}
        if 0 <= limit < len(merged):
            raise QuotaExceeded(f"Maximum number of metadata items exceeds {limit}")
        self.trigger_event(self.MetadataSet, metadata=metadata, replace=replace, timestamp=now)

    def delete_metadata_item(self, key: str, now: dt.datetime) -> None:
        self._require_not_deleted()
        if key not in self.metadata:
            raise NotFound("Metadata item was not found")
        self.trigger_event(self.MetadataItemDeleted, key=key, timestamp=now)

    def add_security_group(self, name: str, now: dt.datetime) -> None:
        self._require_not_deleted()
        if name in self.security_groups:
            raise Invalid(f"Security group {name} is already associated with the instance "
                             f"{self.id}")
        self.trigger_event(self.SecurityGroupAdded, name=name, timestamp=now)

    def remove_security_group(self, name: str, now: dt.datetime) -> None:
        self._require_not_deleted()
        if name not in self.security_groups:
            raise Invalid(f"Security group {name} not associated with the instance "
                             f"{self.id}")
        self.trigger_event(self.SecurityGroupRemoved, name=name, timestamp=now)

    def check_lock(self, admin: bool) -> None:
        """A locked server refuses its non-admin users' actions."""
        if self.locked_by is not None and not admin:
            raise Conflict(f"Instance {self.id} is locked")

    def _check(self, method: str, vm_states: tuple[str, ...],
               task_states: tuple[str | None, ...] = (None,)) -> None:
        self._require_not_deleted()
        if self.vm_state not in vm_states:
            raise Conflict(f"Cannot '{method}' instance {self.id} while it is in vm_state "
                           f"{self.vm_state}")
        if self.task_state not in task_states:
            raise Conflict(f"Cannot '{method}' instance {self.id} while it is in task_state "
                           f"{self.task_state}")

    def request_stop(self, now: dt.datetime) -> None:
        self._check("stop", (states.ACTIVE, states.ERROR))
        self.trigger_event(self.StopRequested, timestamp=now)

    def request_start(self, now: dt.datetime) -> None:
        self._check("start", (states.STOPPED,))
        self.trigger_event(self.StartRequested, timestamp=now)

    def request_reboot(self, reboot_type: str, now: dt.datetime) -> None:
        if reboot_type == "HARD":
            self._check("reboot", (states.ACTIVE, states.STOPPED, states.PAUSED,
                                   states.SUSPENDED, states.ERROR),
                        (None, states.REBOOTING, states.REBOOTING_HARD))
        else:
            self._check("reboot", (states.ACTIVE,), (None,))
        self.trigger_event(self.RebootRequested, reboot_type=reboot_type, timestamp=now)

    _OUTCOMES = {"stop": ("Stopped", states.POWERING_OFF),
                 "start": ("Started", states.POWERING_ON),
                 "reboot": ("Rebooted", None)}
    # filled in by control_plane.domain.servers.simple_actions: task state -> action, and
    # action -> outcome event class, for the table-driven simple actions
    simple_tasks: ClassVar[dict[str, str]] = {}
    simple_outcomes: ClassVar[dict[str, type[Any]]] = {}

    def pending_action(self) -> str | None:
        """The power action a driver still has to carry out, if any."""
        if self.task_state == states.POWERING_OFF:
            return "stop"
        if self.task_state == states.POWERING_ON:
            return "start"
        if self.task_state in (states.REBOOTING, states.REBOOTING_HARD):
            return "reboot"
        return self.simple_tasks.get(self.task_state or "")

    def complete_action(self, action: str, started_at: str, now: dt.datetime) -> bool:
        if self.deleted or self.pending_action() != action:
            return False
        event = getattr(self, self._OUTCOMES[action][0]) if action in self._OUTCOMES \
            else self.simple_outcomes[action]
        self.trigger_event(event, started_at=started_at, timestamp=now)
        return True

    def fail_action(self, action: str, started_at: str, message: str, details: str,
                    now: dt.datetime) -> bool:
        if self.deleted or self.pending_action() != action:
            return False
        self.trigger_event(self.ActionFailed, action=action, started_at=started_at,
                           message=message, details=details, timestamp=now)
        return True

    def _require_not_deleted(self) -> None:
        if self.deleted:
            raise Conflict(f"Instance {self.id} is deleted.")
