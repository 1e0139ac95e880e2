"""Resize: a server moves to a new flavor on another host, then is confirmed or reverted.

resize (API)      -> ServerResizeRequested   task resize_prep         status RESIZE
scheduler         -> ServerResizeScheduled   task resize_migrating    (claims the target)
                     or ServerResizeFailed   (no host: the server stays as it was)
target's worker   -> ServerResized           vm_state resized         status VERIFY_RESIZE
confirmResize     -> ServerResizeConfirmed   back to active/stopped   (source released)
revertResize      -> ServerRevertResizeRequested  task resize_reverting
target's worker   -> ServerResizeReverted    old flavor, source host  (target released)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from control_plane.domain.errors import Conflict, Invalid
from control_plane.domain.servers import states
from control_plane.domain.servers.aggregate import Server

RESIZE_PREP = "resize_prep"
RESIZE_MIGRATING = "resize_migrating"
RESIZE_REVERTING = "resize_reverting"


class ResizeRequested(Server.Event):
    TOPIC = "ServerResizeRequested"
    flavor: dict[str, Any]
    return_to: str

    def apply(self, s: Server) -> None:
        s.task_state = RESIZE_PREP
        s.resize = {"old_flavor": s.flavor, "new_flavor": self.flavor,
                    "return_to": self.return_to, "source": s.host}
        s.new_flavor = self.flavor
        s.old_flavor = s.flavor
        s.resize_return_to = self.return_to


class ResizeScheduled(Server.Event):
    TOPIC = "ServerResizeScheduled"
    host: str
    node: str

    def apply(self, s: Server) -> None:
        s.task_state = RESIZE_MIGRATING
        s.resize_source = s.host or ""
        s.resize_target = self.host
        if s.resize is not None:
            s.resize = {**s.resize, "target": self.host}


class ResizeFailed(Server.Event):
    TOPIC = "ServerResizeFailed"
    message: str
    started_at: str

    def apply(self, s: Server) -> None:
        s.task_state = None
        s.new_flavor = None
        s.resize = None


class Resized(Server.Event):
    TOPIC = "ServerResized"
    started_at: str

    def apply(self, s: Server) -> None:
        s.vm_state = states.RESIZED
        s.task_state = None
        s.host = s.node = s.resize_target
        assert s.new_flavor is not None
        s.flavor = s.new_flavor


class ResizeConfirmed(Server.Event):
    TOPIC = "ServerResizeConfirmed"
    source_host: str

    def apply(self, s: Server) -> None:
        s.vm_state = s.resize_return_to
        s.power_state = states.SHUTDOWN if s.vm_state == states.STOPPED else states.RUNNING
        s.new_flavor = None
        s.resize = None


class RevertRequested(Server.Event):
    TOPIC = "ServerRevertResizeRequested"

    def apply(self, s: Server) -> None:
        s.task_state = RESIZE_REVERTING


class ResizeReverted(Server.Event):
    TOPIC = "ServerResizeReverted"
    started_at: str
    target_host: str

    def apply(self, s: Server) -> None:
        s.vm_state = s.resize_return_to
        s.task_state = None
        s.host = s.node = s.resize_source
        s.flavor = s.old_flavor
        s.power_state = states.SHUTDOWN if s.vm_state == states.STOPPED else states.RUNNING
        s.new_flavor = None
        s.resize = None


EVENTS = (ResizeRequested, ResizeScheduled, ResizeFailed, Resized, ResizeConfirmed,
          RevertRequested, ResizeReverted)


def request(server: Server, flavor: dict[str, Any], now: dt.datetime) -> None:
    server._check("resize", (states.ACTIVE, states.STOPPED))
    if flavor["id"] == server.flavor["id"]:
        raise Invalid("When resizing, instances must change flavor!")
    return_to = states.STOPPED if server.vm_state == states.STOPPED else states.ACTIVE
    server.trigger_event(ResizeRequested, flavor=flavor, return_to=return_to, timestamp=now)


def schedule(server: Server, host: str, now: dt.datetime) -> bool:
    if server.deleted or server.task_state != RESIZE_PREP:
        return False
    server.trigger_event(ResizeScheduled, host=host, node=host, timestamp=now)
    return True


def fail(server: Server, message: str, started_at: str, now: dt.datetime) -> bool:
    if server.deleted or server.task_state not in (RESIZE_PREP, RESIZE_MIGRATING):
        return False
    server.trigger_event(ResizeFailed, message=message, started_at=started_at, timestamp=now)
    return True


def finish(server: Server, started_at: str, now: dt.datetime) -> bool:
    if server.deleted or server.task_state != RESIZE_MIGRATING:
        return False
    server.trigger_event(Resized, started_at=started_at, timestamp=now)
    return True


def _require_resized(server: Server, method: str) -> None:
    server._require_not_deleted()
    if server.vm_state != states.RESIZED or server.task_state is not None:
        raise Conflict(f"Cannot '{method}' instance {server.id} while it is in vm_state "
                       f"{server.vm_state}")


def confirm(server: Server, now: dt.datetime) -> str:
    """Confirm; returns the source host, whose resources are to be released."""
    _require_resized(server, "confirmResize")
    source = server.resize_source
    server.trigger_event(ResizeConfirmed, source_host=source, timestamp=now)
    return source


def request_revert(server: Server, now: dt.datetime) -> None:
    _require_resized(server, "revertResize")
    server.trigger_event(RevertRequested, timestamp=now)


def finish_revert(server: Server, started_at: str, now: dt.datetime) -> str | None:
    """Revert done; returns the target host, whose resources are to be released."""
    if server.deleted or server.task_state != RESIZE_REVERTING:
        return None
    target = server.resize_target
    server.trigger_event(ResizeReverted, started_at=started_at, target_host=target,
                         timestamp=now)
    return target
