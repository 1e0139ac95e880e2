"""Catches projections up with the log, and rebuilds them from position 0.

The runner handles every projection that is behind the head: a new projection,
one being rebuilt, or one whose inline update was skipped. Each batch is applied
in one transaction together with the projection's new position (exactly-once).
The position row is locked for the batch, so the inline path in the event store
and any other runner wait for it rather than applying the same events twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import asyncpg

from control_plane.eventstore import EventStore, Notifier
from projections.base import Projection

log = logging.getLogger(__name__)


class ProjectionRunner:
    def __init__(
        self, store: EventStore, projections: Sequence[Projection], batch_size: int = 1000
    ) -> None:
        self.store = store
        self.projections = list(projections)
        self.batch_size = batch_size

    async def create_schemas(self) -> None:
        async with self.store.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(7411002)")
            for p in self.projections:
                await p.create_schema(conn)

    async def _step(self, conn: asyncpg.Connection, p: Projection) -> int:
        """Apply one batch to ``p``; returns the number of events read."""
        async with conn.transaction():
            position = await conn.fetchval(
                "SELECT position FROM tracking WHERE name = $1 FOR UPDATE", p.tracking_name
            )
            batch = await self.store.read_all(position, self.batch_size, conn=conn)
            if not batch:
                return 0
            for event in batch:
                if event.event_type in p.handles:
                    await p.apply(conn, event)
            await conn.execute(
                "UPDATE tracking SET position = $1, updated_at = now() WHERE name = $2",
                batch[-1].position,
                p.tracking_name,
            )
            return len(batch)

    async def behind(self) -> list[str]:
        """Projections whose position is below the head (a cheap check, no locks)."""
        async with self.store.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT t.name FROM tracking t, event_head h WHERE t.name = any($1::text[])"
                " AND t.position < h.position",
                [p.tracking_name for p in self.projections])
        return [r["name"].removeprefix("projection:") for r in rows]

    async def catch_up(self, names: Sequence[str] | None = None) -> int:
        """Bring the chosen (default: all) projections to the head; returns events applied."""
        total = 0
        async with self.store.pool.acquire() as conn:
            for p in self.projections:
                if names is not None and p.name not in names:
                    continue
                while True:
                    n = await self._step(conn, p)
                    total += n
                    if n < self.batch_size:
                        break
        return total

    async def rebuild(self, name: str) -> int:
        """Empty one projection and replay the whole log into it."""
        p = self.get(name)
        async with self.store.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "SELECT 1 FROM tracking WHERE name = $1 FOR UPDATE", p.tracking_name
            )
            await p.reset(conn)
        return await self.catch_up([name])

    def get(self, name: str) -> Projection:
        for p in self.projections:
            if p.name == name:
                return p
        raise KeyError(name)

    async def positions(self) -> dict[str, int]:
        async with self.store.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT name, position FROM tracking WHERE name = any($1::text[])",
                [p.tracking_name for p in self.projections],
            )
        return {r["name"].removeprefix("projection:"): r["position"] for r in rows}

    async def run(self, notifier: Notifier, stop: asyncio.Event) -> None:
        """Follow the log: catch up whenever something is behind, until ``stop``."""
        while not stop.is_set():
            try:
                lagging = await self.behind()
                if lagging:
                    await self.catch_up(lagging)
            except (asyncpg.PostgresError, OSError):
                log.exception("projection runner step failed; retrying")
                await asyncio.sleep(1)
            head = await self.store.head()
            await notifier.wait(head)
