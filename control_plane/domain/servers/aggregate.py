"""The Server aggregate: a compute instance and its life cycle, as pure state transitions.

Its own events are declared in ``control_plane.domain.servers.events``; this module
holds its state and its decisions.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, ClassVar

from control_plane.domain.errors import Conflict, Invalid, NotFound, QuotaExceeded
from control_plane.domain.servers import states
from control_plane.domain.servers.events import ServerEvents


class Server(ServerEvents):
    TOPIC = "Server"

    # state, set by the events (control_plane.domain.servers.events and the others)
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
    # shown by GET /servers only (the servers view is this state, folded)
    key_data: str | None
    config_drive: str
    user_data: str | None
    reservation_id: str
    launch_index: int
    hostname: str
    shown_addresses: dict[str, Any]  # as the last event that changed them reported them
    shown_volumes: list[dict[str, Any]]  # {"id", "delete_on_termination"}, as attached
    launched_at: dt.datetime | None
    terminated_at: dt.datetime | None
    soft_deleted_at: dt.datetime | None
    resize: dict[str, Any] | None  # a resize or cold migration under way, as Nova shows it

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
