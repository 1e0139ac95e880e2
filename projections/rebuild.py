"""Rebuilding one projection online, without stopping reads or appends.

An online rebuild builds a new version of a projection's tables beside the
live ones, in a schema of its own (``rebuild_<name>``; the handlers' unqualified table
names resolve there through the search path), replays the log into it, then, holding
the projection's position row (which holds back appends for the last moment), applies
the last events and swaps the new tables in, in one transaction. Readers see the live
version until the swap commits and the new one after it. Events the new version cannot
apply become its dead letters (those an operator skipped stay skipped), so a rebuild
after a fix recovers everything that can now be applied.

It replays through the runner's own batch reading and applying (``read_batch``,
``apply_batch``), as catching up does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import asyncpg

from control_plane.store import dead_letters
from control_plane.store.dead_letters import describe
from projections.base import Projection

if TYPE_CHECKING:
    from projections.runner import Failure, ProjectionRunner

log = logging.getLogger(__name__)

REBUILD_PREFIX = "rebuild:"

# (position replayed so far, head of the log) during a rebuild
Progress = Callable[[int, int], None]


async def rebuild_online(runner: ProjectionRunner, p: Projection,
                         progress: Progress | None = None) -> int:
    """Rebuild ``p`` from position 0 (see the module's docstring); returns the number of
    events replayed."""
    shadow = f"rebuild_{p.name}"
    marker = REBUILD_PREFIX + p.name
    failures: list[Failure] = []
    async with runner.store.pool.acquire() as conn:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{shadow}" CASCADE;'
                           f' CREATE SCHEMA "{shadow}"')
        try:
            async with conn.transaction():
                await _in_shadow(conn, shadow)
                await conn.execute(p.schema)
                await conn.execute(
                    "INSERT INTO tracking (name, position) VALUES ($1, 0) ON CONFLICT"
                    " (name) DO UPDATE SET position = 0, updated_at = now()", marker)
            position = 0
            while True:  # replay beside the live version
                async with conn.transaction():
                    await _in_shadow(conn, shadow)
                    position, at_head = await _shadow_step(runner, conn, p, position,
                                                           failures)
                    await conn.execute("UPDATE tracking SET position = $1,"
                                       " updated_at = now() WHERE name = $2",
                                       position, marker)
                if progress is not None:
                    progress(position, max(position, await runner.store.head()))
                if at_head:
                    break
            async with conn.transaction():  # the last events, and the swap
                await conn.execute("SELECT 1 FROM tracking WHERE name = $1 FOR UPDATE",
                                   p.tracking_name)
                await _in_shadow(conn, shadow)
                while True:
                    position, at_head = await _shadow_step(runner, conn, p, position,
                                                           failures)
                    if at_head:
                        break
                await _swap(conn, p, shadow, position)
                await dead_letters.replace(
                    conn, p.tracking_name, position,
                    [(f.event, f.describe() + "\n" + describe(f.error)) for f in failures])
            if progress is not None:
                progress(position, position)
            for failure in failures:
                log.error("rebuilding %s: dead-lettered %s", p.name, failure.describe())
            return position
        finally:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{shadow}" CASCADE')
            await conn.execute("DELETE FROM tracking WHERE name = $1", marker)


async def _in_shadow(conn: asyncpg.Connection, shadow: str) -> None:
    await conn.execute(f'SET LOCAL search_path TO "{shadow}", public')


async def _shadow_step(runner: ProjectionRunner, conn: asyncpg.Connection, p: Projection,
                       position: int, failures: list[Failure]) -> tuple[int, bool]:
    """One batch into the new version: (new position, whether it reached the head).
    An event it cannot apply is added to ``failures`` and passed over."""
    while True:
        batch, upto = await runner.read_batch(conn, p, position)
        new_position, failure = await runner.apply_batch(conn, p, batch, upto)
        if failure is None:
            return new_position, len(batch) < runner.batch_size
        failures.append(failure)
        position = failure.event.position  # go on after it


async def _swap(conn: asyncpg.Connection, p: Projection, shadow: str, position: int
                ) -> None:
    tables = [r["tablename"] for r in await conn.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = $1", shadow)]
    for table in tables:
        await conn.execute(f'DROP TABLE IF EXISTS public."{table}";'
                           f' ALTER TABLE "{shadow}"."{table}" SET SCHEMA public')
    await conn.execute(
        "UPDATE tracking SET position = $1, paused = false, error = NULL,"
        " error_position = NULL, error_at = NULL, updated_at = now() WHERE name = $2",
        position, p.tracking_name)
