"""Commands on server networking: interfaces, fixed and floating IPs.

Imperative names; each is handled by exactly one function (``control_plane.service.bus``).
"""

from __future__ import annotations

from dataclasses import dataclass

from control_plane.domain.base import Command


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

