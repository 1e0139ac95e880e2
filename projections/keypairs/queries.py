"""What the rest of the tree asks of the keypairs view (``v_keypairs``): a user's
keypairs (the API, the key a new server gets) and how many are held (quotas)."""

from __future__ import annotations

import asyncpg


async def of_user(conn: asyncpg.Connection, user_id: str) -> list[asyncpg.Record]:
    """The user's keypairs, by name."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT * FROM v_keypairs WHERE user_id = $1 ORDER BY name", user_id)
    return rows


async def named(conn: asyncpg.Connection, user_id: str, name: str) -> asyncpg.Record | None:
    """The user's keypair called ``name``."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT * FROM v_keypairs WHERE user_id = $1 AND name = $2", user_id, name)
    return row


async def public_key(conn: asyncpg.Connection, user_id: str, name: str) -> str | None:
    """The public key of the user's keypair called ``name``."""
    value: str | None = await conn.fetchval(
        "SELECT public_key FROM v_keypairs WHERE user_id = $1 AND name = $2", user_id, name)
    return value


async def count_of_user(conn: asyncpg.Connection, user_id: str) -> int:
    """How many keypairs the user holds."""
    value: int = await conn.fetchval(
        "SELECT count(*) FROM v_keypairs WHERE user_id = $1", user_id)
    return value


async def count_held(conn: asyncpg.Connection, project_id: str, user_id: str | None) -> int:
    """The keypairs held by ``user_id``, or (user_id None) by the project's users."""
    value: int = await conn.fetchval(
        "SELECT count(*) FROM v_keypairs WHERE ($1::text IS NULL AND project_id = $2)"
        " OR user_id = $1", user_id, project_id)
    return value
