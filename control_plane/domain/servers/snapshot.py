"""createImage and createBackup: a server's disk becomes an image in the catalog.

The request registers the image (status ``saving``) and sets the server's task; the
compute worker's snapshot activates it. Backups of a server are rotated: after a new
backup of a given type, the oldest beyond ``rotation`` are deleted.
"""

from __future__ import annotations

import datetime as dt

from control_plane.domain.servers import states
from control_plane.domain.servers.aggregate import Server

IMAGE_SNAPSHOT = "image_snapshot"
IMAGE_BACKUP = "image_backup"


class SnapshotRequested(Server.Event):
    TOPIC = "ServerSnapshotRequested"
    image_id: str
    kind: str  # snapshot or backup

    def apply(self, s: Server) -> None:
        s.task_state = IMAGE_BACKUP if self.kind == "backup" else IMAGE_SNAPSHOT


class SnapshotTaken(Server.Event):
    TOPIC = "ServerSnapshotTaken"
    image_id: str
    started_at: str

    def apply(self, s: Server) -> None:
        s.task_state = None


EVENTS = (SnapshotRequested, SnapshotTaken)

ALLOWED = (states.ACTIVE, states.STOPPED, states.PAUSED, states.SUSPENDED)


def request(server: Server, image_id: str, kind: str, now: dt.datetime) -> None:
    server._check("createImage" if kind == "snapshot" else "createBackup", ALLOWED)
    server.trigger_event(SnapshotRequested, image_id=image_id, kind=kind, timestamp=now)


def finish(server: Server, image_id: str, started_at: str, now: dt.datetime) -> bool:
    if server.deleted or server.task_state not in (IMAGE_SNAPSHOT, IMAGE_BACKUP):
        return False
    server.trigger_event(SnapshotTaken, image_id=image_id, started_at=started_at,
                         timestamp=now)
    return True
