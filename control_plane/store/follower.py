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

Surviving the database
----------------------
``run`` is a supervisor: a *session* takes the lock on a connection of its own,
then follows the log while a watcher writes the follower's ``liveness`` row on that
connection every ``beat_interval`` seconds (which also proves the connection, and so
the lock, is still there). Any failure (the connection dropped, the lock lost, the
log unreadable) ends the session: nothing new is dispatched, handlers still running
get ``grace`` seconds and are then cancelled, and their events stay unrecorded. The
supervisor logs it, waits (exponential backoff, capped) and starts a new session,
which re-acquires the lock before it acts and reads its position again.

A handler that fails is tried again with backoff: for as long as it takes when the
failure is about reaching the database, ``max_attempts`` times otherwise. An event
that still fails is recorded in ``dead_letters`` (so one bad event never stops a
follower for everyone) and the follower goes on; an operator can mark it for
another try (``control-plane projections replay``), which the running follower picks
up on its next beat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

import asyncpg

from control_plane.observability import logs, metrics
from control_plane.store import db, dead_letters, liveness
from control_plane.store.db import is_transient
from control_plane.store.eventstore import EventStore, RecordedEvent
from control_plane.store.notifier import Notifier

log = logging.getLogger(__name__)


def backoff(attempt: int, base: float = 0.2, cap: float = 5.0) -> float:
    """Seconds to wait before try ``attempt + 1`` (exponential, capped)."""
    return float(min(cap, base * 2 ** max(attempt - 1, 0)))


class LockLost(Exception):
    """The follower's lock (its connection) is gone."""


