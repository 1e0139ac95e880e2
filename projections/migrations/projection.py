"""Migration records (os-migrations): one row per move of a server, from its events.

A move is opened by a resize, a cold migration, a live migration or an evacuation,
and its status follows the events that come after it, as Nova's statuses go:
resize/migration  pre-migrating -> migrating -> finished -> confirmed | reverting -> reverted
                  (error when no host was found)
live-migration    running -> completed | failed
evacuation        accepted -> done | failed
A row's id is the log position of the event that opened it, so a rebuild gives the
same ids. The projection keeps its own record of each server's host and flavor
(v_migration_servers), so it never reads another view and rebuilds on its own.
"""

from __future__ import annotations

import zlib
from typing import Any

import asyncpg

from control_plane.store.eventstore import RecordedEvent
from projections.base import Projection, on
from projections.util import ts

# event -> status of the server's latest migration after it
_STATUS = {"ServerResizeScheduled": "migrating", "ServerResized": "finished",
           "ServerResizeConfirmed": "confirmed", "ServerRevertResizeRequested": "reverting",
           "ServerResizeReverted": "reverted", "ServerResizeFailed": "error",
           "ServerLiveMigrated": "completed", "ServerLiveMigrationFailed": "failed",
           "ServerEvacuated": "done", "ServerEvacuationFailed": "failed"}


def flavor_number(flavor: dict[str, Any] | None) -> int | None:
    """Nova reports flavors by their internal integer id: the flavor id when it is a
    number the bigint columns hold, else a stable 31-bit checksum of it."""
    if not flavor:
        return None
    fid = str(flavor.get("id", ""))
    if fid.isascii() and fid.isdigit() and int(fid) <= 2**63 - 1:
        return int(fid)
    return zlib.crc32(fid.encode()) & 0x7FFFFFFF


class MigrationsProjection(Projection):
    name = "migrations"
    tables = ("v_migrations", "v_migration_servers")
    schema = """
    CREATE TABLE IF NOT EXISTS v_migrations (
        id bigint PRIMARY KEY,
        instance_uuid uuid NOT NULL,
        project_id text,
        user_id text,
        migration_type text NOT NULL,
        status text NOT NULL,
        source_compute text,
        source_node text,
        dest_compute text,
        dest_node text,
        dest_host text,
        old_instance_type_id bigint,
        new_instance_type_id bigint,
        created_at timestamptz NOT NULL,
        updated_at timestamptz
    );
    CREATE INDEX IF NOT EXISTS v_migrations_instance_idx ON v_migrations (instance_uuid, id);
    CREATE TABLE IF NOT EXISTS v_migration_servers (
        id uuid PRIMARY KEY,
        host text,
        flavor bigint
    );
    """

    @on("ServerCreated")
    async def created(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await conn.execute("INSERT INTO v_migration_servers (id, flavor) VALUES ($1, $2)"
                           " ON CONFLICT (id) DO NOTHING", e.stream_id,
                           flavor_number(e.data["flavor"]))

    @on("ServerScheduled", "ServerUnshelveScheduled", "ServerShelveOffloaded")
    async def placed(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        host = None if e.event_type == "ServerShelveOffloaded" else e.data["host"]
        await conn.execute("UPDATE v_migration_servers SET host = $2 WHERE id = $1",
                           e.stream_id, host)

    async def _open(self, conn: asyncpg.Connection, e: RecordedEvent, kind: str, status: str,
                    source: str | None, dest: str | None, old: Any, new: Any) -> None:
        await conn.execute(
            """INSERT INTO v_migrations (id, instance_uuid, project_id, user_id, migration_type,
                status, source_compute, source_node, dest_compute, dest_node, dest_host,
                old_instance_type_id, new_instance_type_id, created_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $8, $9, $10, $11, $12)
               ON CONFLICT (id) DO NOTHING""",
            e.position, e.stream_id, e.metadata.get("project_id"), e.metadata.get("user_id"),
            kind, status, source, dest, "127.0.0.1" if dest else None, old, new, ts(e))

    async def _server(self, conn: asyncpg.Connection, e: RecordedEvent) -> asyncpg.Record:
        return await conn.fetchrow("SELECT host, flavor FROM v_migration_servers"
                                   " WHERE id = $1", e.stream_id)

    @on("ServerResizeRequested", "ServerMigrateRequested")
    async def resize(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        row = await self._server(conn, e)
        kind = "migration" if e.event_type == "ServerMigrateRequested" else "resize"
        await self._open(conn, e, kind, "pre-migrating", row["host"] if row else None, None,
                         row["flavor"] if row else None, flavor_number(e.data["flavor"]))

    @on("ServerLiveMigrationStarted", "ServerEvacuationStarted")
    async def move(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        row = await self._server(conn, e)
        number = row["flavor"] if row else None
        live = e.event_type == "ServerLiveMigrationStarted"
        await self._open(conn, e, "live-migration" if live else "evacuation",
                         "running" if live else "accepted", e.data["source"], e.data["dest"],
                         number, number)

    @on(*_STATUS)
    async def status(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        dest = e.data.get("host") if e.event_type == "ServerResizeScheduled" else None
        await conn.execute(
            """UPDATE v_migrations SET status = $2, updated_at = $3,
                 dest_compute = coalesce($4, dest_compute), dest_node = coalesce($4, dest_node),
                 dest_host = CASE WHEN $4::text IS NULL THEN dest_host ELSE '127.0.0.1' END
               WHERE id = (SELECT max(id) FROM v_migrations WHERE instance_uuid = $1)""",
            e.stream_id, _STATUS[e.event_type], ts(e), dest)
        # where the server is, and with which flavor, after a move ends
        latest = """(SELECT {} FROM v_migrations WHERE instance_uuid = $1
                     ORDER BY id DESC LIMIT 1)"""
        if e.event_type in ("ServerResized", "ServerLiveMigrated", "ServerEvacuated"):
            await conn.execute(
                "UPDATE v_migration_servers SET host = " + latest.format("dest_compute") +
                ", flavor = " + latest.format("new_instance_type_id") + " WHERE id = $1",
                e.stream_id)
        elif e.event_type == "ServerResizeReverted":
            await conn.execute(
                "UPDATE v_migration_servers SET host = " + latest.format("source_compute") +
                ", flavor = " + latest.format("old_instance_type_id") + " WHERE id = $1",
                e.stream_id)
