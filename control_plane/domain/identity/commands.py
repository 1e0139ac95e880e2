"""Commands on identity: users, projects, roles, role grants, token revocation.

Imperative names; each is handled by exactly one function (``control_plane.service.bus``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from control_plane.domain.base import Command


@dataclass(frozen=True)
class CreateUser(Command):
    name: str
    domain_id: str = "default"
    password: str | None = None
    enabled: bool = True
    email: str | None = None
    description: str | None = None
    default_project_id: str | None = None
    user_id: str | None = None


@dataclass(frozen=True)
class UpdateUser(Command):
    user_id: str
    changes: dict[str, Any]
    password: str | None = None


@dataclass(frozen=True)
class DeleteUser(Command):
    user_id: str


@dataclass(frozen=True)
class CreateProject(Command):
    name: str
    domain_id: str = "default"
    description: str | None = None
    enabled: bool = True
    project_id: str | None = None


@dataclass(frozen=True)
class UpdateProject(Command):
    project_id: str
    changes: dict[str, Any]


@dataclass(frozen=True)
class DeleteProject(Command):
    project_id: str


@dataclass(frozen=True)
class CreateRole(Command):
    name: str
    description: str | None = None


@dataclass(frozen=True)
class DeleteRole(Command):
    role_id: str


@dataclass(frozen=True)
class GrantRole(Command):
    project_id: str
    user_id: str
    role_id: str


@dataclass(frozen=True)
class RevokeRole(Command):
    project_id: str
    user_id: str
    role_id: str


@dataclass(frozen=True)
class RevokeToken(Command):
    audit_id: str
    user_id: str
    expires_at: str

