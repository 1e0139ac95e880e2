"""The default network ("private") and its fixed-IP allocations, as one aggregate.

Every port (a server's virtual interface on the network) and every fixed IP it holds
is recorded here, so an address is handed out at most once whatever restarts: two
allocators racing for the same address both append to this one stream, and the
loser's append fails on the expected version (it retries on fresh state). A batch
of servers is wired in one event (``NetworkPortsAllocated``), so the scheduler's
single append per request stays single.

Port ids and the order of requests come from the caller; which addresses and MACs
a port gets is decided here, deterministically, and recorded in the event.

Full networking (more networks, a ports API) comes later; until then there is one
network, created on first use with the settings below.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import uuid
from typing import Any

from eventsourcing.domain import Aggregate

from control_plane.domain.base import stable_id
from control_plane.domain.errors import Conflict, Invalid

DEFAULT_NAME = "private"
DEFAULT_CIDR = "10.0.0.0/16"
MAC_PREFIX = "fa:16:3e"  # OpenStack's base MAC


def network_stream_id(name: str) -> uuid.UUID:
    return stable_id("network", name)


DEFAULT_NETWORK_ID = network_stream_id(DEFAULT_NAME)


class NoMoreFixedIps(Invalid):
    def __init__(self, network_id: str) -> None:
        super().__init__(f"No fixed IP addresses available for network: {network_id}")


def mac_address(seq: int) -> str:
    n = seq % (1 << 24)
    return f"{MAC_PREFIX}:{(n >> 16) & 0xFF:02x}:{(n >> 8) & 0xFF:02x}:{n & 0xFF:02x}"


class Network(Aggregate):
    TOPIC = "Network"
    SNAPSHOT_EVERY = 50  # every allocation and release is an event on this one stream

    class Created(Aggregate.Created):
        TOPIC = "NetworkCreated"
        name: str
        cidr: str
        gateway: str
        subnet_id: str

        def apply(self, n: Network) -> None:
            n.name = self.name
            n.cidr = self.cidr
            n.gateway = self.gateway
            n.subnet_id = self.subnet_id
            n.ports = {}
            n.used = {}
            n.cursor = 0
            n.mac_seq = 0

    class PortsAllocated(Aggregate.Event):
        """New ports: each {"port_id", "server_id", "mac", "ips", "status"} (ACTIVE once
        plugged, as a boot port is at spawn; DOWN while an attach is under way)."""

        TOPIC = "NetworkPortsAllocated"
        ports: list[dict[str, Any]]

        def apply(self, n: Network) -> None:
            for port in self.ports:
                n.ports[port["port_id"]] = {"server_id": port["server_id"],
                                            "mac": port["mac"], "ips": list(port["ips"]),
                                            "status": port["status"]}
                for ip in port["ips"]:
                    n.used[ip] = port["port_id"]
                    n.cursor = max(n.cursor, n.offset(ip))
            n.mac_seq += len(self.ports)

    class FixedIpAdded(Aggregate.Event):
        TOPIC = "NetworkFixedIpAdded"
        port_id: str
        address: str

        def apply(self, n: Network) -> None:
            port = n.ports[self.port_id]
            n.ports[self.port_id] = {**port, "ips": [*port["ips"], self.address]}
            n.used[self.address] = self.port_id
            n.cursor = max(n.cursor, n.offset(self.address))

    class FixedIpReleased(Aggregate.Event):
        TOPIC = "NetworkFixedIpReleased"
        port_id: str
        address: str

        def apply(self, n: Network) -> None:
            port = n.ports[self.port_id]
            n.ports[self.port_id] = {**port,
                                     "ips": [i for i in port["ips"] if i != self.address]}
            n.used.pop(self.address, None)

    class PortsReleased(Aggregate.Event):
        TOPIC = "NetworkPortsReleased"
        port_ids: list[str]

        def apply(self, n: Network) -> None:
            for port_id in self.port_ids:
                port = n.ports.pop(port_id, None)
                for ip in port["ips"] if port else []:
                    n.used.pop(ip, None)

    name: str
    cidr: str
    gateway: str
    subnet_id: str
    ports: dict[str, dict[str, Any]]  # port id -> {"server_id", "mac", "ips", "status"}
    used: dict[str, str]  # address -> port id
    cursor: int  # the offset (in the CIDR) of the highest address handed out lately
    mac_seq: int  # how many ports were ever made (each got the next MAC)

    def __init__(self) -> None:
        pass

    @classmethod
    def create_default(cls, now: dt.datetime) -> Network:
        net = ipaddress.ip_network(DEFAULT_CIDR)
        return cls._create(cls.Created, id=DEFAULT_NETWORK_ID, name=DEFAULT_NAME,
                           cidr=DEFAULT_CIDR, gateway=str(net.network_address + 1),
                           subnet_id=str(stable_id("subnet", DEFAULT_NAME, DEFAULT_CIDR)),
                           timestamp=now)

    # -- queries -----------------------------------------------------------------------

    def _net(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        return ipaddress.ip_network(self.cidr)

    def offset(self, address: str) -> int:
        return int(ipaddress.ip_address(address)) - int(self._net().network_address)

    def _assignable(self, offset: int) -> bool:
        """Host addresses only: not the network, the gateway or the broadcast address."""
        return 1 < offset < self._net().num_addresses - 1

    def capacity(self) -> int:
        return self._net().num_addresses - 3 - len(self.used)

    def contains(self, address: str) -> bool:
        try:
            return ipaddress.ip_address(address) in self._net()
        except ValueError:
            return False

    def port_of(self, address: str) -> str | None:
        return self.used.get(address)

    def _next_free(self, after: int) -> tuple[int, str]:
        """The first free address after offset ``after`` (wrapping round once)."""
        net = self._net()
        size = net.num_addresses
        for step in range(1, size):
            offset = (after + step) % size
            if not self._assignable(offset):
                continue
            address = str(net.network_address + offset)
            if address not in self.used:
                return offset, address
        raise NoMoreFixedIps(str(self.id))

    def _check_requested(self, address: str) -> None:
        if not self.contains(address) or not self._assignable(self.offset(address)):
            raise Invalid(f"IP {address} is not a valid IP for network {self.id}.")
        if address in self.used:
            owner = self.ports[self.used[address]]["server_id"]
            raise Conflict(f"Fixed IP address {address} is already in use on instance "
                           f"{owner}.")

    # -- decisions ---------------------------------------------------------------------

    def allocate(self, requests: list[tuple[str, str]], now: dt.datetime,
                 address: str | None = None, status: str = "ACTIVE") -> list[dict[str, Any]]:
        """New ports, one per (port id, server id), each with the next free address (or
        ``address`` for a single request); recorded as one event."""
        if not requests:
            return []
        if address is not None:
            self._check_requested(address)
        elif len(requests) > self.capacity():
            raise NoMoreFixedIps(str(self.id))
        cursor = self.cursor
        ports = []
        for i, (port_id, server_id) in enumerate(requests):
            if address is not None:
                ip = address
            else:
                cursor, ip = self._next_free(cursor)
            ports.append({"port_id": port_id, "server_id": server_id,
                          "mac": mac_address(self.mac_seq + i), "ips": [ip],
                          "status": status})
        self.trigger_event(self.PortsAllocated, ports=ports, timestamp=now)
        return ports

    def add_fixed_ip(self, port_id: str, now: dt.datetime) -> str:
        address = self._next_free(self.cursor)[1]
        self.trigger_event(self.FixedIpAdded, port_id=port_id, address=address, timestamp=now)
        return address

    def release_fixed_ip(self, port_id: str, address: str, now: dt.datetime) -> None:
        if self.used.get(address) == port_id:
            self.trigger_event(self.FixedIpReleased, port_id=port_id, address=address,
                               timestamp=now)

    def release_ports(self, port_ids: list[str], now: dt.datetime) -> None:
        mine = [p for p in port_ids if p in self.ports]
        if mine:
            self.trigger_event(self.PortsReleased, port_ids=mine, timestamp=now)

    def describe(self) -> dict[str, str]:
        """What a server's interface records of its network."""
        return {"net_id": str(self.id), "net_name": self.name, "subnet_id": self.subnet_id}