class Follower:
    name: str = "follower"
    types: Sequence[str] = ()
    concurrency: int = 1
    batched: bool = False
    max_attempts: int = 8  # tries of a handler failing for a reason other than the database
    beat_interval: float = 1.0  # seconds between liveness writes (and lock checks)
    grace: float = 5.0  # seconds running handlers get once the lock is lost
    max_backoff: float = 10.0  # longest wait between two sessions

    def __init__(self, store: EventStore, notifier: Notifier) -> None:
        self.store = store
        self.notifier = notifier
        self._locks: dict[str, asyncio.Lock] = {}
        self._inflight: set[int] = set()
        self._dispatched = 0
        self._recorded = 0
        self._sem = asyncio.Semaphore(self.concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self.idle = asyncio.Event()
        self.active = False  # holds its lock and follows the log
        # starting, standby (another process holds the lock), active, reconnecting
        # (a session failed; the next starts after a backoff), stopped
        self.state = "starting"
        self.sessions = 0  # sessions started (a new one after each lost connection)

    @property
    def tracking_name(self) -> str:
        return f"follower:{self.name}"

    def liveness_hosts(self) -> list[str]:
        """Hosts this follower serves (a compute worker's), written with its liveness."""
        return []

    async def handle(self, event: RecordedEvent) -> None:
        raise NotImplementedError

    async def handle_batch(self, events: list[RecordedEvent]) -> None:
        """Followers that work better on many events at once override this and set
        ``batched``; the batch is handled before the tracked position moves past it."""
        raise NotImplementedError

    async def on_locked(self, conn: asyncpg.Connection) -> None:
        """Called with the connection holding the follower's lock (held while the session
        runs; session advisory locks taken on it are released when it is lost)."""

    async def on_start(self) -> None:
        """Called once a session holds its lock, before it reads the log."""

    async def on_session_end(self) -> None:
        """Called when a session ends (lost, or stopping), before the next one starts."""

    async def on_beat(self) -> None:
        """Called on every beat while the session runs; raise to end the session."""

    # -- the supervisor ----------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        attempt = 0
        while not stop.is_set():
            self.sessions += 1
            try:
                await self._session(stop)
                attempt = 0
            except Exception as exc:
                attempt += 1
                self.state = "reconnecting"
                metrics.FOLLOWER_FAILURES.labels(self.name).inc()
                log.error("%s: session ended (%s: %s); starting again (try %d)", self.name,
                          type(exc).__name__, exc, attempt,
                          exc_info=not is_transient(exc) and not isinstance(exc, LockLost))
            finally:
                self.active = False
            if stop.is_set():
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), backoff(attempt, cap=self.max_backoff))
        self.state = "stopped"
        await self._forget_liveness()

    async def _session(self, stop: asyncio.Event) -> None:
        key = zlib.crc32(self.tracking_name.encode())
        # a connection of its own (not the pool's): the lock lives and dies with it
        async with asyncio.timeout(30):
            conn = await db.connect(self.notifier.dsn)
        try:
            while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", key):
                self.state = "standby"
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 2.0)
                if stop.is_set():
                    return
            try:
                await self.on_locked(conn)
                await self._beat(conn)
                log.info("%s: holds its lock; following the log", self.name)
                await self._run_session(conn, stop)
            finally:
                await self.on_session_end()
        finally:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(5):
                    await conn.close()  # releases the session's locks

    async def _run_session(self, conn: asyncpg.Connection, stop: asyncio.Event) -> None:
        follow = asyncio.create_task(self._follow(stop), name=f"{self.name}:follow")
        watch = asyncio.create_task(self._watch(conn, stop), name=f"{self.name}:watch")
        try:
            await asyncio.wait({follow, watch}, return_when=asyncio.FIRST_COMPLETED)
            if stop.is_set() and not follow.done() and not (
                    watch.done() and watch.exception() is not None):
                await asyncio.wait({follow})  # a clean stop: running handlers finish
        finally:
            for task in (follow, watch):
                if not task.done():
                    task.cancel()
            results = await asyncio.gather(follow, watch, return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):
                raise result

    async def _watch(self, conn: asyncpg.Connection, stop: asyncio.Event) -> None:
        """Beat until ``stop``; raises ``LockLost`` when the lock's connection is gone."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.beat_interval)
            if stop.is_set():
                return
            try:
                retries = await self._beat(conn)
            except Exception as exc:
                self.active = False  # work that needs the lock stops now
                raise LockLost(f"{type(exc).__name__}: {exc}") from exc
            for position in retries:
                self._retry_dead_letter(position)
            await self.on_beat()

    async def _beat(self, conn: asyncpg.Connection) -> list[int]:
        async with asyncio.timeout(max(5.0, self.beat_interval * 3)):
            retries = await liveness.beat(conn, self.name, self.liveness_hosts(),
                                          self.tracking_name)
        self.active = True
        self.state = "active"
        return retries

    async def _forget_liveness(self) -> None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5), self.store.pool.acquire() as conn:
                await liveness.forget(conn, self.name)

    # -- following the log -------------------------------------------------------------

    async def _follow(self, stop: asyncio.Event) -> None:
        for attempt in range(1, 1_000_000):
            try:
                await self.on_start()
                break
            except Exception as exc:
                if is_transient(exc):
                    raise
                log.exception("%s: start-up failed (try %d); retrying", self.name, attempt)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), min(attempt, 10))
                if stop.is_set():
                    return
        position = await self.store.tracked_position(self.tracking_name)
        self._dispatched = self._recorded = position
        self._inflight = set()
        self._locks = {}
        self._sem = asyncio.Semaphore(self.concurrency)
        clean = False
        try:
            await self._follow_from(position, stop)
            clean = True
        finally:
            await self._settle(clean)

    async def _follow_from(self, position: int, stop: asyncio.Event) -> None:
        while not stop.is_set():
            head = await self.store.head()  # read before the batch: see below
            batch = await self.store.read_all(position, 500, types=list(self.types))
            if not batch:
                # Nothing of interest was committed up to ``head`` (read first, so an
                # event committing in between is not skipped): move the mark there.
                if head > position and not self._inflight:
                    self._dispatched = position = head
                    await self._record_progress()
                if not self._inflight:
                    self.idle.set()
                await self.notifier.wait(position, stop=stop)
                continue
            self.idle.clear()
            if self.batched:
                await self._run_batch(batch)
                position = self._dispatched = batch[-1].position
                await self._record_progress()
                continue
            for event in batch:
                await self._sem.acquire()
                self._inflight.add(event.position)
                self._dispatched = event.position
                self._spawn(self._run_one(event))
            position = batch[-1].position

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _settle(self, clean: bool) -> None:
        """Wait for running handlers: all of them on a clean stop; ``grace`` seconds
        when the session is lost, then cancel the rest (their events stay unrecorded,
        so the next session handles them again)."""
        tasks = set(self._tasks)
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=None if clean else self.grace)
        for task in pending:
            task.cancel()
        if pending:
            log.warning("%s: cancelled %d running handlers (lock lost)", self.name,
                        len(pending))
            await asyncio.gather(*pending, return_exceptions=True)

    async def _run_one(self, event: RecordedEvent) -> None:
        lock = self._locks.setdefault(event.stream_id, asyncio.Lock())
        finished = False
        try:
            async with lock:
                await self._handle_until_done(event)
            finished = True
        finally:
            self._sem.release()
            if not lock.locked() and not lock._waiters:  # type: ignore[attr-defined]
                self._locks.pop(event.stream_id, None)
            if finished:  # a cancelled handler's event stays below the mark
                self._inflight.discard(event.position)
                await self._record_progress()

    async def _handle_until_done(self, event: RecordedEvent,
                                 handler: Callable[[RecordedEvent], Awaitable[None]] | None
                                 = None) -> None:
        """Handle ``event``, trying again as the module's docstring says; an event that
        keeps failing is dead-lettered."""
        handler = handler or self.handle
        fields = logs.event_fields(event.event_type, event.position, event.stream_id,
                                   event.metadata)
        with logs.bound(**fields):  # the event's request id on every record
            attempt = 0
            while True:
                attempt += 1
                try:
                    log.debug("%s: handling %s", self.name, event.event_type)
                    await handler(event)
                    metrics.FOLLOWER_EVENTS.labels(self.name, event.event_type).inc()
                    return
                except Exception as exc:
                    metrics.FOLLOWER_FAILURES.labels(self.name).inc()
                    if not is_transient(exc) and attempt >= self.max_attempts:
                        log.error("%s: event %s failed %d times; dead-lettered",
                                  self.name, event.position, attempt, exc_info=True)
                        await self._dead_letter(event, exc, attempt)
                        return
                    log.warning("%s: event %s failed (try %d): %s: %s", self.name,
                                event.position, attempt, type(exc).__name__, exc,
                                exc_info=not is_transient(exc))
                await asyncio.sleep(backoff(attempt))

    async def _dead_letter(self, event: RecordedEvent, error: BaseException,
                           attempts: int) -> None:
        for attempt in range(1, 1_000_000):
            try:
                async with self.store.pool.acquire() as conn:
                    await dead_letters.record(conn, self.tracking_name, event, error, attempts)
                metrics.DEAD_LETTERS.labels(self.tracking_name).inc()
                return
            except Exception as exc:
                log.warning("%s: could not record dead letter %s (try %d): %s", self.name,
                            event.position, attempt, exc)
                await asyncio.sleep(backoff(attempt))

    async def _run_batch(self, batch: list[RecordedEvent]) -> None:
        attempt = 0
        while True:
            attempt += 1
            try:
                await self.handle_batch(batch)
                for event in batch:
                    metrics.FOLLOWER_EVENTS.labels(self.name, event.event_type).inc()
                return
            except Exception as exc:
                metrics.FOLLOWER_FAILURES.labels(self.name).inc()
                log.warning("%s: batch up to %s failed (try %d): %s: %s", self.name,
                            batch[-1].position, attempt, type(exc).__name__, exc,
                            exc_info=not is_transient(exc))
                if not is_transient(exc) and attempt >= self.max_attempts:
                    break
            await asyncio.sleep(backoff(attempt))
        # a batch that keeps failing: each event on its own, so one bad event is
        # dead-lettered and the others are handled
        for event in batch:
            await self._handle_until_done(event, self._handle_alone)

    async def _handle_alone(self, event: RecordedEvent) -> None:
        await self.handle_batch([event])

    def _retry_dead_letter(self, position: int) -> None:
        """An operator asked for another try of a dead-lettered event."""

        async def retry() -> None:
            batch = await self.store.read_all(position - 1, 1)
            if not batch or batch[0].position != position:
                return
            event = batch[0]
            try:
                await (self._handle_alone(event) if self.batched else self.handle(event))
            except Exception as exc:
                log.error("%s: dead-lettered event %s failed again", self.name, position,
                          exc_info=True)
                await self._dead_letter(event, exc, 1)
                return
            async with self.store.pool.acquire() as conn:
                await dead_letters.replayed(conn, self.tracking_name, position)
            log.info("%s: dead-lettered event %s handled", self.name, position)

        self._spawn(retry())

    async def _record_progress(self) -> None:
        mark = min(self._inflight) - 1 if self._inflight else self._dispatched
        if mark > self._recorded:
            try:
                await self.store.set_tracked_position(self.tracking_name, mark)
            except Exception as exc:  # recorded by a later call, or redone after a restart
                log.warning("%s: could not record position %d: %s", self.name, mark, exc)
            else:
                self._recorded = max(self._recorded, mark)
                metrics.FOLLOWER_POSITION.labels(self.name).set(mark)
        if not self._inflight:
            self.idle.set()
