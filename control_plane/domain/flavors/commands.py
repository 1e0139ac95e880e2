"""Commands on flavors: create, delete, extra specs, access lists.

Imperative names; each is handled by exactly one function (``control_plane.service.bus``).
"""

from __future__ import annotations

from dataclasses import dataclass

from control_plane.domain.base import Command


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

