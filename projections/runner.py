"""Catches projections up with the log, rebuilds them online, pauses and resumes them.

The runner handles every projection that is behind the head: a new projection, one
whose inline update was skipped, or one that was paused and resumed. Each batch is
applied in one transaction together with the projection's new position
(exactly-once). The position row is locked for the batch, so the inline path in the
event store and any other runner wait for it rather than applying the same events twice.

One bad event never stops a projection: when a handler fails, the events before the
failing one are kept and the failing event is tried again (``RETRY_DELAYS``); if it
still fails it is recorded in ``dead_letters`` and the projection moves past it, in
one transaction. ``control-plane projections list`` shows open dead letters (and
``/readyz`` and the metrics do), ``dead-letters`` lists them with their errors,
``replay`` applies them again after a fix and ``skip`` marks them as dealt with.

An online rebuild (``rebuild``) is in ``projections.rebuild``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from control_plane.observability import metrics
from control_plane.store import dead_letters as dead_letter_table
from control_plane.store.db import is_transient
from control_plane.store.dead_letters import DeadLetter
from control_plane.store.eventstore import EventStore, RecordedEvent
from control_plane.store.follower import backoff
from control_plane.store.notifier import Notifier
from projections.base import Projection
from projections.rebuild import REBUILD_PREFIX, Progress, rebuild_online

log = logging.getLogger(__name__)

RETRY_DELAYS = (0.2, 1.0, 3.0)  # then the event is dead-lettered


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
    dead_letters: int = 0  # events it could not apply, not yet replayed or skipped

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
    """A rebuild could not finish (the live version is untouched)."""


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
            # The head row first, as appenders take it: DDL on a view table and an
            # append's inline write to it then queue in one order (no deadlock when a
            # process starts while others append).
            await conn.execute("SELECT 1 FROM event_head FOR UPDATE")
            for p in self.projections:
                await p.create_schema(conn)

    # -- catching up -------------------------------------------------------------------

    async def read_batch(self, conn: asyncpg.Connection, p: Projection, after: int
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

    async def apply_batch(self, conn: asyncpg.Connection, p: Projection,
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
            batch, upto = await self.read_batch(conn, p, row["position"])
            position, failure = await self.apply_batch(conn, p, batch, upto)
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
                        await self._dead_letter(conn, failure, attempts + 1)
                        attempts = 0
                        continue
                    attempts = 0
                    if at_head:
                        break
        return total

    async def _dead_letter(self, conn: asyncpg.Connection, failure: Failure,
                           attempts: int) -> None:
        """Record the failing event and move the projection past it (one transaction;
        nothing happens if another runner moved the projection meanwhile)."""
        name = f"projection:{failure.projection}"
        async with conn.transaction():
            position = await conn.fetchval(
                "SELECT position FROM tracking WHERE name = $1 FOR UPDATE", name)
            if position != failure.event.position - 1:
                return
            await dead_letter_table.record(conn, name, failure.event, failure.error, attempts)
            await conn.execute("UPDATE tracking SET position = $1, updated_at = now()"
                               " WHERE name = $2", failure.event.position, name)
        metrics.DEAD_LETTERS.labels(name).inc()
        log.error("projection %s: dead-lettered %s; going on", failure.projection,
                  failure.describe())

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
            dead = {r["consumer"]: r["n"] for r in await conn.fetch(
                "SELECT consumer, count(*) AS n FROM dead_letters WHERE status = 'failed'"
                " GROUP BY consumer")}
        out = []
        for p in self.projections:
            row = rows.get(p.tracking_name)
            if row is None:
                continue
            shadow = rows.get(REBUILD_PREFIX + p.name)
            out.append(Status(p.name, row["position"], head, row["paused"], row["error"],
                              row["error_position"], row["error_at"],
                              shadow["position"] if shadow is not None else None,
                              dead.get(p.tracking_name, 0)))
        return out

    async def rebuild(self, name: str, progress: Progress | None = None) -> int:
        """Rebuild one projection online from position 0 (see ``projections.rebuild``);
        returns the number of events replayed."""
        return await rebuild_online(self, self.get(name), progress)

    # -- dead letters --------------------------------------------------------------------

    async def dead_letters(self, consumer: str | None = None, *, open_only: bool = True
                           ) -> list[DeadLetter]:
        """Dead letters of one consumer (``projection:<name>``, ``follower:<name>``) or
        of all; only those still failed unless ``open_only`` is false."""
        async with self.store.pool.acquire() as conn:
            return await dead_letter_table.listing(conn, consumer, open_only)

    async def skip(self, consumer: str, positions: Sequence[int] | None = None) -> int:
        """Mark open dead letters as dealt with (all of the consumer's, or those at
        ``positions``); returns how many."""
        async with self.store.pool.acquire() as conn:
            return await dead_letter_table.skip(conn, consumer, positions)

    async def replay(self, consumer: str, positions: Sequence[int] | None = None
                     ) -> list[tuple[int, str | None]]:
        """Try open dead letters again (all of the consumer's, or those at ``positions``),
        in log order: (position, None when it was applied, else the error). A
        projection's are applied here, to its live tables; a follower's are handed to
        the running follower (it picks them up on its next beat: "queued")."""
        letters = [d for d in await self.dead_letters(consumer)
                   if positions is None or d.position in positions]
        if consumer.startswith("follower:"):
            async with self.store.pool.acquire() as conn:
                await dead_letter_table.ask_retry(conn, consumer, [d.position for d in letters])
            return [(d.position, "queued") for d in letters]
        p = self.get(consumer.removeprefix("projection:"))
        out: list[tuple[int, str | None]] = []
        async with self.store.pool.acquire() as conn:
            for letter in letters:
                events = await self.store.read_all(letter.position - 1, 1, conn=conn)
                if not events or events[0].position != letter.position:
                    out.append((letter.position, "the event is not in the log"))
                    continue
                try:
                    async with conn.transaction():
                        await conn.execute("SELECT 1 FROM tracking WHERE name = $1"
                                           " FOR UPDATE", p.tracking_name)
                        await p.apply(conn, events[0])
                        await dead_letter_table.replayed(conn, consumer, letter.position)
                    out.append((letter.position, None))
                except Exception as exc:
                    await dead_letter_table.record(conn, consumer, events[0], exc, 1)
                    out.append((letter.position, f"{type(exc).__name__}: {exc}"))
        return out

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
        failures = 0
        while not stop.is_set():
            try:
                lagging = await self.behind()
                if lagging:
                    await self.catch_up(lagging)
                head = await self.store.head()
                failures = 0
            except Exception as exc:  # the database went away, or a bug: never stop
                failures += 1
                log.error("projection runner: step failed (%s: %s); retrying (try %d)",
                          type(exc).__name__, exc, failures,
                          exc_info=not is_transient(exc))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff(failures, cap=10.0))
                continue
            await notifier.wait(head, stop=stop)


def measure_rates(before: dict[str, int], after: dict[str, int], seconds: float
                  ) -> dict[str, float]:
    """Events per second each projection applied between two position readings."""
    return {name: (after.get(name, 0) - pos) / seconds for name, pos in before.items()}
