"""Commands on the image catalog: register, metadata, delete.

Imperative names; each is handled by exactly one function (``control_plane.service.bus``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from control_plane.domain.base import Command


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

