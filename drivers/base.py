"""The interface every hypervisor driver implements."""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


class DriverError(Exception):
    """An operation failed on the hypervisor; the message is shown to users as a fault."""


class GuestNotFound(DriverError):
    """The host has no such guest."""


class GuestNotRunning(DriverError):
    """The guest exists but is not running (``power_state`` says what it is instead)."""

    def __init__(self, message: str, power_state: int) -> None:
        super().__init__(message)
        self.power_state = power_state


class ConsoleUnavailable(DriverError):
    """The guest has no console of the kind asked for."""


# console kinds (Nova's console types) a driver may be asked for
CONSOLE_KINDS = ("novnc", "xvpvnc", "spice-html5", "rdp-html5", "serial", "webmks")


@dataclass(frozen=True)
class ConsoleInfo:
    """Where a console proxy connects to reach a guest's console."""

    host: str
    port: int
    internal_access_path: str | None = None


@dataclass(frozen=True)
class HostSpec:
    name: str
    vcpus: int = 16
    memory_mb: int = 32768
    local_gb: int = 500
    availability_zone: str = "nova"


@dataclass(frozen=True)
class InstanceSpec:
    server_id: str
    name: str
    vcpus: int
    memory_mb: int
    disk_gb: int
    image_ref: str
    metadata: dict[str, str] = field(default_factory=dict)
    admin_pass: str | None = None  # to set in the guest (None: leave it as the image has it)
    files: tuple[tuple[str, str], ...] = ()  # personality: (path, base64 contents) to inject
    # the guest's network interfaces, as the control plane allocated them: each
    # {"port_id", "net_id", "net_name", "subnet_id", "mac", "ips", "state"}
    vifs: tuple[dict[str, Any], ...] = ()


@dataclass
class InstanceInfo:
    server_id: str
    power_state: int
    addresses: dict[str, Any] = field(default_factory=dict)


class SnapshotStore(Protocol):
    """Where a driver writes the images it makes (snapshots, shelving): the control
    plane's image files satisfy it and are handed to the driver when it is built, so the
    driver needs nothing of the control plane."""

    def temporary(self, image_id: str) -> Path:
        """A file to write the image's data to before ``publish``."""

    def publish(self, image_id: str, written: Path) -> int:
        """Move a file written with ``temporary`` into place; returns its size."""


# (host, server id, event name, event data): a guest changed on its own (it powered
# off, its process died, ...); the compute worker checks the server's power state
GuestEventCallback = Callable[[str, str, str, dict[str, Any]], Awaitable[None] | None]


