"""The keypairs view: a user's live keypairs. The id is the creating event's position."""

from __future__ import annotations

import asyncpg

from control_plane.store.eventstore import RecordedEvent
from projections.base import Projection, on
from projections.util import ts


class KeypairsProjection(Projection):
    name = "keypairs"
    tables = ("v_keypairs",)
    schema = """
    CREATE TABLE IF NOT EXISTS v_keypairs (
        stream_id uuid PRIMARY KEY,
        id bigint NOT NULL,
        user_id text NOT NULL,
        project_id text NOT NULL,
        name text NOT NULL,
        public_key text NOT NULL,
        fingerprint text NOT NULL,
        type text NOT NULL,
        created_at timestamptz NOT NULL,
        UNIQUE (user_id, name)
    );
    """

    @on("KeypairCreated")
    async def created(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        d = e.data
        await conn.execute(
            """INSERT INTO v_keypairs (stream_id, id, user_id, project_id, name, public_key,
               fingerprint, type, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)""",
            e.stream_id, e.position, d["user_id"], d["project_id"], d["name"], d["public_key"],
            d["fingerprint"], d["type"], ts(e),
        )

    @on("KeypairDeleted")
    async def deleted(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await conn.execute("DELETE FROM v_keypairs WHERE stream_id = $1", e.stream_id)
