"""What the rest of the tree asks of the volumes views (``v_volumes``,
``v_volume_snapshots``): a project's volumes and snapshots, one by id, the volumes
attached to a server, and how many snapshots a volume has."""

from __future__ import annotations

import uuid

import asyncpg


async def volume(conn: asyncpg.Connection, volume_id: uuid.UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT * FROM v_volumes WHERE id = $1", volume_id)
    return row


async def snapshot(conn: asyncpg.Connection, snapshot_id: uuid.UUID
                   ) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT * FROM v_volume_snapshots WHERE id = $1", snapshot_id)
    return row


async def project_volumes(conn: asyncpg.Connection, project_id: str) -> list[asyncpg.Record]:
    """The project's volumes, newest first."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT * FROM v_volumes WHERE project_id = $1"
        " ORDER BY created_at DESC, id DESC", project_id)
    return rows


async def project_snapshots(conn: asyncpg.Connection, project_id: str
                            ) -> list[asyncpg.Record]:
    """The project's volume snapshots, newest first."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT * FROM v_volume_snapshots WHERE project_id = $1"
        " ORDER BY created_at DESC, id DESC", project_id)
    return rows


async def attached_to(conn: asyncpg.Connection, server_id: uuid.UUID
                      ) -> list[asyncpg.Record]:
    """The volumes attached to the server, in the order they were attached."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT * FROM v_volumes WHERE server_id = $1 ORDER BY attached_at, id", server_id)
    return rows


async def attached(conn: asyncpg.Connection, volume_id: uuid.UUID, server_id: uuid.UUID
                   ) -> asyncpg.Record | None:
    """The volume, if it is attached to the server."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT * FROM v_volumes WHERE id = $1 AND server_id = $2", volume_id, server_id)
    return row


async def snapshot_count(conn: asyncpg.Connection, volume_id: uuid.UUID) -> int:
    """How many snapshots of the volume exist."""
    value: int = await conn.fetchval(
        "SELECT count(*) FROM v_volume_snapshots WHERE volume_id = $1", volume_id)
    return value
