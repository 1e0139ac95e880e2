"""Commands on volumes, volume snapshots and volume attachments.

Imperative names; each is handled by exactly one function (``control_plane.service.bus``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from control_plane.domain.base import Command


@dataclass(frozen=True)
class CreateVolume(Command):
    size: int
    display_name: str | None = None
    display_description: str | None = None
    volume_type: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    availability_zone: str | None = None
    snapshot_id: str | None = None


@dataclass(frozen=True)
class DeleteVolume(Command):
    volume_id: str


@dataclass(frozen=True)
class CreateVolumeSnapshot(Command):
    volume_id: str
    force: bool = False
    display_name: str | None = None
    display_description: str | None = None


@dataclass(frozen=True)
class DeleteVolumeSnapshot(Command):
    snapshot_id: str


@dataclass(frozen=True)
class AttachVolume(Command):
    server_id: str
    volume_id: str
    device: str | None = None
    disk_bus: str | None = None
    device_type: str | None = None


@dataclass(frozen=True)
class DetachVolume(Command):
    server_id: str
    volume_id: str


@dataclass(frozen=True)
class SwapVolume(Command):
    server_id: str
    old_volume_id: str
    new_volume_id: str


@dataclass(frozen=True)
class FinishVolumeOperation(Command):
    """A compute worker attached, detached or swapped a volume (or failed to)."""
    server_id: str
    host: str
    operation: str  # attach, detach or swap
    volume_id: str  # for a swap: the old volume
    started_at: str
    message: str = ""  # empty: it worked
    details: str = ""
    new_volume_id: str = ""


@dataclass(frozen=True)
class ReleaseServerVolumes(Command):
    """A server was deleted: its volumes become available."""
    server_id: str

