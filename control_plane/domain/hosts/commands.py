"""Commands on compute hosts: a compute worker registers its hypervisor.

Imperative names; each is handled by exactly one function (``control_plane.service.bus``).
"""

from __future__ import annotations

from dataclasses import dataclass

from control_plane.domain.base import Command


@dataclass(frozen=True)
class RegisterComputeHost(Command):
    host: str
    hypervisor_type: str
    vcpus: int
    memory_mb: int
    local_gb: int
    availability_zone: str

