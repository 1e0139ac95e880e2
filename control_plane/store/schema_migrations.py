"""Schema migrations, applied in order at start under an advisory lock.

Each migration is a (version, SQL) pair; applied versions are recorded in
``schema_migrations``. The event store tables come first; projection tables are
owned by their projections (see ``projections``) and created from there.
"""

from __future__ import annotations

import asyncpg

MIGRATION_LOCK = 7_411_001

MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        """
        CREATE TABLE events (
            position        bigint PRIMARY KEY,
            stream_id       text NOT NULL,
            stream_version  integer NOT NULL,
            event_type      text NOT NULL,
            schema_version  integer NOT NULL DEFAULT 1,
            data            jsonb NOT NULL,
            metadata        jsonb NOT NULL DEFAULT '{}'::jsonb,
            recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
            CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version)
        );
        -- One row holding the head of the log. Appenders lock it for the rest of
        -- their transaction, so positions are handed out in commit order and a
        -- follower reading "position > N" can never miss an event that commits
        -- late with a lower position.
        CREATE TABLE event_head (
            id        boolean PRIMARY KEY DEFAULT true CHECK (id),
            position  bigint NOT NULL
        );
        INSERT INTO event_head (position) VALUES (0);
        -- Positions of followers (projections, scheduler, compute workers).
        CREATE TABLE tracking (
            name      text PRIMARY KEY,
            position  bigint NOT NULL DEFAULT 0,
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        """,
    ),
    (
        2,
        """
        CREATE INDEX events_type_idx ON events (event_type, position);
        """,
    ),
    (
        3,
        """
        -- Latest snapshot of long streams (a cache: deleting it loses nothing).
        CREATE TABLE snapshots (
            stream_id       text PRIMARY KEY,
            stream_version  integer NOT NULL,
            aggregate_type  text NOT NULL,
            state           jsonb NOT NULL,
            taken_at        timestamptz NOT NULL DEFAULT now()
        );
        """,
    ),
    (
        4,
        """
        -- Tamper evidence (see control_plane.store.hashchain): each event's hash chained
        -- per stream and through the whole log, and the log's last hash in the head.
        -- Events recorded before this migration stay unhashed; chain_start is the
        -- first position that must carry hashes (control-plane audit verify).
        ALTER TABLE events ADD COLUMN stream_hash bytea, ADD COLUMN chain_hash bytea;
        ALTER TABLE event_head ADD COLUMN chain_hash bytea,
                               ADD COLUMN chain_start bigint;
        UPDATE event_head SET chain_start = position + 1;
        ALTER TABLE event_head ALTER COLUMN chain_start SET NOT NULL;
        """,
    ),
    (
        5,
        """
        -- Projection operations (projections.runner): a paused projection is skipped
        -- by the inline path and the runner; a projection whose handler keeps failing
        -- is paused with the failing event's position and the error.
        ALTER TABLE tracking ADD COLUMN paused boolean NOT NULL DEFAULT false,
                             ADD COLUMN error text,
                             ADD COLUMN error_position bigint,
                             ADD COLUMN error_at timestamptz;
        """,
    ),
    (
        6,
        """
        -- Events a consumer (a projection, or a follower such as a compute worker)
        -- could not handle after its retries. The consumer records the event here and
        -- goes on, so one bad event never stops it for everyone; operators inspect,
        -- replay (after a fix) or skip them (control-plane projections dead-letters).
        -- status: failed (needs attention), retry (a follower is asked to try it
        -- again), skipped (an operator's decision), replayed (applied after a fix).
        CREATE TABLE dead_letters (
            consumer    text NOT NULL,
            position    bigint NOT NULL,
            stream_id   text NOT NULL,
            event_type  text NOT NULL,
            error       text NOT NULL,
            attempts    integer NOT NULL DEFAULT 1,
            status      text NOT NULL DEFAULT 'failed'
                        CHECK (status IN ('failed', 'retry', 'skipped', 'replayed')),
            failed_at   timestamptz NOT NULL DEFAULT now(),
            resolved_at timestamptz,
            PRIMARY KEY (consumer, position)
        );
        CREATE INDEX dead_letters_failed_idx ON dead_letters (consumer)
            WHERE status = 'failed';
        -- Liveness of the running followers: the process holding a follower's lock
        -- writes its row every few seconds (and removes it on a clean stop). It is
        -- how other processes know a follower (and a compute worker's hosts) is up
        -- even while its lock is being re-acquired after a lost connection.
        CREATE UNLOGGED TABLE liveness (
            name        text PRIMARY KEY,
            hosts       text[] NOT NULL DEFAULT '{}',
            started_at  timestamptz NOT NULL DEFAULT now(),
            seen_at     timestamptz NOT NULL DEFAULT now()
        );
        """,
    ),
]


async def migrate(conn: asyncpg.Connection) -> list[int]:
    """Apply pending migrations; returns the versions applied by this call."""
    applied: list[int] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        for version, sql in MIGRATIONS:
            if version in done:
                continue
            await conn.execute(sql)
            await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
            applied.append(version)
    return applied