class HypervisorDriver(abc.ABC):
    hypervisor_type: str = "unknown"
    on_event: GuestEventCallback | None = None  # set by the compute worker

    @abc.abstractmethod
    def hosts(self) -> list[HostSpec]:
        """The hosts (hypervisors) this driver manages."""

    @abc.abstractmethod
    async def spawn(self, host: str, spec: InstanceSpec) -> InstanceInfo:
        """Create and start a guest. Must be idempotent for the same server id."""

    @abc.abstractmethod
    async def destroy(self, host: str, server_id: str) -> None:
        """Remove a guest; removing one that is already gone is not an error."""

    @abc.abstractmethod
    async def power_off(self, host: str, server_id: str) -> None:
        """Stop the guest (os-stop)."""

    @abc.abstractmethod
    async def power_on(self, host: str, server_id: str) -> None:
        """Start a stopped guest (os-start)."""

    @abc.abstractmethod
    async def reboot(self, host: str, server_id: str, reboot_type: str) -> None:
        """Reboot the guest: SOFT (ACPI, guest cooperates) or HARD (reset)."""

    @abc.abstractmethod
    async def rebuild(self, host: str, spec: InstanceSpec) -> None:
        """Replace the guest's root disk with a fresh copy of ``spec.image_ref`` (with the
        spec's password and files) and boot it."""

    @abc.abstractmethod
    async def migrate(self, source: str, target: str, spec: InstanceSpec) -> None:
        """Cold-migrate a guest to another host (for a resize: with the new flavor).
        The source copy stays until the move is confirmed or reverted."""

    async def finish_revert_migration(self, host: str, server_id: str) -> None:
        """A resize was reverted: the source copy (``host``) takes over again (drivers
        that shut it down for the move start it here)."""
        return None

    @abc.abstractmethod
    async def snapshot(self, host: str, server_id: str, image_id: str) -> int:
        """Copy the guest's disk into a new image; returns its size in bytes."""

    @abc.abstractmethod
    async def pause(self, host: str, server_id: str) -> None:
        """Freeze the guest's vCPUs in memory."""

    @abc.abstractmethod
    async def unpause(self, host: str, server_id: str) -> None:
        """Let a paused guest run again."""

    @abc.abstractmethod
    async def suspend(self, host: str, server_id: str) -> None:
        """Save the guest's state and stop it."""

    @abc.abstractmethod
    async def resume(self, host: str, server_id: str) -> None:
        """Restore a suspended guest."""

    @abc.abstractmethod
    async def rescue(self, host: str, server_id: str, image_ref: str, admin_pass: str | None
                     ) -> None:
        """Boot the guest from a rescue image, its own disk attached as a second disk."""

    @abc.abstractmethod
    async def unrescue(self, host: str, server_id: str) -> None:
        """Boot the guest from its own disk again."""

    @abc.abstractmethod
    async def set_admin_password(self, host: str, server_id: str, admin_pass: str) -> None:
        """Set the guest's administrator password (through a guest agent)."""

    @abc.abstractmethod
    async def live_migrate(self, source: str, target: str, server_id: str) -> None:
        """Move a running guest to another host without stopping it; the source copy
        is gone afterwards."""

    @abc.abstractmethod
    async def attach_volume(self, host: str, server_id: str, volume_id: str, device: str
                            ) -> None:
        """Connect a volume to the guest as ``device`` (e.g. /dev/vdb)."""

    @abc.abstractmethod
    async def detach_volume(self, host: str, server_id: str, volume_id: str) -> None:
        """Disconnect a volume from the guest; one that is not attached is not an error."""

    async def swap_volume(self, host: str, server_id: str, old_volume_id: str,
                          new_volume_id: str, device: str) -> None:
        """Put another volume in place of an attached one, at the same device (drivers
        that can copy live override this)."""
        await self.detach_volume(host, server_id, old_volume_id)
        await self.attach_volume(host, server_id, new_volume_id, device)

    @abc.abstractmethod
    async def attach_interface(self, host: str, server_id: str, vif: dict[str, Any]) -> None:
        """Hot-plug a network interface (a port: its MAC and fixed IPs) into the guest."""

    @abc.abstractmethod
    async def detach_interface(self, host: str, server_id: str, port_id: str) -> None:
        """Unplug a network interface; one that is not plugged is not an error."""

    @abc.abstractmethod
    async def inject_network_info(self, host: str, server_id: str,
                                  vifs: list[dict[str, Any]]) -> None:
        """Give the guest its current network configuration (all its interfaces)."""

    @abc.abstractmethod
    async def reset_network(self, host: str, server_id: str) -> None:
        """Ask the guest (its agent) to reconfigure its networking from scratch."""

    @abc.abstractmethod
    async def list_instances(self, host: str) -> list[str]:
        """The server ids of the guests this host has (to find leftovers at start-up)."""

    @abc.abstractmethod
    async def get_info(self, host: str, server_id: str) -> InstanceInfo | None:
        """The guest's current state, or None if the host has no such guest."""

    @abc.abstractmethod
    async def get_console_output(self, host: str, server_id: str) -> str:
        """The guest's serial console log so far (GuestNotFound if there is no guest)."""

    @abc.abstractmethod
    async def get_console(self, host: str, server_id: str, kind: str) -> ConsoleInfo:
        """Connection details of the guest's console of ``kind`` (one of CONSOLE_KINDS);
        GuestNotRunning if it cannot be reached now, ConsoleUnavailable if the guest has
        no such console."""

    @abc.abstractmethod
    async def get_diagnostics(self, host: str, server_id: str) -> dict[str, Any]:
        """Usage counters of a running guest, as Nova's flat pre-2.48 diagnostics
        (cpu0_time, memory, vda_read, vnet0_rx, ...); GuestNotRunning otherwise."""
