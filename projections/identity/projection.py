"""Identity views: users, projects, roles, role assignments, revoked tokens."""

from __future__ import annotations

import asyncpg

from control_plane.store.eventstore import RecordedEvent
from projections.base import Projection, on
from projections.util import ts


class IdentityProjection(Projection):
    name = "identity"
    tables = ("v_users", "v_projects", "v_roles", "v_assignments", "v_revoked_tokens")
    schema = """
    CREATE TABLE IF NOT EXISTS v_users (
        id text PRIMARY KEY,
        name text NOT NULL,
        domain_id text NOT NULL,
        password_hash text,
        enabled boolean NOT NULL,
        email text,
        description text,
        default_project_id text,
        created_at timestamptz NOT NULL,
        UNIQUE (domain_id, name)
    );
    CREATE TABLE IF NOT EXISTS v_projects (
        id text PRIMARY KEY,
        name text NOT NULL,
        domain_id text NOT NULL,
        description text,
        enabled boolean NOT NULL,
        created_at timestamptz NOT NULL,
        UNIQUE (domain_id, name)
    );
    CREATE TABLE IF NOT EXISTS v_roles (
        id text PRIMARY KEY,
        name text NOT NULL UNIQUE,
        description text
    );
    CREATE TABLE IF NOT EXISTS v_assignments (
        project_id text NOT NULL,
        user_id text NOT NULL,
        role_id text NOT NULL,
        PRIMARY KEY (project_id, user_id, role_id)
    );
    CREATE INDEX IF NOT EXISTS v_assignments_user_idx ON v_assignments (user_id);
    CREATE TABLE IF NOT EXISTS v_revoked_tokens (
        audit_id text PRIMARY KEY,
        user_id text NOT NULL,
        expires_at timestamptz NOT NULL
    );
    """

    @on("UserCreated")
    async def user_created(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        d = e.data
        await conn.execute(
            """INSERT INTO v_users (id, name, domain_id, password_hash, enabled, email,
               description, default_project_id, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)""",
            e.stream_id.replace("-", ""), d["name"], d["domain_id"], d["password_hash"],
            d["enabled"], d["email"], d["description"], d["default_project_id"], ts(e))

    @on("UserUpdated")
    async def user_updated(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        changes = e.data["changes"]
        cols = [c for c in ("name", "enabled", "email", "description", "default_project_id")
                if c in changes]
        if cols:
            sets = ", ".join(f"{c} = ${i}" for i, c in enumerate(cols, start=2))
            await conn.execute(f"UPDATE v_users SET {sets} WHERE id = $1",
                               e.stream_id.replace("-", ""), *[changes[c] for c in cols])

    @on("UserPasswordChanged")
    async def password_changed(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await conn.execute("UPDATE v_users SET password_hash = $2 WHERE id = $1",
                           e.stream_id.replace("-", ""), e.data["password_hash"])

    @on("UserDeleted")
    async def user_deleted(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        uid = e.stream_id.replace("-", "")
        await conn.execute("DELETE FROM v_users WHERE id = $1", uid)
        await conn.execute("DELETE FROM v_assignments WHERE user_id = $1", uid)

    @on("ProjectCreated")
    async def project_created(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        d = e.data
        await conn.execute(
            """INSERT INTO v_projects (id, name, domain_id, description, enabled, created_at)
               VALUES ($1,$2,$3,$4,$5,$6)""",
            e.stream_id.replace("-", ""), d["name"], d["domain_id"], d["description"],
            d["enabled"], ts(e))

    @on("ProjectUpdated")
    async def project_updated(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        changes = e.data["changes"]
        cols = [c for c in ("name", "enabled", "description") if c in changes]
        if cols:
            sets = ", ".join(f"{c} = ${i}" for i, c in enumerate(cols, start=2))
            await conn.execute(f"UPDATE v_projects SET {sets} WHERE id = $1",
                               e.stream_id.replace("-", ""), *[changes[c] for c in cols])

    @on("ProjectDeleted")
    async def project_deleted(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        pid = e.stream_id.replace("-", "")
        await conn.execute("DELETE FROM v_projects WHERE id = $1", pid)
        await conn.execute("DELETE FROM v_assignments WHERE project_id = $1", pid)

    @on("RoleGranted")
    async def granted(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await conn.execute(
            "INSERT INTO v_assignments VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            e.stream_id.replace("-", ""), e.data["user_id"], e.data["role_id"])

    @on("RoleRevoked")
    async def revoked(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await conn.execute(
            "DELETE FROM v_assignments WHERE project_id = $1 AND user_id = $2 AND role_id = $3",
            e.stream_id.replace("-", ""), e.data["user_id"], e.data["role_id"])

    @on("RoleCreated")
    async def role_created(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await conn.execute("INSERT INTO v_roles VALUES ($1, $2, $3)",
                           e.stream_id.replace("-", ""), e.data["name"], e.data["description"])

    @on("RoleDeleted")
    async def role_deleted(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        rid = e.stream_id.replace("-", "")
        await conn.execute("DELETE FROM v_roles WHERE id = $1", rid)
        await conn.execute("DELETE FROM v_assignments WHERE role_id = $1", rid)

    @on("TokenRevoked")
    async def token_revoked(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await conn.execute(
            "INSERT INTO v_revoked_tokens VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            e.data["audit_id"], e.data["user_id"], ts(e, "expires_at"))
