"""Networks, ports and floating IPs: what os-interface and os-virtual-interfaces list.

Built from the Network and FloatingIpPool streams (which hold the allocations) and
the servers' interface events (a hot-plugged port turns ACTIVE once plugged).
"""

from __future__ import annotations

import asyncpg

from control_plane.store.eventstore import RecordedEvent
from projections.base import Projection, on
from projections.util import ts


class NetworksProjection(Projection):
    name = "networks"
    tables = ("v_networks", "v_ports", "v_floating_ips")
    schema = """
    CREATE TABLE IF NOT EXISTS v_networks (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        cidr text NOT NULL,
        gateway text NOT NULL,
        subnet_id uuid NOT NULL,
        created_at timestamptz NOT NULL
    );
    CREATE TABLE IF NOT EXISTS v_ports (
        id uuid PRIMARY KEY,
        network_id uuid NOT NULL,
        server_id uuid,
        mac text NOT NULL,
        fixed_ips jsonb NOT NULL,
        status text NOT NULL,
        position bigint NOT NULL,
        created_at timestamptz NOT NULL
    );
    CREATE INDEX IF NOT EXISTS v_ports_server_idx ON v_ports (server_id, position, id);
    CREATE TABLE IF NOT EXISTS v_floating_ips (
        address text PRIMARY KEY,
        pool_id uuid NOT NULL,
        project_id text,
        allocated boolean NOT NULL DEFAULT false,
        server_id uuid,
        fixed_address text,
        port_id uuid,
        updated_at timestamptz NOT NULL
    );
    CREATE INDEX IF NOT EXISTS v_floating_ips_server_idx ON v_floating_ips (server_id);
    """

    @on("NetworkCreated")
    async def created(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        d = e.data
        await conn.execute(
            "INSERT INTO v_networks (id, name, cidr, gateway, subnet_id, created_at)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
            e.stream_id, d["name"], d["cidr"], d["gateway"], d["subnet_id"], ts(e))

    @on("NetworkPortsAllocated")
    async def allocated(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        for i, port in enumerate(e.data["ports"]):
            await conn.execute(
                "INSERT INTO v_ports (id, network_id, server_id, mac, fixed_ips, status,"
                " position, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                port["port_id"], e.stream_id, port["server_id"], port["mac"], port["ips"],
                port["status"], e.position * 10_000 + i, ts(e))

    @on("NetworkFixedIpAdded")
    async def ip_added(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await conn.execute(
            "UPDATE v_ports SET fixed_ips = fixed_ips || jsonb_build_array($2::text)"
            " WHERE id = $1", e.data["port_id"], e.data["address"])

    @on("NetworkFixedIpReleased")
    async def ip_released(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await conn.execute("UPDATE v_ports SET fixed_ips = fixed_ips - $2::text WHERE id = $1",
                           e.data["port_id"], e.data["address"])

    @on("NetworkPortsReleased")
    async def released(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await conn.execute("DELETE FROM v_ports WHERE id = ANY($1::uuid[])",
                           e.data["port_ids"])

    @on("ServerInterfaceAttached")
    async def plugged(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await conn.execute("UPDATE v_ports SET status = 'ACTIVE' WHERE id = $1",
                           e.data["port_id"])

    @on("FloatingIpAssociated")
    async def associated(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        d = e.data
        await conn.execute(
            "INSERT INTO v_floating_ips (address, pool_id, project_id, server_id,"
            " fixed_address, port_id, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
            " ON CONFLICT (address) DO UPDATE SET project_id = EXCLUDED.project_id,"
            " server_id = EXCLUDED.server_id, fixed_address = EXCLUDED.fixed_address,"
            " port_id = EXCLUDED.port_id, updated_at = EXCLUDED.updated_at",
            d["address"], e.stream_id, d["project_id"], d["server_id"], d["fixed_address"],
            d["port_id"], ts(e))

    @on("FloatingIpDisassociated")
    async def disassociated(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await conn.execute("DELETE FROM v_floating_ips WHERE address = $1 AND NOT allocated",
                           e.data["address"])
        await conn.execute(
            "UPDATE v_floating_ips SET server_id = NULL, fixed_address = NULL, port_id = NULL,"
            " updated_at = $2 WHERE address = $1", e.data["address"], ts(e))
