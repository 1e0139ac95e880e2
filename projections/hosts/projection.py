"""The hosts view: each compute host's capacity and what is claimed on it."""

from __future__ import annotations

import asyncpg

from control_plane.store.eventstore import RecordedEvent
from projections.base import Projection, on
from projections.util import ts


class HostsProjection(Projection):
    name = "hosts"
    tables = ("v_hosts", "v_host_claims")
    schema = """
    CREATE TABLE IF NOT EXISTS v_hosts (
        host text PRIMARY KEY,
        stream_id uuid NOT NULL UNIQUE,
        hypervisor_type text NOT NULL,
        vcpus int NOT NULL,
        memory_mb int NOT NULL,
        local_gb int NOT NULL,
        availability_zone text NOT NULL,
        vcpus_used int NOT NULL DEFAULT 0,
        memory_mb_used int NOT NULL DEFAULT 0,
        local_gb_used int NOT NULL DEFAULT 0,
        running_vms int NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL
    );
    CREATE TABLE IF NOT EXISTS v_host_claims (
        stream_id uuid NOT NULL,
        server_id text NOT NULL,
        vcpus int NOT NULL,
        memory_mb int NOT NULL,
        disk_gb int NOT NULL,
        PRIMARY KEY (stream_id, server_id)
    );
    """

    @on("ComputeHostRegistered", "ComputeHostReconfigured")
    async def registered(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        d = e.data
        if e.event_type == "ComputeHostRegistered":
            await conn.execute(
                """INSERT INTO v_hosts (host, stream_id, hypervisor_type, vcpus, memory_mb,
                   local_gb, availability_zone, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)""",
                d["host"], e.stream_id, d["hypervisor_type"], d["vcpus"], d["memory_mb"],
                d["local_gb"], d["availability_zone"], ts(e),
            )
        else:
            await conn.execute(
                """UPDATE v_hosts SET hypervisor_type = $2, vcpus = $3, memory_mb = $4,
                   local_gb = $5, availability_zone = $6, updated_at = $7 WHERE stream_id = $1""",
                e.stream_id, d["hypervisor_type"], d["vcpus"], d["memory_mb"], d["local_gb"],
                d["availability_zone"], ts(e),
            )

    @on("ResourcesClaimed")
    async def claimed(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        d = e.data
        await conn.execute(
            "INSERT INTO v_host_claims VALUES ($1,$2,$3,$4,$5)",
            e.stream_id, d["server_id"], d["vcpus"], d["memory_mb"], d["disk_gb"],
        )
        await conn.execute(
            """UPDATE v_hosts SET vcpus_used = vcpus_used + $2, memory_mb_used = memory_mb_used
               + $3, local_gb_used = local_gb_used + $4, running_vms = running_vms + 1,
               updated_at = $5 WHERE stream_id = $1""",
            e.stream_id, d["vcpus"], d["memory_mb"], d["disk_gb"], ts(e),
        )

    @on("ResourcesReleased")
    async def released(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        row = await conn.fetchrow(
            "DELETE FROM v_host_claims WHERE stream_id = $1 AND server_id = $2"
            " RETURNING vcpus, memory_mb, disk_gb",
            e.stream_id, e.data["server_id"],
        )
        if row is not None:
            await conn.execute(
                """UPDATE v_hosts SET vcpus_used = vcpus_used - $2, memory_mb_used =
                   memory_mb_used - $3, local_gb_used = local_gb_used - $4,
                   running_vms = running_vms - 1, updated_at = $5 WHERE stream_id = $1""",
                e.stream_id, row["vcpus"], row["memory_mb"], row["disk_gb"], ts(e),
            )
