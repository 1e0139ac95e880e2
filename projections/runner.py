"""Catches projections up with the log, rebuilds them online, pauses and resumes them.

The runner handles every projection that is behind the head: a new projection, one
whose inline update was skipped, or one that was paused and resumed. Each batch is
applied in one transaction together with the projection's new position
(exactly-once). The position row is locked for the batch, so the inline path in the
event store and any other runner wait for it rather than applying the same events twice.

Failures are never skipped: when a handler fails, the events before the failing one are
kept, the failing event is tried again (``RETRY_DELAYS``), and if it still fails the
projection is paused with the event's position and the error in its ``tracking`` row
(``control-plane projections list`` shows them). ``resume`` tries again.

An online rebuild (``rebuild``) builds a new version of a projection's tables beside the
live ones, in a schema of its own (``rebuild_<name>``; the handlers' unqualified table
names resolve there through the search path), replays the log into it, then, holding
the projection's position row (which holds back appends for the last moment), applies
the last events and swaps the new tables in, in one transaction. Readers see the live
version until the swap commits and the new one after it.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import asyncpg

from control_plane.eventstore import EventStore, Notifier, RecordedEvent
from projections.base import Projection

log = logging.getLogger(__name__)

RETRY_DELAYS = (0.2, 1.0, 3.0)  # then the projection is paused
REBUILD_PREFIX = "rebuild:"

# (position replayed so far, head of the log) during a rebuild
Progress = Callable[[int, int], None]


@dataclass
class Failure:
    """A handler failed on ``event``; the events before it were applied."""

    projection: str
    event: RecordedEvent
    error: BaseException

    def describe(self) -> str:
        return (f"event {self.event.position} ({self.event.event_type} of "
                f"{self.event.stream_id}): {type(self.error).__name__}: {self.error}")


@dataclass
class Status:
    name: str
    position: int
    head: int
    paused: bool
    error: str | None
    error_position: int | None
    error_at: object
    rebuilding: int | None  # the rebuild's position, if one is running

    @property
    def lag(self) -> int:
        return self.head - self.position

    @property
    def state(self) -> str:
        if self.error is not None:
            return "failed"
        if self.paused:
            return "paused"
        return "rebuilding" if self.rebuilding is not None else "running"


class ProjectionError(Exception):
    """A rebuild stopped on a failing event (the live version is untouched)."""


class ProjectionRunner:
    def __init__(
        self, store: EventStore, projections: Sequence[Projection], batch_size: int = 1000
    ) -> None:
        self.store = store
        self.projections = list(projections)
        self.batch_size = batch_size
        self.retry_delays: Sequence[float] = RETRY_DELAYS

    async def create_schemas(self) -> None:
        async with self.store.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(7411002)")
            for p in self.projections:
                await p.create_schema(conn)

    # -- catching up -------------------------------------------------------------------

    async def _read(self, conn: asyncpg.Connection, p: Projection, after: int
                    ) -> tuple[list[RecordedEvent], int]:
        """The next batch of the events ``p`` handles, and the position the projection is
        at once it has applied them (the events it does not handle are passed over in
        the query, so a projection of a few event types replays a big log quickly)."""
        head: int = await conn.fetchval("SELECT position FROM event_head")
        batch = await self.store.read_all(after, self.batch_size, types=sorted(p.handles),
                                          conn=conn)
        if len(batch) == self.batch_size and batch[-1].position <= head:
            return batch, batch[-1].position
        # everything it handles up to the head is here (events are committed up to the
        # head read first; later ones are left for the next batch)
        return [e for e in batch if e.position <= head], max(head, after)

    async def _apply(self, conn: asyncpg.Connection, p: Projection,
                     batch: list[RecordedEvent], upto: int) -> tuple[int, Failure | None]:
        """Apply ``batch`` inside the caller's transaction; on a failure, apply the events
        before the failing one. Returns (the new position, the failure or None)."""
        try:
            async with conn.transaction():  # a savepoint: one failure undoes the batch
                for event in batch:
                    await p.apply(conn, event)
            return upto, None
        except Exception:  # find the failing event, keep the ones before it
            log.debug("projection %s: a batch failed; applying it event by event", p.name)
        for event in batch:
            try:
                async with conn.transaction():
                    await p.apply(conn, event)
            except Exception as exc:  # all it handles before this event is applied
                return event.position - 1, Failure(p.name, event, exc)
        return upto, None

    async def _step(self, conn: asyncpg.Connection, p: Projection
                    ) -> tuple[int, Failure | None, bool]:
        """Apply one batch to ``p``: (events applied, failure, whether it reached the
        head)."""
        async with conn.transaction():
            row = await conn.fetchrow(
                "SELECT position, paused FROM tracking WHERE name = $1 FOR UPDATE",
                p.tracking_name)
            if row is None or row["paused"]:
                return 0, None, True
            batch, upto = await self._read(conn, p, row["position"])
            position, failure = await self._apply(conn, p, batch, upto)
            if position != row["position"]:
                await conn.execute(
                    "UPDATE tracking SET position = $1, updated_at = now() WHERE name = $2",
                    position, p.tracking_name)
            applied = sum(1 for e in batch if e.position <= position)
            return applied, failure, len(batch) < self.batch_size

    async def behind(self) -> list[str]:
        """Projections whose position is below the head and that are not paused (a cheap
        check, no locks)."""
        async with self.store.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT t.name FROM tracking t, event_head h WHERE t.name = any($1::text[])"
                " AND t.position < h.position AND NOT t.paused",
                [p.tracking_name for p in self.projections])
        return [r["name"].removeprefix("projection:") for r in rows]

    async def catch_up(self, names: Sequence[str] | None = None) -> int:
        """Bring the chosen (default: all) projections to the head; returns events applied.
        A projection that keeps failing is paused (see the module's docstring)."""
        total = 0
        async with self.store.pool.acquire() as conn:
            for p in self.projections:
                if names is not None and p.name not in names:
                    continue
                attempts = 0
                while True:
                    n, failure, at_head = await self._step(conn, p)
                    total += n
                    if failure is not None:
                        if attempts < len(self.retry_delays):
                            log.warning("projection %s failed on %s; retrying", p.name,
                                        failure.describe())
                            await asyncio.sleep(self.retry_delays[attempts])
                            attempts += 1
                            continue
                        await self._pause_failed(conn, failure)
                        break
                    attempts = 0
                    if at_head:
                        break
        return total

    async def _pause_failed(self, conn: asyncpg.Connection, failure: Failure) -> None:
        error = failure.describe() + "\n" + "".join(
            traceback.format_exception(failure.error)[-6:])
        log.error("projection %s paused: %s", failure.projection, failure.describe())
        await conn.execute(
            "UPDATE tracking SET paused = true, error = $2, error_position = $3,"
            " error_at = now() WHERE name = $1",
            f"projection:{failure.projection}", error, failure.event.position)

    # -- operations ----------------------------------------------------------------------

    async def pause(self, name: str) -> None:
        """Stop applying events to a projection (its view stays as it is)."""
        p = self.get(name)
        async with self.store.pool.acquire() as conn:
            await conn.execute("UPDATE tracking SET paused = true, updated_at = now()"
                               " WHERE name = $1", p.tracking_name)

    async def resume(self, name: str) -> int:
        """Clear a pause (and a recorded failure) and catch the projection up now;
        returns events applied (a failure pauses it again)."""
        p = self.get(name)
        async with self.store.pool.acquire() as conn:
            await conn.execute(
                "UPDATE tracking SET paused = false, error = NULL, error_position = NULL,"
                " error_at = NULL, updated_at = now() WHERE name = $1", p.tracking_name)
        return await self.catch_up([name])

    async def status(self) -> list[Status]:
        async with self.store.pool.acquire() as conn:
            head = await conn.fetchval("SELECT position FROM event_head")
            rows = {r["name"]: r for r in await conn.fetch(
                "SELECT name, position, paused, error, error_position, error_at"
                " FROM tracking WHERE name LIKE 'projection:%' OR name LIKE 'rebuild:%'")}
        out = []
        for p in self.projections:
            row = rows.get(p.tracking_name)
            if row is None:
                continue
            shadow = rows.get(REBUILD_PREFIX + p.name)
            out.append(Status(p.name, row["position"], head, row["paused"], row["error"],
                              row["error_position"], row["error_at"],
                              shadow["position"] if shadow is not None else None))
        return out

    async def rebuild(self, name: str, progress: Progress | None = None) -> int:
        """Rebuild one projection online from position 0 (see the module's docstring);
        returns the number of events replayed."""
        p = self.get(name)
        shadow = f"rebuild_{p.name}"
        marker = REBUILD_PREFIX + p.name
        async with self.store.pool.acquire() as conn:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{shadow}" CASCADE;'
                               f' CREATE SCHEMA "{shadow}"')
            try:
                async with conn.transaction():
                    await self._in_shadow(conn, shadow)
                    await conn.execute(p.schema)
                    await conn.execute(
                        "INSERT INTO tracking (name, position) VALUES ($1, 0) ON CONFLICT"
                        " (name) DO UPDATE SET position = 0, updated_at = now()", marker)
                position = 0
                while True:  # replay beside the live version
                    async with conn.transaction():
                        await self._in_shadow(conn, shadow)
                        position, at_head = await self._shadow_step(conn, p, position)
                        await conn.execute("UPDATE tracking SET position = $1,"
                                           " updated_at = now() WHERE name = $2",
                                           position, marker)
                    if progress is not None:
                        progress(position, max(position, await self.store.head()))
                    if at_head:
                        break
                async with conn.transaction():  # the last events, and the swap
                    await conn.execute("SELECT 1 FROM tracking WHERE name = $1 FOR UPDATE",
                                       p.tracking_name)
                    await self._in_shadow(conn, shadow)
                    while True:
                        position, at_head = await self._shadow_step(conn, p, position)
                        if at_head:
                            break
                    await self._swap(conn, p, shadow, position)
                if progress is not None:
                    progress(position, position)
                return position
            finally:
                await conn.execute(f'DROP SCHEMA IF EXISTS "{shadow}" CASCADE')
                await conn.execute("DELETE FROM tracking WHERE name = $1", marker)

    @staticmethod
    async def _in_shadow(conn: asyncpg.Connection, shadow: str) -> None:
        await conn.execute(f'SET LOCAL search_path TO "{shadow}", public')

    async def _shadow_step(self, conn: asyncpg.Connection, p: Projection, position: int
                           ) -> tuple[int, bool]:
        """One batch into the new version: (new position, whether it reached the head)."""
        batch, upto = await self._read(conn, p, position)
        new_position, failure = await self._apply(conn, p, batch, upto)
        if failure is not None:
            raise ProjectionError(f"rebuilding {p.name} stopped at {failure.describe()}; "
                                  "the live version is unchanged") from failure.error
        return new_position, len(batch) < self.batch_size

    @staticmethod
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


def measure_rates(before: dict[str, int], after: dict[str, int], seconds: float
                  ) -> dict[str, float]:
    """Events per second each projection applied between two position readings."""
    return {name: (after.get(name, 0) - pos) / seconds for name, pos in before.items()}
