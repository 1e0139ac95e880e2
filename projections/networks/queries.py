"""What the rest of the tree asks of the networks views (``v_ports``, ``v_networks``):
a server's ports with the subnet of their network, as os-interface shows them."""

from __future__ import annotations

import uuid

import asyncpg

_PORTS = ("SELECT p.id, p.server_id, p.mac, p.fixed_ips, p.status, p.network_id,"
          " n.subnet_id FROM v_ports p JOIN v_networks n ON n.id = p.network_id ")


async def server_ports(conn: asyncpg.Connection, server_id: uuid.UUID
                       ) -> list[asyncpg.Record]:
    """The server's ports in the order they were attached."""
    rows: list[asyncpg.Record] = await conn.fetch(
        _PORTS + "WHERE p.server_id = $1 ORDER BY p.position, p.id", server_id)
    return rows


async def port(conn: asyncpg.Connection, port_id: uuid.UUID) -> asyncpg.Record | None:
    """One port (whichever server holds it), with its network's subnet."""
    row: asyncpg.Record | None = await conn.fetchrow(_PORTS + "WHERE p.id = $1", port_id)
    return row
