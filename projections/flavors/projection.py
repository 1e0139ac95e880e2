"""The flavors view: live flavors with their extra specs and access lists."""

from __future__ import annotations

import asyncpg

from control_plane.store.eventstore import RecordedEvent
from projections.base import Projection, on
from projections.util import ts


class FlavorsProjection(Projection):
    name = "flavors"
    tables = ("v_flavors",)
    schema = """
    CREATE TABLE IF NOT EXISTS v_flavors (
        flavorid text PRIMARY KEY,
        stream_id uuid NOT NULL UNIQUE,
        name text NOT NULL,
        ram int NOT NULL,
        vcpus int NOT NULL,
        disk int NOT NULL,
        ephemeral int NOT NULL,
        swap int NOT NULL,
        rxtx_factor double precision NOT NULL,
        is_public boolean NOT NULL,
        disabled boolean NOT NULL,
        description text,
        extra_specs jsonb NOT NULL DEFAULT '{}',
        projects text[] NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL,
        updated_at timestamptz
    );
    """

    @on("FlavorCreated")
    async def created(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        d = e.data
        await conn.execute(
            """INSERT INTO v_flavors (flavorid, stream_id, name, ram, vcpus, disk, ephemeral,
               swap, rxtx_factor, is_public, disabled, description, created_at)
               VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)""",
            d["flavorid"], e.stream_id, d["name"], d["ram"], d["vcpus"], d["disk"],
            d["ephemeral"], d["swap"], d["rxtx_factor"], d["is_public"], d["disabled"],
            d["description"], ts(e),
        )

    @on("FlavorExtraSpecsSet")
    async def specs_set(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await conn.execute(
            "UPDATE v_flavors SET extra_specs = extra_specs || $2::jsonb, updated_at = $3"
            " WHERE stream_id = $1", e.stream_id, e.data["specs"], ts(e),
        )

    @on("FlavorExtraSpecDeleted")
    async def spec_deleted(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await conn.execute(
            "UPDATE v_flavors SET extra_specs = extra_specs - $2::text, updated_at = $3"
            " WHERE stream_id = $1", e.stream_id, e.data["key"], ts(e),
        )

    @on("FlavorAccessAdded")
    async def access_added(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await conn.execute(
            "UPDATE v_flavors SET projects = array_append(projects, $2) WHERE stream_id = $1",
            e.stream_id, e.data["project_id"],
        )

    @on("FlavorAccessRemoved")
    async def access_removed(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await conn.execute(
            "UPDATE v_flavors SET projects = array_remove(projects, $2) WHERE stream_id = $1",
            e.stream_id, e.data["project_id"],
        )

    @on("FlavorDeleted")
    async def deleted(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await conn.execute("DELETE FROM v_flavors WHERE stream_id = $1", e.stream_id)
