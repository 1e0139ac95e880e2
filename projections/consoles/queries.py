"""What the rest of the tree asks of the consoles views: the XVP consoles of a server
(``v_consoles``) and the live console tokens (``v_console_tokens``)."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg


async def live_token(conn: asyncpg.Connection, token_hash: str, at: dt.datetime
                     ) -> asyncpg.Record | None:
    """The console token with this hash, unless it has expired by ``at``."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT * FROM v_console_tokens WHERE token_hash = $1 AND expires_at > $2",
        token_hash, at)
    return row


async def console(conn: asyncpg.Connection, console_id: int, server_id: uuid.UUID
                  ) -> asyncpg.Record | None:
    """The server's console ``console_id``."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT * FROM v_consoles WHERE id = $1 AND instance_uuid = $2", console_id, server_id)
    return row


async def of_server(conn: asyncpg.Connection, server_id: uuid.UUID) -> list[asyncpg.Record]:
    """``id`` and ``console_type`` of the server's consoles, by id."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT id, console_type FROM v_consoles WHERE instance_uuid = $1 ORDER BY id",
        server_id)
    return rows


async def exists(conn: asyncpg.Connection, console_id: int, server_id: str) -> bool:
    """Has the server (by its id as text) a console ``console_id``?"""
    return bool(await conn.fetchval(
        "SELECT 1 FROM v_consoles WHERE id = $1 AND instance_uuid::text = $2",
        console_id, server_id))
