"""The volumes and volume snapshots views (os-volumes, os-snapshots, os-volume_attachments).

A volume row carries its one attachment (server, device) from the moment it is
reserved until it is detached, as Nova's block device mapping does. Deleted volumes
and snapshots are removed from the views.
"""

from __future__ import annotations

import asyncpg

from control_plane.domain.volumes import aggregate as vol
from control_plane.store.eventstore import RecordedEvent
from projections.base import Projection, on
from projections.util import ts

# event -> the status it leaves the volume in
_STATUS = {"VolumeProvisioned": vol.AVAILABLE, "VolumeAttached": vol.IN_USE,
           "VolumeDetaching": vol.DETACHING, "VolumeDetachAborted": vol.IN_USE,
           "VolumeDeleteRequested": vol.DELETING}


class VolumesProjection(Projection):
    name = "volumes"
    tables = ("v_volumes", "v_volume_snapshots")
    schema = """
    CREATE TABLE IF NOT EXISTS v_volumes (
        id uuid PRIMARY KEY,
        project_id text NOT NULL,
        user_id text NOT NULL,
        status text NOT NULL,
        size bigint NOT NULL,
        availability_zone text NOT NULL,
        display_name text,
        display_description text,
        volume_type text NOT NULL,
        snapshot_id text,
        metadata jsonb NOT NULL,
        server_id uuid,
        device text,
        attached_at timestamptz,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
    );
    CREATE INDEX IF NOT EXISTS v_volumes_project_idx ON v_volumes (project_id, created_at);
    CREATE INDEX IF NOT EXISTS v_volumes_server_idx ON v_volumes (server_id);
    CREATE TABLE IF NOT EXISTS v_volume_snapshots (
        id uuid PRIMARY KEY,
        project_id text NOT NULL,
        user_id text NOT NULL,
        volume_id uuid NOT NULL,
        status text NOT NULL,
        size bigint NOT NULL,
        display_name text,
        display_description text,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
    );
    CREATE INDEX IF NOT EXISTS v_volume_snapshots_project_idx
        ON v_volume_snapshots (project_id, created_at);
    CREATE INDEX IF NOT EXISTS v_volume_snapshots_volume_idx ON v_volume_snapshots (volume_id);
    -- sizes were int until the API bounded them; a volume accepted before that (up to
    -- bigint) must still project, so existing tables are widened once
    DO $$
    BEGIN
        IF EXISTS (SELECT 1 FROM information_schema.columns
                   WHERE table_schema = current_schema() AND column_name = 'size'
                     AND table_name IN ('v_volumes', 'v_volume_snapshots')
                     AND data_type = 'integer') THEN
            ALTER TABLE v_volumes ALTER COLUMN size TYPE bigint;
            ALTER TABLE v_volume_snapshots ALTER COLUMN size TYPE bigint;
        END IF;
    END $$;
    """

    @on("VolumeCreated")
    async def created(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        d = e.data
        await conn.execute(
            """INSERT INTO v_volumes (id, project_id, user_id, status, size, availability_zone,
               display_name, display_description, volume_type, snapshot_id, metadata,
               created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$12)""",
            e.stream_id, d["project_id"], d["user_id"], vol.CREATING, d["size"],
            d["availability_zone"], d["display_name"], d["display_description"],
            d["volume_type"], d["snapshot_id"], d["metadata"], ts(e))

    @on(*_STATUS)
    async def status(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await conn.execute("UPDATE v_volumes SET status = $2, updated_at = $3 WHERE id = $1",
                           e.stream_id, _STATUS[e.event_type], ts(e))

    @on("VolumeAttaching")
    async def attaching(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await conn.execute(
            "UPDATE v_volumes SET status = $2, server_id = $3, device = $4, attached_at = $5,"
            " updated_at = $5 WHERE id = $1",
            e.stream_id, vol.ATTACHING, e.data["server_id"], e.data["device"], ts(e))

    @on("VolumeAttachAborted", "VolumeDetached")
    async def detached(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await conn.execute(
            "UPDATE v_volumes SET status = $2, server_id = NULL, device = NULL,"
            " attached_at = NULL, updated_at = $3 WHERE id = $1",
            e.stream_id, vol.AVAILABLE, ts(e))

    @on("VolumeDeleted")
    async def deleted(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await conn.execute("DELETE FROM v_volumes WHERE id = $1", e.stream_id)

    @on("VolumeSnapshotCreated")
    async def snapshot_created(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        d = e.data
        await conn.execute(
            """INSERT INTO v_volume_snapshots (id, project_id, user_id, volume_id, status, size,
               display_name, display_description, created_at, updated_at)
               VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$9)""",
            e.stream_id, d["project_id"], d["user_id"], d["volume_id"], vol.CREATING,
            d["size"], d["display_name"], d["display_description"], ts(e))

    @on("VolumeSnapshotProvisioned", "VolumeSnapshotDeleteRequested")
    async def snapshot_status(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        status = vol.AVAILABLE if e.event_type == "VolumeSnapshotProvisioned" \
            else vol.DELETING
        await conn.execute(
            "UPDATE v_volume_snapshots SET status = $2, updated_at = $3 WHERE id = $1",
            e.stream_id, status, ts(e))

    @on("VolumeSnapshotDeleted")
    async def snapshot_deleted(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await conn.execute("DELETE FROM v_volume_snapshots WHERE id = $1", e.stream_id)
