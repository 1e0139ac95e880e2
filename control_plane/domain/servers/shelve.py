"""Shelve, shelveOffload, unshelve.

shelve            -> ServerShelveRequested      task shelving (a snapshot image is made)
worker            -> ServerShelved              vm_state shelved, powered off
                     (+ ServerShelveOffloaded  when offloading at once: host freed)
shelveOffload     -> ServerShelveOffloadRequested   task shelving_offloading
worker            -> ServerShelveOffloaded      vm_state shelved_offloaded, no host
unshelve          -> ServerUnshelveRequested    task unshelving
scheduler         -> ServerUnshelveScheduled    (only when offloaded: a host is claimed)
worker            -> ServerUnshelved            vm_state active
"""

from __future__ import annotations

import datetime as dt

from control_plane.domain.servers import states
from control_plane.domain.servers.aggregate import Server

SHELVING = "shelving"
OFFLOADING = "shelving_offloading"
UNSHELVING = "unshelving"
SPAWNING = "spawning"


class ShelveRequested(Server.Event):
    TOPIC = "ServerShelveRequested"
    image_id: str
    offload: bool

    def apply(self, s: Server) -> None:
        s.task_state = SHELVING
        s.shelved_image = self.image_id


class Shelved(Server.Event):
    TOPIC = "ServerShelved"
    started_at: str

    def apply(self, s: Server) -> None:
        s.vm_state = states.SHELVED
        s.task_state = None
        s.power_state = states.SHUTDOWN


class OffloadRequested(Server.Event):
    TOPIC = "ServerShelveOffloadRequested"

    def apply(self, s: Server) -> None:
        s.task_state = OFFLOADING


class Offloaded(Server.Event):
    TOPIC = "ServerShelveOffloaded"
    started_at: str
    host: str

    def apply(self, s: Server) -> None:
        s.vm_state = states.SHELVED_OFFLOADED
        s.task_state = None
        s.power_state = states.SHUTDOWN
        s.host = s.node = None


class UnshelveRequested(Server.Event):
    TOPIC = "ServerUnshelveRequested"

    def apply(self, s: Server) -> None:
        s.task_state = UNSHELVING


class UnshelveScheduled(Server.Event):
    TOPIC = "ServerUnshelveScheduled"
    host: str

    def apply(self, s: Server) -> None:
        s.host = s.node = self.host
        s.task_state = SPAWNING


class Unshelved(Server.Event):
    TOPIC = "ServerUnshelved"
    started_at: str
    image_id: str

    def apply(self, s: Server) -> None:
        s.vm_state = states.ACTIVE
        s.task_state = None
        s.power_state = states.RUNNING
        s.shelved_image = None


Server.simple_tasks[UNSHELVING] = "unshelve"  # so a failed placement can clear the task

EVENTS = (ShelveRequested, Shelved, OffloadRequested, Offloaded, UnshelveRequested,
          UnshelveScheduled, Unshelved)


def request(server: Server, image_id: str, offload: bool, now: dt.datetime) -> None:
    server._check("shelve", (states.ACTIVE, states.STOPPED, states.PAUSED,
                             states.SUSPENDED))
    server.trigger_event(ShelveRequested, image_id=image_id, offload=offload, timestamp=now)


def request_offload(server: Server, now: dt.datetime) -> None:
    server._check("shelveOffload", (states.SHELVED,))
    server.trigger_event(OffloadRequested, timestamp=now)


def request_unshelve(server: Server, now: dt.datetime) -> None:
    server._check("unshelve", (states.SHELVED, states.SHELVED_OFFLOADED))
    server.trigger_event(UnshelveRequested, timestamp=now)


def finish_shelve(server: Server, started_at: str, offload: bool, now: dt.datetime
                  ) -> str | None:
    """Shelved (and offloaded); returns the host to release when offloaded."""
    if server.deleted or server.task_state != SHELVING:
        return None
    host = server.host
    server.trigger_event(Shelved, started_at=started_at, timestamp=now)
    if offload and host is not None:
        server.trigger_event(Offloaded, started_at=started_at, host=host, timestamp=now)
        return host
    return None


def finish_offload(server: Server, started_at: str, now: dt.datetime) -> str | None:
    if server.deleted or server.task_state != OFFLOADING or server.host is None:
        return None
    host = server.host
    server.trigger_event(Offloaded, started_at=started_at, host=host, timestamp=now)
    return host


def schedule_unshelve(server: Server, host: str, now: dt.datetime) -> bool:
    if server.deleted or server.task_state != UNSHELVING or server.host is not None:
        return False
    server.trigger_event(UnshelveScheduled, host=host, timestamp=now)
    return True


def finish_unshelve(server: Server, started_at: str, now: dt.datetime) -> str | None:
    """Unshelved; returns the shelved image to delete."""
    if server.deleted or server.task_state not in (UNSHELVING, SPAWNING) or not server.host:
        return None
    image = server.shelved_image
    server.trigger_event(Unshelved, started_at=started_at, image_id=image or "",
                         timestamp=now)
    return image
