"""Commands on servers: what the API, the scheduler and compute workers ask of a server.

Imperative names; each is handled by exactly one function (``control_plane.service.bus``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from control_plane.domain.base import Command

# -- servers (API)


@dataclass(frozen=True)
class CreateServers(Command):
    name: str
    flavor_ref: str
    image_ref: str
    min_count: int = 1
    max_count: int = 1
    key_name: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    access_ipv4: str = ""
    access_ipv6: str = ""
    disk_config: str = "MANUAL"
    availability_zone: str | None = None
    config_drive: str = ""
    user_data: str | None = None
    security_groups: tuple[str, ...] = ("default",)
    networks: Any = None
    admin_pass: str = ""  # in clear here; sealed before it is recorded
    files: tuple[tuple[str, str], ...] = ()  # personality: (path, base64 contents)
    block_devices: tuple[dict[str, Any], ...] = ()  # block_device_mapping_v2, as given


@dataclass(frozen=True)
class UpdateServer(Command):
    server_id: str
    changes: dict[str, Any]


@dataclass(frozen=True)
class DeleteServer(Command):
    server_id: str


@dataclass(frozen=True)
class SetServerMetadata(Command):
    server_id: str
    metadata: dict[str, str]
    replace: bool


@dataclass(frozen=True)
class DeleteServerMetadataItem(Command):
    server_id: str
    key: str


@dataclass(frozen=True)
class ScheduleServers(Command):
    server_ids: tuple[str, ...]


@dataclass(frozen=True)
class MarkServerSpawned(Command):
    server_id: str
    host: str
    started_at: str
    addresses: dict[str, Any]


@dataclass(frozen=True)
class MarkServerBuildFailed(Command):
    server_id: str
    host: str
    started_at: str
    message: str
    details: str


@dataclass(frozen=True)
class MarkServerDeleted(Command):
    server_id: str
    host: str
    started_at: str


# -- server actions


@dataclass(frozen=True)
class RequestServerAction(Command):
    server_id: str
    action: str  # stop, start, reboot, pause, ..., lock, unlock, add/removeSecurityGroup
    reboot_type: str = "SOFT"
    argument: str = ""  # a security group's name


@dataclass(frozen=True)
class RebuildServer(Command):
    server_id: str
    image_ref: str
    changes: dict[str, Any]
    admin_pass: str = ""
    files: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class CompleteServerAction(Command):
    server_id: str
    host: str
    action: str
    started_at: str


@dataclass(frozen=True)
class FailServerAction(Command):
    server_id: str
    host: str
    action: str
    started_at: str
    message: str
    details: str


# -- resize


@dataclass(frozen=True)
class ResizeServer(Command):
    server_id: str
    flavor_ref: str


@dataclass(frozen=True)
class ConfirmResize(Command):
    server_id: str


@dataclass(frozen=True)
class RevertResize(Command):
    server_id: str


@dataclass(frozen=True)
class ScheduleResize(Command):
    server_id: str


@dataclass(frozen=True)
class FinishResize(Command):
    server_id: str
    host: str
    started_at: str


@dataclass(frozen=True)
class FailResize(Command):
    server_id: str
    host: str
    started_at: str
    message: str


@dataclass(frozen=True)
class FinishRevertResize(Command):
    server_id: str
    host: str
    started_at: str


# -- snapshots and backups


@dataclass(frozen=True)
class CreateServerImage(Command):
    server_id: str
    name: str
    metadata: dict[str, str]
    kind: str = "snapshot"  # or backup
    backup_type: str | None = None
    rotation: int | None = None


@dataclass(frozen=True)
class FinishServerImage(Command):
    server_id: str
    host: str
    image_id: str
    size: int
    started_at: str


# -- shelve


@dataclass(frozen=True)
class ShelveServer(Command):
    server_id: str


@dataclass(frozen=True)
class ShelveOffloadServer(Command):
    server_id: str


@dataclass(frozen=True)
class UnshelveServer(Command):
    server_id: str


@dataclass(frozen=True)
class ScheduleUnshelve(Command):
    server_id: str


@dataclass(frozen=True)
class FinishShelve(Command):
    server_id: str
    host: str
    started_at: str
    offload: bool
    size: int


@dataclass(frozen=True)
class FinishOffload(Command):
    server_id: str
    host: str
    started_at: str


@dataclass(frozen=True)
class FinishUnshelve(Command):
    server_id: str
    host: str
    started_at: str


# -- soft delete, rescue, password, moves (issue 4)


@dataclass(frozen=True)
class RestoreServer(Command):
    server_id: str


@dataclass(frozen=True)
class ForceDeleteServer(Command):
    server_id: str


@dataclass(frozen=True)
class ReclaimServer(Command):
    """The reclaim interval of a soft-deleted server has passed (a compute worker asks)."""
    server_id: str
    host: str


@dataclass(frozen=True)
class RescueServer(Command):
    server_id: str
    admin_pass: str
    rescue_image_ref: str | None = None


@dataclass(frozen=True)
class UnrescueServer(Command):
    server_id: str


@dataclass(frozen=True)
class ChangeServerPassword(Command):
    server_id: str
    admin_pass: str


@dataclass(frozen=True)
class SetServerPassword(Command):
    """The guest posted its (encrypted) password to the metadata service."""
    server_id: str
    password: str


@dataclass(frozen=True)
class ClearServerPassword(Command):
    server_id: str


@dataclass(frozen=True)
class MigrateServer(Command):
    server_id: str


@dataclass(frozen=True)
class LiveMigrateServer(Command):
    server_id: str
    host: str | None
    block_migration: bool = False


@dataclass(frozen=True)
class FinishLiveMigration(Command):
    server_id: str
    host: str
    started_at: str
    ok: bool
    message: str = ""


@dataclass(frozen=True)
class EvacuateServer(Command):
    server_id: str
    host: str | None
    admin_pass: str


@dataclass(frozen=True)
class FinishEvacuation(Command):
    server_id: str
    host: str
    started_at: str
    ok: bool
    message: str = ""


@dataclass(frozen=True)
class OffloadShelvedServer(Command):
    """shelved_offload_time has passed (a compute worker asks)."""
    server_id: str
    host: str


@dataclass(frozen=True)
class AutoConfirmResize(Command):
    """resize_confirm_window has passed (a compute worker asks)."""
    server_id: str
    host: str


@dataclass(frozen=True)
class SyncServerPowerState(Command):
    """A compute worker saw the server's guest in ``power_state`` while the server was at
    stream version ``version``."""
    server_id: str
    host: str
    power_state: int
    version: int

