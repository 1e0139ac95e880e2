"""The default floating-IP pool ("public") and which server each address is bound to.

One aggregate per pool, so an address cannot be bound to two servers at once: both
binders append to the pool's stream and the loser's append fails on the version.
Binding an address nobody holds takes it for the server's project (there is no
allocation API yet: full networking comes later); unbinding an address taken that
way gives it back to the pool. ``allocated`` marks addresses a project holds on
purpose (the future os-floating-ips allocation), which stay with it when unbound.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import uuid
from typing import Any

from eventsourcing.domain import Aggregate

from control_plane.domain.base import stable_id
from control_plane.domain.errors import Invalid, NotFound, NotPermitted

DEFAULT_POOL = "public"
DEFAULT_POOL_CIDR = "172.24.4.0/24"


def pool_stream_id(name: str) -> uuid.UUID:
    return stable_id("floating-ip-pool", name)


DEFAULT_POOL_ID = pool_stream_id(DEFAULT_POOL)


class FloatingIpPool(Aggregate):
    TOPIC = "FloatingIpPool"
    SNAPSHOT_EVERY = 50

    class Created(Aggregate.Created):
        TOPIC = "FloatingIpPoolCreated"
        name: str
        cidr: str

        def apply(self, p: FloatingIpPool) -> None:
            p.name = self.name
            p.cidr = self.cidr
            p.addresses = {}

    class Associated(Aggregate.Event):
        TOPIC = "FloatingIpAssociated"
        address: str
        project_id: str
        server_id: str
        fixed_address: str
        port_id: str

        def apply(self, p: FloatingIpPool) -> None:
            held = p.addresses.get(self.address, {})
            p.addresses[self.address] = {
                "project_id": self.project_id, "allocated": held.get("allocated", False),
                "server_id": self.server_id, "fixed_address": self.fixed_address,
                "port_id": self.port_id}

    class Disassociated(Aggregate.Event):
        TOPIC = "FloatingIpDisassociated"
        address: str
        server_id: str

        def apply(self, p: FloatingIpPool) -> None:
            held = p.addresses.get(self.address)
            if held is None:
                return
            if held.get("allocated"):
                p.addresses[self.address] = {**held, "server_id": None,
                                             "fixed_address": None, "port_id": None}
            else:
                del p.addresses[self.address]

    name: str
    cidr: str
    # address -> {"project_id", "allocated", "server_id", "fixed_address", "port_id"}
    addresses: dict[str, dict[str, Any]]

    def __init__(self) -> None:
        pass

    @classmethod
    def create_default(cls, now: dt.datetime) -> FloatingIpPool:
        return cls._create(cls.Created, id=DEFAULT_POOL_ID, name=DEFAULT_POOL,
                           cidr=DEFAULT_POOL_CIDR, timestamp=now)

    def in_pool(self, address: str) -> bool:
        net = ipaddress.ip_network(self.cidr)
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        # not the network, its gateway (.1) or the broadcast address
        return ip in net and 1 < int(ip) - int(net.network_address) < net.num_addresses - 1

    def bound_to(self, address: str) -> str | None:
        """The server the address is associated with, if any."""
        held = self.addresses.get(address)
        return held.get("server_id") if held else None

    def associate(self, address: str, project_id: str, admin: bool, server_id: str,
                  fixed_address: str, port_id: str, now: dt.datetime) -> bool:
        """Bind the address to the server's fixed address; False if it already is."""
        if not self.in_pool(address):
            raise NotFound("floating IP not found")
        held = self.addresses.get(address)
        if held is not None:
            if held["project_id"] != project_id and not admin:
                raise NotPermitted("NotPermitted")  # Nova: the address is another project's
            if held.get("server_id"):
                if held["server_id"] == server_id and held["fixed_address"] == fixed_address:
                    return False
                raise Invalid("floating IP is already associated")
        self.trigger_event(self.Associated, address=address, project_id=project_id,
                           server_id=server_id, fixed_address=fixed_address, port_id=port_id,
                           timestamp=now)
        return True

    def disassociate(self, address: str, server_id: str, now: dt.datetime) -> None:
        if self.bound_to(address) == server_id:
            self.trigger_event(self.Disassociated, address=address, server_id=server_id,
                               timestamp=now)
