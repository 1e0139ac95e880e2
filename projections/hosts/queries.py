"""What the rest of the tree asks of the compute hosts view (``v_hosts``): the
registered hosts, by name (the scheduler) or by availability zone (the API)."""

from __future__ import annotations

import asyncpg


async def names(conn: asyncpg.Connection, exclude: str | None = None) -> list[str]:
    """Every registered host but ``exclude``, by name."""
    rows = await conn.fetch(
        "SELECT host FROM v_hosts WHERE host IS DISTINCT FROM $1 ORDER BY host", exclude)
    return [r["host"] for r in rows]


async def zones(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """``availability_zone``, ``host``, ``updated_at`` of every host, by zone then host."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT availability_zone, host, updated_at FROM v_hosts"
        " ORDER BY availability_zone, host")
    return rows


async def count(conn: asyncpg.Connection | asyncpg.Pool) -> int:
    """How many compute hosts have registered."""
    return int(await conn.fetchval("SELECT count(*) FROM v_hosts"))
