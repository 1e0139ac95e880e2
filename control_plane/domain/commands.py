"""Commands: what callers (the API, the scheduler, compute workers) ask the system to do.

Imperative names; each is handled by exactly one function (see ``bus.HANDLERS``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Command:
    pass


# -- servers (API) ------------------------------------------------------------------


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


# -- scheduler and compute workers ------------------------------------------------


@dataclass(frozen=True)
class RegisterComputeHost(Command):
    host: str
    hypervisor_type: str
    vcpus: int
    memory_mb: int
    local_gb: int
    availability_zone: str


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


# -- flavors ----------------------------------------------------------------------


@dataclass(frozen=True)
class CreateFlavor(Command):
    name: str
    ram: int
    vcpus: int
    disk: int
    flavorid: str | None = None
    ephemeral: int = 0
    swap: int = 0
    rxtx_factor: float = 1.0
    is_public: bool = True
    description: str | None = None


@dataclass(frozen=True)
class DeleteFlavor(Command):
    flavorid: str


@dataclass(frozen=True)
class SetFlavorExtraSpecs(Command):
    flavorid: str
    specs: dict[str, str]


@dataclass(frozen=True)
class DeleteFlavorExtraSpec(Command):
    flavorid: str
    key: str


@dataclass(frozen=True)
class AddFlavorAccess(Command):
    flavorid: str
    project_id: str
    public_allowed: bool = False  # before 2.7 Nova accepted access entries on public flavors


@dataclass(frozen=True)
class RemoveFlavorAccess(Command):
    flavorid: str
    project_id: str


# -- keypairs ---------------------------------------------------------------------


@dataclass(frozen=True)
class CreateKeypair(Command):
    name: str
    user_id: str
    type: str = "ssh"
    public_key: str | None = None


@dataclass(frozen=True)
class DeleteKeypair(Command):
    name: str
    user_id: str


# -- images -----------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterImage(Command):
    image_id: str
    name: str
    size: int = 0
    min_ram: int = 0
    min_disk: int = 0
    disk_format: str = "qcow2"
    container_format: str = "bare"
    visibility: str = "public"
    owner: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    server_id: str | None = None
    status: str = "active"


@dataclass(frozen=True)
class SetImageMetadata(Command):
    image_id: str
    metadata: dict[str, str]
    replace: bool


@dataclass(frozen=True)
class DeleteImageMetadataItem(Command):
    image_id: str
    key: str


@dataclass(frozen=True)
class DeleteImage(Command):
    image_id: str


# -- identity ---------------------------------------------------------------------


@dataclass(frozen=True)
class CreateUser(Command):
    name: str
    domain_id: str = "default"
    password: str | None = None
    enabled: bool = True
    email: str | None = None
    description: str | None = None
    default_project_id: str | None = None
    user_id: str | None = None


@dataclass(frozen=True)
class UpdateUser(Command):
    user_id: str
    changes: dict[str, Any]
    password: str | None = None


@dataclass(frozen=True)
class DeleteUser(Command):
    user_id: str


@dataclass(frozen=True)
class CreateProject(Command):
    name: str
    domain_id: str = "default"
    description: str | None = None
    enabled: bool = True
    project_id: str | None = None


@dataclass(frozen=True)
class UpdateProject(Command):
    project_id: str
    changes: dict[str, Any]


@dataclass(frozen=True)
class DeleteProject(Command):
    project_id: str


@dataclass(frozen=True)
class CreateRole(Command):
    name: str
    description: str | None = None


@dataclass(frozen=True)
class DeleteRole(Command):
    role_id: str


@dataclass(frozen=True)
class GrantRole(Command):
    project_id: str
    user_id: str
    role_id: str


@dataclass(frozen=True)
class RevokeRole(Command):
    project_id: str
    user_id: str
    role_id: str


@dataclass(frozen=True)
class RevokeToken(Command):
    audit_id: str
    user_id: str
    expires_at: str


# -- server actions ---------------------------------------------------------------


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


# -- resize -----------------------------------------------------------------------


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


# -- snapshots and backups --------------------------------------------------------


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


# -- shelve -----------------------------------------------------------------------


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


# -- soft delete, rescue, password, moves (issue 4) -----------------------------------


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


# -- volumes, snapshots and volume attachments -----------------------------------------


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


# -- consoles ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AuthorizeConsole(Command):
    """Issue a token for a server's remote console (the answer is its URL)."""
    server_id: str
    protocol: str  # vnc, spice, rdp, serial, mks
    console_type: str  # novnc, xvpvnc, spice-html5, rdp-html5, serial, webmks


@dataclass(frozen=True)
class CreateConsole(Command):
    """os-consoles: open the server's XVP console (kept if it has one)."""
    server_id: str


@dataclass(frozen=True)
class DeleteConsole(Command):
    server_id: str
    console_id: int


# -- server networking (the default network; control_plane.service.handlers.networks) -----------


@dataclass(frozen=True)
class AttachInterface(Command):
    """os-interface: a new port on the network (or the port named) for the server."""
    server_id: str
    net_id: str | None = None
    port_id: str | None = None
    fixed_ip: str | None = None


@dataclass(frozen=True)
class DetachInterface(Command):
    server_id: str
    port_id: str


@dataclass(frozen=True)
class FinishInterfaceOperation(Command):
    """A compute worker's outcome of an interface attach or detach (message: failure)."""
    server_id: str
    host: str
    operation: str  # attach, detach
    port_id: str
    started_at: str
    message: str = ""
    details: str = ""


@dataclass(frozen=True)
class AddFixedIp(Command):
    server_id: str
    network_id: str


@dataclass(frozen=True)
class RemoveFixedIp(Command):
    server_id: str
    address: str


@dataclass(frozen=True)
class AddFloatingIp(Command):
    server_id: str
    address: str
    fixed_address: str | None = None


@dataclass(frozen=True)
class RemoveFloatingIp(Command):
    server_id: str
    address: str


@dataclass(frozen=True)
class InjectNetworkInfo(Command):
    server_id: str


@dataclass(frozen=True)
class ResetNetwork(Command):
    server_id: str


@dataclass(frozen=True)
class ReleaseServerNetwork(Command):
    """A server was deleted: its ports and floating IPs are free again."""
    server_id: str


@dataclass(frozen=True)
class SyncServerPowerState(Command):
    """A compute worker saw the server's guest in ``power_state`` while the server was at
    stream version ``version``."""
    server_id: str
    host: str
    power_state: int
    version: int
