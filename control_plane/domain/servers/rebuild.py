"""Rebuild: a server gets a new image (and optionally a new name, metadata, addresses).

The request records what changes and the state to return to; the driver's outcome
puts the server back in it (a stopped server stays stopped, as in Nova).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from control_plane.domain.servers import states
from control_plane.domain.servers.aggregate import Server

REBUILDING = "rebuilding"


class RebuildRequested(Server.Event):
    """v2 added the sealed admin password and the personality files for the driver."""

    TOPIC = "ServerRebuildRequested"
    class_version = 2
    image_ref: str
    changes: dict[str, Any]  # name, metadata, access_ipv4, access_ipv6, disk_config
    return_to: str  # vm_state after the rebuild
    admin_pass: str  # sealed
    files: list[dict[str, str]]

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["admin_pass"] = ""
        state["files"] = []

    def apply(self, s: Server) -> None:
        s.task_state = REBUILDING
        s.image_ref = self.image_ref
        for key, value in self.changes.items():
            setattr(s, key, value)
        s.rebuild_return_to = self.return_to
        s.admin_pass = self.admin_pass
        s.files = list(self.files)


class Rebuilt(Server.Event):
    TOPIC = "ServerRebuilt"
    started_at: str

    def apply(self, s: Server) -> None:
        s.vm_state = getattr(s, "rebuild_return_to", states.ACTIVE)
        s.task_state = None
        s.power_state = states.SHUTDOWN if s.vm_state == states.STOPPED else states.RUNNING


EVENTS = (RebuildRequested, Rebuilt)
Server.simple_tasks[REBUILDING] = "rebuild"
Server.simple_outcomes["rebuild"] = Rebuilt


def request(server: Server, image_ref: str, changes: dict[str, Any], now: dt.datetime,
            admin_pass: str = "", files: list[dict[str, str]] | None = None) -> None:
    server._check("rebuild", (states.ACTIVE, states.STOPPED, states.ERROR))
    return_to = states.STOPPED if server.vm_state == states.STOPPED else states.ACTIVE
    server.trigger_event(RebuildRequested, image_ref=image_ref, changes=changes,
                         return_to=return_to, admin_pass=admin_pass, files=files or [],
                         timestamp=now)
