"""Volumes (os-volumes) and volume snapshots (os-snapshots): minimal block-storage records.

A volume's status, as Cinder names it:

    create    -> VolumeCreated            creating
                 VolumeProvisioned        available
    attach    -> VolumeAttaching          attaching  (reserved for one server, at a device)
    compute   -> VolumeAttached           in-use     (or VolumeAttachAborted: available)
    detach    -> VolumeDetaching          detaching
    compute   -> VolumeDetached           available  (or VolumeDetachAborted: in-use)
    delete    -> VolumeDeleteRequested    deleting
                 VolumeDeleted            (gone)

There is no storage backend yet: a volume (and a snapshot) is provisioned, and deleted,
in the same unit of work that asks for it. The request and its outcome are separate
events all the same, so a real backend can later come in between.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from eventsourcing.domain import Aggregate

from control_plane.domain.base import stable_id
from control_plane.domain.errors import Invalid, NotFound

CREATING = "creating"
AVAILABLE = "available"
ATTACHING = "attaching"
IN_USE = "in-use"
DETACHING = "detaching"
DELETING = "deleting"

AVAILABILITY_ZONE = "nova"  # Cinder's default storage availability zone

# The volume types (os-volume-types): Cinder's default type only, for now.
DEFAULT_TYPE = "__DEFAULT__"
VOLUME_TYPES: tuple[dict[str, Any], ...] = (
    {"id": str(stable_id("volume-type", DEFAULT_TYPE)), "name": DEFAULT_TYPE,
     "extra_specs": {}},
)


def volume_type(ref: str | None) -> dict[str, Any]:
    """The volume type named (by name or id) in a request; the default type for None."""
    if ref is None:
        return VOLUME_TYPES[0]
    for t in VOLUME_TYPES:
        if ref in (t["id"], t["name"]):
            return t
    raise NotFound(f"Volume type {ref} could not be found.")


def _invalid_volume(reason: str) -> Invalid:
    """Cinder refused the request; Nova passes its message on as a 400."""
    return Invalid(f"Invalid input received: Invalid volume: {reason}")


class Volume(Aggregate):
    TOPIC = "Volume"

    class Created(Aggregate.Created):
        TOPIC = "VolumeCreated"
        project_id: str
        user_id: str
        size: int
        display_name: str | None
        display_description: str | None
        volume_type: str
        availability_zone: str
        snapshot_id: str | None
        metadata: dict[str, str]

        def apply(self, v: Volume) -> None:
            v.project_id = self.project_id
            v.size = self.size
            v.availability_zone = self.availability_zone
            v.status = CREATING
            v.server_id = None
            v.device = None
            v.deleted = False

    class Provisioned(Aggregate.Event):
        TOPIC = "VolumeProvisioned"

        def apply(self, v: Volume) -> None:
            v.status = AVAILABLE

    class Attaching(Aggregate.Event):
        TOPIC = "VolumeAttaching"
        server_id: str
        device: str

        def apply(self, v: Volume) -> None:
            v.status = ATTACHING
            v.server_id = self.server_id
            v.device = self.device

    class Attached(Aggregate.Event):
        TOPIC = "VolumeAttached"
        server_id: str

        def apply(self, v: Volume) -> None:
            v.status = IN_USE

    class AttachAborted(Aggregate.Event):
        """The attach failed, or the server went away before it finished."""

        TOPIC = "VolumeAttachAborted"
        server_id: str

        def apply(self, v: Volume) -> None:
            v.status = AVAILABLE
            v.server_id = v.device = None

    class Detaching(Aggregate.Event):
        TOPIC = "VolumeDetaching"
        server_id: str

        def apply(self, v: Volume) -> None:
            v.status = DETACHING

    class Detached(Aggregate.Event):
        TOPIC = "VolumeDetached"
        server_id: str

        def apply(self, v: Volume) -> None:
            v.status = AVAILABLE
            v.server_id = v.device = None

    class DetachAborted(Aggregate.Event):
        TOPIC = "VolumeDetachAborted"
        server_id: str

        def apply(self, v: Volume) -> None:
            v.status = IN_USE

    class DeleteRequested(Aggregate.Event):
        TOPIC = "VolumeDeleteRequested"

        def apply(self, v: Volume) -> None:
            v.status = DELETING

    class Deleted(Aggregate.Event):
        TOPIC = "VolumeDeleted"

        def apply(self, v: Volume) -> None:
            v.deleted = True

    project_id: str
    size: int
    availability_zone: str
    status: str
    server_id: str | None  # the server it is attached (or attaching) to
    device: str | None
    deleted: bool

    def __init__(self) -> None:
        pass

    @classmethod
    def create(cls, volume_id: uuid.UUID, now: dt.datetime, **fields: Any) -> Volume:
        volume = cls._create(cls.Created, id=volume_id, timestamp=now, **fields)
        volume.trigger_event(cls.Provisioned, timestamp=now)  # no backend to wait for yet
        return volume

    # -- attachments (each decided together with the server's side) ------------------

    def check_attachable(self) -> None:
        """Can this volume be reserved for a server? (Nova's checks, then Cinder's.)"""
        if self.server_id is not None:
            raise Invalid(f"Invalid volume: volume {self.id} is already attached to "
                             f"instances: {self.server_id}")
        if self.status != AVAILABLE:
            raise _invalid_volume(f"Volume {self.id} status must be available or downloading"
                                  f" to reserve, but the current status is {self.status}.")

    def reserve(self, server_id: str, device: str, now: dt.datetime) -> None:
        self.check_attachable()
        self.trigger_event(self.Attaching, server_id=server_id, device=device, timestamp=now)

    def finish_attach(self, server_id: str, ok: bool, now: dt.datetime) -> None:
        if self.status != ATTACHING or self.server_id != server_id:
            return
        event = self.Attached if ok else self.AttachAborted
        self.trigger_event(event, server_id=server_id, timestamp=now)

    def begin_detaching(self, server_id: str, now: dt.datetime) -> None:
        if self.status != IN_USE or self.server_id != server_id:
            raise Invalid("Invalid volume: Invalid input received: Unable to detach volume."
                             " Volume status must be 'in-use' and attach_status must be "
                             "'attached' to detach.")
        self.trigger_event(self.Detaching, server_id=server_id, timestamp=now)

    def finish_detach(self, server_id: str, ok: bool, now: dt.datetime) -> None:
        if self.status != DETACHING or self.server_id != server_id:
            return
        event = self.Detached if ok else self.DetachAborted
        self.trigger_event(event, server_id=server_id, timestamp=now)

    def release(self, server_id: str, now: dt.datetime) -> None:
        """The server was deleted: whatever the attachment's state, the volume is free."""
        if self.server_id != server_id or self.deleted:
            return
        if self.status == ATTACHING:
            self.trigger_event(self.AttachAborted, server_id=server_id, timestamp=now)
        else:
            self.trigger_event(self.Detached, server_id=server_id, timestamp=now)

    # -- snapshots and deletion ------------------------------------------------------

    def check_snapshot(self, force: bool) -> None:
        if self.status == AVAILABLE or (force and self.status == IN_USE):
            return
        raise _invalid_volume(f"Volume {self.id} status must be available, but current "
                              f"status is: {self.status}.")

    def delete(self, snapshots: int, now: dt.datetime) -> None:
        if self.status != AVAILABLE or self.server_id is not None or snapshots:
            raise Invalid(
                "Invalid input received: Invalid volume: Volume status must be available or "
                "error or error_restoring or error_extending or error_managing and must not "
                "be migrating, attached, belong to a group, have snapshots or be "
                "disassociated from snapshots after volume transfer.")
        self.trigger_event(self.DeleteRequested, timestamp=now)
        self.trigger_event(self.Deleted, timestamp=now)  # no backend to wait for yet


