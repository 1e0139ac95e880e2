"""Commands on keypairs: create (generate or import) and delete.

Imperative names; each is handled by exactly one function (``control_plane.service.bus``).
"""

from __future__ import annotations

from dataclasses import dataclass

from control_plane.domain.base import Command


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

