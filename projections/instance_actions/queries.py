"""What the rest of the tree asks of the instance actions views (``v_instance_actions``
and their events, ``v_instance_action_events``): os-instance-actions' lists."""

from __future__ import annotations

import uuid

import asyncpg


async def of_server(conn: asyncpg.Connection, server_id: uuid.UUID) -> list[asyncpg.Record]:
    """The server's actions, newest first."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT * FROM v_instance_actions WHERE instance_uuid = $1"
        " ORDER BY start_time DESC, id DESC", server_id)
    return rows


async def by_request(conn: asyncpg.Connection, server_id: uuid.UUID, request_id: str
                     ) -> asyncpg.Record | None:
    """The server's (latest) action of the request ``request_id``."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT * FROM v_instance_actions WHERE instance_uuid = $1 AND request_id = $2"
        " ORDER BY id DESC LIMIT 1", server_id, request_id)
    return row


async def events(conn: asyncpg.Connection, action_id: int) -> list[asyncpg.Record]:
    """The events of an action, newest first."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT * FROM v_instance_action_events WHERE action_id = $1 ORDER BY seq DESC",
        action_id)
    return rows
