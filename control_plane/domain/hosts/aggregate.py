"""The ComputeHost aggregate: a hypervisor's capacity and the resources claimed on it."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from eventsourcing.domain import Aggregate

from control_plane.domain.base import stable_id


class NoCapacity(Exception):
    pass


def host_stream_id(host: str) -> uuid.UUID:
    return stable_id("host", host)


class ComputeHost(Aggregate):
    TOPIC = "ComputeHost"
    SNAPSHOT_EVERY = 50  # a host's stream grows by two events per server it has run

    class Created(Aggregate.Created):
        TOPIC = "ComputeHostRegistered"
        host: str
        hypervisor_type: str
        vcpus: int
        memory_mb: int
        local_gb: int
        availability_zone: str

        def apply(self, h: ComputeHost) -> None:
            h.host = self.host
            h.hypervisor_type = self.hypervisor_type
            h.vcpus = self.vcpus
            h.memory_mb = self.memory_mb
            h.local_gb = self.local_gb
            h.availability_zone = self.availability_zone
            h.claims = {}

    class Reconfigured(Aggregate.Event):
        TOPIC = "ComputeHostReconfigured"
        hypervisor_type: str
        vcpus: int
        memory_mb: int
        local_gb: int
        availability_zone: str

        def apply(self, h: ComputeHost) -> None:
            h.hypervisor_type = self.hypervisor_type
            h.vcpus = self.vcpus
            h.memory_mb = self.memory_mb
            h.local_gb = self.local_gb
            h.availability_zone = self.availability_zone

    class ResourcesClaimed(Aggregate.Event):
        TOPIC = "ResourcesClaimed"
        server_id: str
        vcpus: int
        memory_mb: int
        disk_gb: int

        def apply(self, h: ComputeHost) -> None:
            h.claims[self.server_id] = {
                "vcpus": self.vcpus, "memory_mb": self.memory_mb, "disk_gb": self.disk_gb
            }

    class ResourcesReleased(Aggregate.Event):
        TOPIC = "ResourcesReleased"
        server_id: str

        def apply(self, h: ComputeHost) -> None:
            h.claims.pop(self.server_id, None)

    host: str
    hypervisor_type: str
    vcpus: int
    memory_mb: int
    local_gb: int
    availability_zone: str
    claims: dict[str, dict[str, int]]

    def __init__(self) -> None:
        pass

    @classmethod
    def register_host(cls, now: dt.datetime, **fields: Any) -> ComputeHost:
        return cls._create(cls.Created, id=host_stream_id(fields["host"]), timestamp=now,
                           **fields)

    def reconfigure(self, now: dt.datetime, **fields: Any) -> None:
        current = {k: getattr(self, k) for k in fields}
        if current != fields:
            self.trigger_event(self.Reconfigured, timestamp=now, **fields)

    def used(self) -> dict[str, int]:
        return {
            k: sum(c[k] for c in self.claims.values())
            for k in ("vcpus", "memory_mb", "disk_gb")
        }

    def fits(self, vcpus: int, memory_mb: int, disk_gb: int) -> bool:
        used = self.used()
        return (
            used["vcpus"] + vcpus <= self.vcpus
            and used["memory_mb"] + memory_mb <= self.memory_mb
            and used["disk_gb"] + disk_gb <= self.local_gb
        )

    def claim(self, server_id: str, vcpus: int, memory_mb: int, disk_gb: int,
              now: dt.datetime) -> None:
        if server_id in self.claims:
            return
        if not self.fits(vcpus, memory_mb, disk_gb):
            raise NoCapacity(self.host)
        self.trigger_event(self.ResourcesClaimed, server_id=server_id, vcpus=vcpus,
                           memory_mb=memory_mb, disk_gb=disk_gb, timestamp=now)

    def release(self, server_id: str, now: dt.datetime) -> None:
        if server_id in self.claims:
            self.trigger_event(self.ResourcesReleased, server_id=server_id, timestamp=now)



def best_host(hosts: list[ComputeHost], vcpus: int, memory_mb: int, disk_gb: int,
              zone: str | None = None) -> ComputeHost | None:
    """The placement policy: of the hosts with room (in ``zone``, if given), the one with
    the most free RAM; ties go to the host name. None when nothing fits."""
    fitting = [h for h in hosts if h.fits(vcpus, memory_mb, disk_gb)
               and (zone is None or h.availability_zone == zone)]
    if not fitting:
        return None
    return max(fitting, key=lambda h: (h.memory_mb - h.used()["memory_mb"], h.host))
