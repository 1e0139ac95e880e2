"""Identity aggregates (a Keystone v3 subset): users, projects with role grants, roles.

The aggregates refuse what the identity views cannot hold (wrong types, strings past
Keystone's lengths, NUL characters): an event they accept is always projectable, so a
bad request can never pause the projection that token validation depends on.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from eventsourcing.domain import Aggregate

from control_plane.domain.errors import Invalid, NotFound

ID, NAME, EMAIL, DESCRIPTION, ROLE_DESCRIPTION = 64, 255, 255, 65535, 255

# field -> (longest, may be None); booleans are named apart
USER_FIELDS = {"name": (NAME, False), "domain_id": (ID, False), "email": (EMAIL, True),
               "description": (DESCRIPTION, True), "default_project_id": (ID, True)}
PROJECT_FIELDS = {"name": (NAME, False), "domain_id": (ID, False),
                  "description": (DESCRIPTION, True)}
ROLE_FIELDS = {"name": (NAME, False), "description": (ROLE_DESCRIPTION, True)}


def check_text(field: str, value: Any, longest: int, nullable: bool = False) -> None:
    """Refuse a value the views cannot store as this field."""
    if value is None and nullable:
        return
    if not isinstance(value, str):
        raise Invalid(f"Invalid input for field '{field}': expected a string")
    if len(value) > longest or "\x00" in value:
        raise Invalid(f"Invalid input for field '{field}': at most {longest} characters, "
                         "and no NUL")
    if field in ("name", "domain_id") and not value.strip():
        raise Invalid(f"Invalid input for field '{field}': must not be blank")


def check_fields(values: dict[str, Any], fields: dict[str, tuple[int, bool]],
                 booleans: tuple[str, ...] = ("enabled",)) -> None:
    """Refuse unknown fields and values of the wrong type or size."""
    for key, value in values.items():
        if key in booleans:
            if not isinstance(value, bool):
                raise Invalid(f"Invalid input for field '{key}': expected a boolean")
        elif key in fields:
            check_text(key, value, *fields[key])
        else:
            raise Invalid(f"Invalid input for field '{key}': not an attribute here")


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
        check_fields({k: v for k, v in fields.items() if k != "password_hash"}, USER_FIELDS)
        check_text("password_hash", fields.get("password_hash"), 1024, nullable=True)
        return cls._create(cls.Created, id=user_id, timestamp=now, **fields)

    def update(self, changes: dict[str, Any], now: dt.datetime) -> None:
        check_fields(changes, {k: v for k, v in USER_FIELDS.items() if k != "domain_id"})
        if changes:
            self.trigger_event(self.Updated, changes=changes, timestamp=now)

    def change_password(self, password_hash: str, now: dt.datetime) -> None:
        check_text("password_hash", password_hash, 1024)
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
        check_fields(fields, PROJECT_FIELDS)
        return cls._create(cls.Created, id=project_id, timestamp=now, **fields)

    def update(self, changes: dict[str, Any], now: dt.datetime) -> None:
        check_fields(changes, {k: v for k, v in PROJECT_FIELDS.items() if k != "domain_id"})
        if changes:
            self.trigger_event(self.Updated, changes=changes, timestamp=now)

    def grant(self, user_id: str, role_id: str, now: dt.datetime) -> None:
        check_text("user_id", user_id, ID)
        check_text("role_id", role_id, ID)
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
        check_fields(fields, ROLE_FIELDS, booleans=())
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
        check_text("audit_id", fields.get("audit_id"), ID)
        check_text("user_id", fields.get("user_id"), ID)
        try:
            dt.datetime.fromisoformat(fields.get("expires_at"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise Invalid("Invalid input for field 'expires_at': expected a time") from None
        return cls._create(cls.Created, id=stream_id, timestamp=now, **fields)