class VolumeSnapshot(Aggregate):
    """A point-in-time copy of a volume (os-snapshots)."""

    TOPIC = "VolumeSnapshot"

    class Created(Aggregate.Created):
        TOPIC = "VolumeSnapshotCreated"
        project_id: str
        user_id: str
        volume_id: str
        size: int
        display_name: str | None
        display_description: str | None

        def apply(self, s: VolumeSnapshot) -> None:
            s.project_id = self.project_id
            s.volume_id = self.volume_id
            s.size = self.size
            s.status = CREATING
            s.deleted = False

    class Provisioned(Aggregate.Event):
        TOPIC = "VolumeSnapshotProvisioned"

        def apply(self, s: VolumeSnapshot) -> None:
            s.status = AVAILABLE

    class DeleteRequested(Aggregate.Event):
        TOPIC = "VolumeSnapshotDeleteRequested"

        def apply(self, s: VolumeSnapshot) -> None:
            s.status = DELETING

    class Deleted(Aggregate.Event):
        TOPIC = "VolumeSnapshotDeleted"

        def apply(self, s: VolumeSnapshot) -> None:
            s.deleted = True

    project_id: str
    volume_id: str
    size: int
    status: str
    deleted: bool

    def __init__(self) -> None:
        pass

    @classmethod
    def create(cls, snapshot_id: uuid.UUID, now: dt.datetime, **fields: Any
               ) -> VolumeSnapshot:
        snapshot = cls._create(cls.Created, id=snapshot_id, timestamp=now, **fields)
        snapshot.trigger_event(cls.Provisioned, timestamp=now)
        return snapshot

    def delete(self, now: dt.datetime) -> None:
        if self.deleted:
            return
        self.trigger_event(self.DeleteRequested, timestamp=now)
        self.trigger_event(self.Deleted, timestamp=now)
