"""The console views: live console tokens (os-console-auth-tokens) and XVP consoles
(os-consoles).

A token row holds only the token's SHA-256 hash. Tokens are dropped when their server
is deleted or moves to another host (live migration, evacuation), as Nova cleans them
then; expired ones are dropped whenever a new token is issued (by the new event's own
time, so a rebuild gives the same rows). Readers still check ``expires_at``.
"""

from __future__ import annotations

import asyncpg

from control_plane.store.eventstore import RecordedEvent
from projections.base import Projection, on
from projections.util import ts


class ConsolesProjection(Projection):
    name = "consoles"
    tables = ("v_console_tokens", "v_consoles")
    schema = """
    CREATE TABLE IF NOT EXISTS v_console_tokens (
        token_hash text PRIMARY KEY,
        instance_uuid uuid NOT NULL,
        console_type text NOT NULL,
        host text NOT NULL,
        port int NOT NULL,
        internal_access_path text,
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL
    );
    CREATE INDEX IF NOT EXISTS v_console_tokens_instance_idx
        ON v_console_tokens (instance_uuid);
    CREATE INDEX IF NOT EXISTS v_console_tokens_expires_idx ON v_console_tokens (expires_at);
    CREATE TABLE IF NOT EXISTS v_consoles (
        id bigint PRIMARY KEY,
        stream_id uuid NOT NULL,
        instance_uuid uuid NOT NULL,
        project_id text NOT NULL,
        console_type text NOT NULL,
        host text NOT NULL,
        port int NOT NULL,
        password text NOT NULL,
        created_at timestamptz NOT NULL
    );
    CREATE INDEX IF NOT EXISTS v_consoles_instance_idx ON v_consoles (instance_uuid, id);
    """

    @on("ConsoleTokenIssued")
    async def issued(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        d = e.data
        await conn.execute("DELETE FROM v_console_tokens WHERE expires_at <= $1", ts(e))
        await conn.execute(
            """INSERT INTO v_console_tokens (token_hash, instance_uuid, console_type, host, port,
               internal_access_path, expires_at, created_at)
               VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (token_hash) DO NOTHING""",
            d["token_hash"], d["instance_uuid"], d["console_type"], d["host"], d["port"],
            d["internal_access_path"], ts(e, "expires_at"), ts(e))

    @on("ServerDeleted", "ServerLiveMigrated", "ServerEvacuated")
    async def server_gone(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await conn.execute("DELETE FROM v_console_tokens WHERE instance_uuid = $1", e.stream_id)
        if e.event_type == "ServerDeleted":
            await conn.execute("DELETE FROM v_consoles WHERE instance_uuid = $1", e.stream_id)

    @on("ConsoleCreated", "ConsoleReopened")
    async def console_opened(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        d = e.data
        await conn.execute(
            """INSERT INTO v_consoles (id, stream_id, instance_uuid, project_id, console_type,
               host, port, password, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)""",
            e.position, e.stream_id, d["instance_uuid"], d["project_id"], d["console_type"],
            d["host"], d["port"], d["password"], ts(e))

    @on("ConsoleDeleted")
    async def console_deleted(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await conn.execute("DELETE FROM v_consoles WHERE stream_id = $1", e.stream_id)
