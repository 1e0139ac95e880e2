"""Commands on consoles: console authorizations and XVP console records.

Imperative names; each is handled by exactly one function (``control_plane.service.bus``).
"""

from __future__ import annotations

from dataclasses import dataclass

from control_plane.domain.base import Command


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

