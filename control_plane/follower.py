"""Followers: processes that react to events (scheduler, compute workers).

A follower reads the log after its tracked position, handles the event types it
cares about, and records its progress in ``tracking``. Handlers may run
concurrently (bounded), but events of one stream are handled one at a time in
log order. The tracked position only advances past an event once it and every
event before it are done (a low-water mark), so a restarted follower never
skips work; work that was done but not yet recorded is found to be done by the
handler's own check of the aggregate's state, so it is not repeated.

Only one instance of a follower name is active at a time (a Postgres advisory
lock), so several processes can be started for availability.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections.abc import Sequence

import asyncpg

from control_plane import logs, metrics
from control_plane.eventstore import EventStore, Notifier, RecordedEvent

log = logging.getLogger(__name__)


class Follower:
    name: str = "follower"
    types: Sequence[str] = ()
    concurrency: int = 1

    def __init__(self, store: EventStore, notifier: Notifier) -> None:
        self.store = store
        self.notifier = notifier
        self._locks: dict[str, asyncio.Lock] = {}
        self._inflight: set[int] = set()
        self._dispatched = 0
        self._recorded = 0
        self.idle = asyncio.Event()

    @property
    def tracking_name(self) -> str:
        return f"follower:{self.name}"

    async def handle(self, event: RecordedEvent) -> None:
        raise NotImplementedError

    async def handle_batch(self, events: list[RecordedEvent]) -> None:
        """Followers that work better on many events at once override this and set
        ``batched``; the batch is handled before the tracked position moves past it."""
        raise NotImplementedError

    batched: bool = False

    async def on_locked(self, conn: asyncpg.Connection) -> None:
        """Called with the connection holding the follower's lock (held while it runs;
        session advisory locks taken on it are released when it goes back to the pool)."""

    async def on_start(self) -> None:
        """Called once the follower holds its lock, before it reads the log."""

    async def _run_one(self, event: RecordedEvent, sem: asyncio.Semaphore) -> None:
        lock = self._locks.setdefault(event.stream_id, asyncio.Lock())
        fields = logs.event_fields(event.event_type, event.position, event.stream_id,
                                   event.metadata)
        try:
            async with lock:
                with logs.bound(**fields):  # the event's request id on every record
                    for attempt in range(5):
                        try:
                            log.debug("%s: handling %s", self.name, event.event_type)
                            await self.handle(event)
                            metrics.FOLLOWER_EVENTS.labels(self.name, event.event_type).inc()
                            break
                        except (asyncpg.PostgresError, OSError):
                            metrics.FOLLOWER_FAILURES.labels(self.name).inc()
                            log.exception("%s: event %s failed (try %d)", self.name,
                                          event.position, attempt + 1)
                            await asyncio.sleep(0.2 * (attempt + 1))
                    else:
                        log.error("%s: giving up on event %s", self.name, event.position)
        finally:
            sem.release()
            self._inflight.discard(event.position)
            if not lock.locked() and not lock._waiters:  # type: ignore[attr-defined]
                self._locks.pop(event.stream_id, None)
            await self._record_progress()

    async def _run_batch(self, batch: list[RecordedEvent]) -> None:
        for attempt in range(1, 1_000_000):
            try:
                await self.handle_batch(batch)
                for event in batch:
                    metrics.FOLLOWER_EVENTS.labels(self.name, event.event_type).inc()
                return
            except (asyncpg.PostgresError, OSError):
                metrics.FOLLOWER_FAILURES.labels(self.name).inc()
                log.exception("%s: batch up to %s failed (try %d)", self.name,
                              batch[-1].position, attempt)
                await asyncio.sleep(min(0.2 * attempt, 5))

    async def _record_progress(self) -> None:
        mark = min(self._inflight) - 1 if self._inflight else self._dispatched
        if mark > self._recorded:
            self._recorded = mark
            await self.store.set_tracked_position(self.tracking_name, mark)
            metrics.FOLLOWER_POSITION.labels(self.name).set(mark)
        if not self._inflight:
            self.idle.set()

    async def run(self, stop: asyncio.Event) -> None:
        async with self.store.pool.acquire() as lock_conn:
            key = zlib.crc32(self.tracking_name.encode())
            while not await lock_conn.fetchval("SELECT pg_try_advisory_lock($1)", key):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 2.0)
                if stop.is_set():
                    return
            try:
                await self.on_locked(lock_conn)
                await self._follow(stop)
            finally:
                await lock_conn.execute("SELECT pg_advisory_unlock($1)", key)

    async def _follow(self, stop: asyncio.Event) -> None:
        for attempt in range(1, 1_000_000):
            try:
                await self.on_start()
                break
            except Exception:
                log.exception("%s: start-up failed (try %d); retrying", self.name, attempt)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), min(attempt, 10))
                if stop.is_set():
                    return
        position = await self.store.tracked_position(self.tracking_name)
        self._dispatched = self._recorded = position
        sem = asyncio.Semaphore(self.concurrency)
        tasks: set[asyncio.Task[None]] = set()
        try:
            while not stop.is_set():
                head = await self.store.head()  # read before the batch: see _follow's note
                batch = await self.store.read_all(position, 500, types=list(self.types))
                if not batch:
                    # Nothing of interest was committed up to ``head`` (read first, so an
                    # event committing in between is not skipped): move the mark there.
                    if head > position and not self._inflight:
                        self._dispatched = position = head
                        await self._record_progress()
                    if not self._inflight:
                        self.idle.set()
                    waiter = asyncio.ensure_future(self.notifier.wait(position))
                    stopper = asyncio.ensure_future(stop.wait())
                    await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
                    waiter.cancel()
                    stopper.cancel()
                    continue
                self.idle.clear()
                if self.batched:
                    await self._run_batch(batch)
                    position = self._dispatched = batch[-1].position
                    await self._record_progress()
                    continue
                for event in batch:
                    await sem.acquire()
                    self._inflight.add(event.position)
                    self._dispatched = event.position
                    task = asyncio.create_task(self._run_one(event, sem))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                position = batch[-1].position
        finally:
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
