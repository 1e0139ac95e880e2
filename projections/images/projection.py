"""The images view: the image catalog with metadata."""

from __future__ import annotations

import asyncpg

from control_plane.store.eventstore import RecordedEvent
from projections.base import Projection, on
from projections.util import ts


class ImagesProjection(Projection):
    name = "images"
    tables = ("v_images",)
    schema = """
    CREATE TABLE IF NOT EXISTS v_images (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        status text NOT NULL,
        disk_format text NOT NULL,
        container_format text NOT NULL,
        size bigint NOT NULL,
        min_ram int NOT NULL,
        min_disk int NOT NULL,
        visibility text NOT NULL,
        owner text,
        metadata jsonb NOT NULL,
        server_id text,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
    );
    CREATE INDEX IF NOT EXISTS v_images_created_idx ON v_images (created_at DESC, id DESC);
    """

    @on("ImageRegistered")
    async def registered(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        d = e.data
        await conn.execute(
            """INSERT INTO v_images (id, name, status, disk_format, container_format, size,
               min_ram, min_disk, visibility, owner, metadata, server_id, created_at, updated_at)
               VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$13)""",
            e.stream_id, d["name"], d["status"], d["disk_format"], d["container_format"],
            d["size"], d["min_ram"], d["min_disk"], d["visibility"], d["owner"], d["metadata"],
            d["server_id"], ts(e),
        )

    @on("ImageMetadataSet")
    async def metadata_set(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        expr = "$2::jsonb" if e.data["replace"] else "metadata || $2::jsonb"
        await conn.execute(
            f"UPDATE v_images SET metadata = {expr}, updated_at = $3 WHERE id = $1",
            e.stream_id, e.data["metadata"], ts(e),
        )

    @on("ImageMetadataItemDeleted")
    async def item_deleted(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await conn.execute(
            "UPDATE v_images SET metadata = metadata - $2::text, updated_at = $3 WHERE id = $1",
            e.stream_id, e.data["key"], ts(e),
        )

    @on("ImageActivated")
    async def activated(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await conn.execute(
            "UPDATE v_images SET status = 'active', size = $2, updated_at = $3 WHERE id = $1",
            e.stream_id, e.data["size"], ts(e))

    @on("ImageDeleted")
    async def deleted(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await conn.execute("DELETE FROM v_images WHERE id = $1", e.stream_id)
