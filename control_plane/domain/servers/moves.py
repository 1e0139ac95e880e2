"""Moving a server between hosts: cold migrate, live migrate, evacuate.

migrate         -> ServerMigrateRequested       then the resize flow with the same flavor
                   (scheduled, resized to VERIFY_RESIZE, confirmResize / revertResize)
os-migrateLive  -> ServerLiveMigrationStarted   task migrating (target claimed by the API)
source worker   -> ServerLiveMigrated           on the target; source released
                   or ServerLiveMigrationFailed target released, stays where it was
evacuate        -> ServerEvacuationStarted      task rebuilding (the source host is down)
target worker   -> ServerEvacuated              rebuilt on the target; source released
                   or ServerEvacuationFailed    vm_state error

Migration records (os-migrations) are a projection of these events and of resize's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from control_plane.domain.errors import Conflict, Invalid
from control_plane.domain.servers import resize as server_resize
from control_plane.domain.servers import states
from control_plane.domain.servers.aggregate import Server
from control_plane.domain.servers.transitions import KEEP, Transition

MIGRATING = "migrating"
REBUILDING = "rebuilding"


class MigrateRequested(server_resize.ResizeRequested):
    """A cold migration: a resize to the same flavor, on another host."""

    TOPIC = "ServerMigrateRequested"


def _target(event: Any, s: Server) -> None:
    s.move_target = event.dest


def _arrive(event: Any, s: Server) -> None:
    s.host = s.node = event.dest
    s.move_target = None


def _stay(event: Any, s: Server) -> None:
    s.move_target = None




class LiveMigrationStarted(Server.Event):
    TOPIC = "ServerLiveMigrationStarted"
    TRANSITION = Transition(KEEP, MIGRATING)
    source: str
    dest: str
    block_migration: bool

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)
        _target(self, s)


class LiveMigrated(Server.Event):
    TOPIC = "ServerLiveMigrated"
    TRANSITION = Transition(KEEP, None)
    source: str
    dest: str
    started_at: str

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)
        _arrive(self, s)


class LiveMigrationFailed(Server.Event):
    TOPIC = "ServerLiveMigrationFailed"
    TRANSITION = Transition(KEEP, None)
    source: str
    dest: str
    started_at: str
    message: str

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)
        _stay(self, s)


class EvacuationStarted(Server.Event):
    TOPIC = "ServerEvacuationStarted"
    TRANSITION = Transition(KEEP, REBUILDING)
    source: str
    dest: str
    return_to: str
    admin_pass: str

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)
        _target(self, s)


class Evacuated(Server.Event):
    TOPIC = "ServerEvacuated"
    TRANSITION = Transition("=return_to", None, "=power_state")
    source: str
    dest: str
    started_at: str
    return_to: str
    power_state: int

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)
        _arrive(self, s)


class EvacuationFailed(Server.Event):
    TOPIC = "ServerEvacuationFailed"
    TRANSITION = Transition(states.ERROR, None)
    source: str
    dest: str
    started_at: str
    message: str

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)
        _stay(self, s)


def request_migrate(server: Server, now: dt.datetime) -> None:
    server._check("migrate", (states.ACTIVE, states.STOPPED))
    return_to = states.STOPPED if server.vm_state == states.STOPPED else states.ACTIVE
    server.trigger_event(MigrateRequested, flavor=server.flavor, return_to=return_to,
                         timestamp=now)


def check_live_migration(server: Server, dest: str | None) -> str:
    """Refusals before a target is chosen; returns the source host."""
    server._check("os-migrateLive", (states.ACTIVE, states.PAUSED))
    assert server.host is not None
    if dest == server.host:
        raise Invalid(f"Unable to migrate instance ({server.id}) to current host "
                         f"({server.host}).")
    return server.host


def start_live_migration(server: Server, dest: str, block_migration: bool,
                         now: dt.datetime) -> None:
    server.trigger_event(LiveMigrationStarted, source=server.host, dest=dest,
                         block_migration=block_migration, timestamp=now)


def finish_live_migration(server: Server, started_at: str, ok: bool, message: str,
                          now: dt.datetime) -> str | None:
    """The source worker's outcome; returns the host whose claim is to be released
    (the source when it worked, the target when it did not)."""
    if server.deleted or server.task_state != MIGRATING or \
            not getattr(server, "move_target", None):
        return None
    source, dest = server.host or "", str(server.move_target)
    if ok:
        server.trigger_event(LiveMigrated, source=source, dest=dest, started_at=started_at,
                             timestamp=now)
        return source
    server.trigger_event(LiveMigrationFailed, source=source, dest=dest, started_at=started_at,
                         message=message, timestamp=now)
    return dest


def check_evacuation(server: Server, dest: str | None) -> str:
    server._check("evacuate", (states.ACTIVE, states.STOPPED, states.ERROR))
    if server.host is None:
        raise Conflict(f"Cannot 'evacuate' instance {server.id}: it has no host")
    if dest == server.host:
        raise Invalid("The target host can't be the same one.")
    return server.host


def start_evacuation(server: Server, dest: str, sealed_pass: str, now: dt.datetime) -> None:
    return_to = states.STOPPED if server.vm_state == states.STOPPED else states.ACTIVE
    server.trigger_event(EvacuationStarted, source=server.host, dest=dest, return_to=return_to,
                         admin_pass=sealed_pass, timestamp=now)


def finish_evacuation(server: Server, started_at: str, ok: bool, message: str,
                      now: dt.datetime) -> str | None:
    """The target worker's outcome; returns the host whose claim is to be released."""
    if server.deleted or server.task_state != REBUILDING or \
            not getattr(server, "move_target", None):
        return None
    source, dest = server.host or "", str(server.move_target)
    if ok:
        return_to = _return_to(server)
        server.trigger_event(Evacuated, source=source, dest=dest, started_at=started_at,
                             return_to=return_to,
                             power_state=states.SHUTDOWN if return_to == states.STOPPED
                             else states.RUNNING, timestamp=now)
        return source
    server.trigger_event(EvacuationFailed, source=source, dest=dest, started_at=started_at,
                         message=message, timestamp=now)
    return dest


def _return_to(server: Server) -> str:
    return states.STOPPED if server.vm_state == states.STOPPED else states.ACTIVE
