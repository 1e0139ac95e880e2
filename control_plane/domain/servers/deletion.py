"""Soft delete (a reclaim interval is set), restore, force delete, reclaim.

DELETE (interval > 0)  -> ServerSoftDeleteRequested  task soft-deleting
worker                 -> ServerSoftDeleted          vm_state soft-delete, powered off
restore                -> ServerRestoreRequested     task restoring
worker                 -> ServerRestored             vm_state active, running
forceDelete, or the reclaim interval passing -> the ordinary delete (ServerDeleteRequested)
"""

from __future__ import annotations

import datetime as dt

from control_plane.domain.errors import Conflict
from control_plane.domain.servers import states
from control_plane.domain.servers.aggregate import Server
from control_plane.domain.servers.transitions import KEEP, Transition

SOFT_DELETING = "soft-deleting"
RESTORING = "restoring"


class SoftDeleteRequested(Server.Event):
    TOPIC = "ServerSoftDeleteRequested"
    TRANSITION = Transition(KEEP, SOFT_DELETING)

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)


class SoftDeleted(Server.Event):
    TOPIC = "ServerSoftDeleted"
    TRANSITION = Transition(states.SOFT_DELETED, None, states.SHUTDOWN)
    started_at: str

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)
        s.soft_deleted_at = self.timestamp


class RestoreRequested(Server.Event):
    TOPIC = "ServerRestoreRequested"
    TRANSITION = Transition(KEEP, RESTORING)

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)


class Restored(Server.Event):
    TOPIC = "ServerRestored"
    TRANSITION = Transition(states.ACTIVE, None, states.RUNNING)
    started_at: str

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)
        s.soft_deleted_at = None


Server.simple_tasks[SOFT_DELETING] = "soft_delete"
Server.simple_tasks[RESTORING] = "restore"
Server.simple_outcomes["soft_delete"] = SoftDeleted
Server.simple_outcomes["restore"] = Restored

# what can be soft-deleted: a launched guest on a host, not in the middle of a move
_SOFT = (states.ACTIVE, states.STOPPED, states.PAUSED, states.SUSPENDED, states.RESCUED,
         states.ERROR, states.SHELVED)


def request_delete(server: Server, soft: bool, now: dt.datetime) -> bool:
    """DELETE /servers/{id}: a soft delete where one applies, else the real one.
    Returns True if a driver must act."""
    if soft and server.host is not None and server.vm_state in _SOFT \
            and server.task_state is None:
        server.trigger_event(SoftDeleteRequested, timestamp=now)
        return True
    return server.request_delete(now)


def request_restore(server: Server, now: dt.datetime) -> None:
    server._check("restore", (states.SOFT_DELETED,))
    if server.host is None:
        server.trigger_event(Restored, started_at=now.isoformat(), timestamp=now)
    else:
        server.trigger_event(RestoreRequested, timestamp=now)


def request_force_delete(server: Server, now: dt.datetime) -> None:
    server._require_not_deleted()
    if server.task_state is not None and server.task_state != states.DELETING:
        raise Conflict(f"Cannot 'forceDelete' instance {server.id} while it is in task_state "
                       f"{server.task_state}")
    server.request_delete(now)


def reclaim(server: Server, now: dt.datetime) -> bool:
    """The reclaim interval has passed: delete for real (False if no longer due)."""
    if server.deleted or server.vm_state != states.SOFT_DELETED or server.task_state:
        return False
    server.request_delete(now)
    return True
