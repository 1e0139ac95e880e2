"""Identity aggregates (a Keystone v3 subset): users, projects with role grants, roles."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from eventsourcing.domain import Aggregate

from control_plane.domain.base import register
from control_plane.faults import NotFound


class User(Aggregate):
    TOPIC = "User"

    class Created(Aggregate.Created):
        TOPIC = "UserCreated"
        name: str
        domain_id: str
        password_hash: str | None
        enabled: bool
        email: str | None
        description: str | None
        default_project_id: str | None

        def apply(self, u: User) -> None:
            u.name = self.name
            u.domain_id = self.domain_id
            u.enabled = self.enabled
            u.deleted = False

    class Updated(Aggregate.Event):
        TOPIC = "UserUpdated"
        changes: dict[str, Any]

        def apply(self, u: User) -> None:
            for key in ("name", "enabled"):
                if key in self.changes:
                    setattr(u, key, self.changes[key])

    class PasswordChanged(Aggregate.Event):
        TOPIC = "UserPasswordChanged"
        password_hash: str

    class Deleted(Aggregate.Event):
        TOPIC = "UserDeleted"

        def apply(self, u: User) -> None:
            u.deleted = True

    name: str
    domain_id: str
    enabled: bool
    deleted: bool

    def __init__(self) -> None:
        pass

    @classmethod
    def create(cls, user_id: uuid.UUID, now: dt.datetime, **fields: Any) -> User:
        return cls._create(cls.Created, id=user_id, timestamp=now, **fields)

    def update(self, changes: dict[str, Any], now: dt.datetime) -> None:
        if changes:
            self.trigger_event(self.Updated, changes=changes, timestamp=now)

    def change_password(self, password_hash: str, now: dt.datetime) -> None:
        self.trigger_event(self.PasswordChanged, password_hash=password_hash, timestamp=now)

    def delete(self, now: dt.datetime) -> None:
        self.trigger_event(self.Deleted, timestamp=now)


class Project(Aggregate):
    TOPIC = "Project"

    class Created(Aggregate.Created):
        TOPIC = "ProjectCreated"
        name: str
        domain_id: str
        description: str | None
        enabled: bool

        def apply(self, p: Project) -> None:
            p.name = self.name
            p.domain_id = self.domain_id
            p.grants = set()
            p.deleted = False

    class Updated(Aggregate.Event):
        TOPIC = "ProjectUpdated"
        changes: dict[str, Any]

        def apply(self, p: Project) -> None:
            if "name" in self.changes:
                p.name = self.changes["name"]

    class RoleGranted(Aggregate.Event):
        TOPIC = "RoleGranted"
        user_id: str
        role_id: str

        def apply(self, p: Project) -> None:
            p.grants.add((self.user_id, self.role_id))

    class RoleRevoked(Aggregate.Event):
        TOPIC = "RoleRevoked"
        user_id: str
        role_id: str

        def apply(self, p: Project) -> None:
            p.grants.discard((self.user_id, self.role_id))

    class Deleted(Aggregate.Event):
        TOPIC = "ProjectDeleted"

        def apply(self, p: Project) -> None:
            p.deleted = True

    name: str
    domain_id: str
    grants: set[tuple[str, str]]
    deleted: bool

    def __init__(self) -> None:
        pass

    @classmethod
    def create(cls, project_id: uuid.UUID, now: dt.datetime, **fields: Any) -> Project:
        return cls._create(cls.Created, id=project_id, timestamp=now, **fields)

    def update(self, changes: dict[str, Any], now: dt.datetime) -> None:
        if changes:
            self.trigger_event(self.Updated, changes=changes, timestamp=now)

    def grant(self, user_id: str, role_id: str, now: dt.datetime) -> None:
        if (user_id, role_id) not in self.grants:
            self.trigger_event(self.RoleGranted, user_id=user_id, role_id=role_id, timestamp=now)

    def revoke(self, user_id: str, role_id: str, now: dt.datetime) -> None:
        if (user_id, role_id) not in self.grants:
            raise NotFound(f"Could not find role assignment with role: {role_id}, user or "
                           f"group: {user_id}, project, domain, or system: {self.id}.")
        self.trigger_event(self.RoleRevoked, user_id=user_id, role_id=role_id, timestamp=now)

    def delete(self, now: dt.datetime) -> None:
        self.trigger_event(self.Deleted, timestamp=now)


class Role(Aggregate):
    TOPIC = "Role"

    class Created(Aggregate.Created):
        TOPIC = "RoleCreated"
        name: str
        description: str | None

        def apply(self, r: Role) -> None:
            r.name = self.name
            r.deleted = False

    class Deleted(Aggregate.Event):
        TOPIC = "RoleDeleted"

        def apply(self, r: Role) -> None:
            r.deleted = True

    name: str
    deleted: bool

    def __init__(self) -> None:
        pass

    @classmethod
    def create(cls, role_id: uuid.UUID, now: dt.datetime, **fields: Any) -> Role:
        return cls._create(cls.Created, id=role_id, timestamp=now, **fields)

    def delete(self, now: dt.datetime) -> None:
        self.trigger_event(self.Deleted, timestamp=now)


class RevokedToken(Aggregate):
    """A revoked token, by its audit id (one short stream per revocation)."""

    TOPIC = "RevokedToken"

    class Created(Aggregate.Created):
        TOPIC = "TokenRevoked"
        audit_id: str
        user_id: str
        expires_at: str

    def __init__(self) -> None:
        pass

    @classmethod
    def revoke(cls, stream_id: uuid.UUID, now: dt.datetime, **fields: Any) -> RevokedToken:
        return cls._create(cls.Created, id=stream_id, timestamp=now, **fields)


for _cls in (User, Project, Role, RevokedToken):
    register(_cls)
