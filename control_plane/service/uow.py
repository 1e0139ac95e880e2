"""Unit of work: load aggregates, collect their new events, append them atomically.

A unit of work is never built inline by a handler: ``Deps`` carries the factory that
bootstrap builds (``deps.unit_of_work()``, ``deps.retrying(work)``), so a test can run
the same handlers on the in-memory event store (``control_plane.store.memory``). What
a unit of work needs of a store is written down here (``EventLog``,
``SnapshotStore``), and both stores provide it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeVar

import asyncpg
from eventsourcing.domain import Aggregate, Snapshot

from control_plane.api.faults import Conflict
from control_plane.observability import metrics
from control_plane.store import aggregate_snapshots as snapshots
from control_plane.store.event_codec import replay, to_domain_event, to_new_event
from control_plane.store.eventstore import ConcurrencyError, EventStore, RecordedEvent, StreamAppend

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")


class EventLog(Protocol):
    """What a unit of work needs of an event store (``EventStore`` in Postgres, and
    ``MemoryEventStore`` for tests). ``pool`` serves the few handlers that read a view
    while deciding; the in-memory store has none and refuses."""

    @property
    def pool(self) -> asyncpg.Pool: ...

    async def read_stream(self, stream_id: str, after_version: int = 0
                          ) -> list[RecordedEvent]: ...

    async def read_streams(self, stream_ids: Sequence[str]
                           ) -> dict[str, list[RecordedEvent]]: ...

    async def append(self, appends: Sequence[StreamAppend],
                     metadata: dict[str, Any] | None = None, *,
                     tracking: tuple[str, int] | None = None) -> list[RecordedEvent]: ...


class SnapshotStore(Protocol):
    """Where snapshots of long-lived aggregates are kept (a cache: the log is the truth)."""

    async def load(self, cls: type[A], ids: Sequence[uuid.UUID]
                   ) -> dict[uuid.UUID, A | None]: ...

    async def save(self, aggregates: Sequence[Aggregate]) -> None: ...


class SnapshotTable:
    """Snapshots in the ``snapshots`` table (``control_plane.store.aggregate_snapshots``)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def load(self, cls: type[A], ids: Sequence[uuid.UUID]
                   ) -> dict[uuid.UUID, A | None]:
        # read on one connection, released before the streams are read (which take
        # their own): holding one while waiting for another deadlocks a full pool under
        # concurrent loads
        async with self.pool.acquire() as conn:
            return {i: await snapshots.load(conn, cls, i) for i in ids}

    async def save(self, aggregates: Sequence[Aggregate]) -> None:
        async with self.pool.acquire() as conn:
            for agg in aggregates:
                await snapshots.save(conn, agg)


class RecentStates:
    """Aggregates of hot streams, kept in this process after a load or a commit (classes
    that set ``KEEP_RECENT``, e.g. a project's quota usage, read on every create).

    An entry is used only if the stream's event at the kept version is still the one
    that was kept (same position and commit time); loading then reads just that event
    and any newer ones. Anything else (another database, a rebuilt log) is a miss and
    the stream is loaded as usual. Kept states are shared, so such aggregates' events
    must replace their state's containers, never change them in place.
    """

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._kept: collections.OrderedDict[
            uuid.UUID, tuple[tuple[int, int, Any], Snapshot]] = collections.OrderedDict()

    @staticmethod
    def _mark(record: RecordedEvent) -> tuple[int, int, Any]:
        return record.position, record.stream_version, record.recorded_at

    def keep(self, agg: Aggregate, last: RecordedEvent) -> None:
        if last.stream_version == agg.version:
            self._kept[agg.id] = (self._mark(last), Snapshot.take(agg))
            self._kept.move_to_end(agg.id)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)

    async def load(self, store: EventLog, cls: type[A], aggregate_id: uuid.UUID
                   ) -> A | None:
        kept = self._kept.get(aggregate_id)
        if kept is None:
            return None
        mark, snap = kept
        records = await store.read_stream(str(aggregate_id), after_version=mark[1] - 1)
        if not records or self._mark(records[0]) != mark:
            self._kept.pop(aggregate_id, None)
            return None
        agg: A = snap.mutate(None)  # type: ignore[assignment]
        for record in records[1:]:
            agg = to_domain_event(record, cls.TOPIC).mutate(agg)  # type: ignore
        self.keep(agg, records[-1])
        return agg


RECENT = RecentStates()  # the process's (units of work on the Postgres store share it)


class UnitOfWork:
    """One decision's aggregates: loaded from ``store`` (and ``snapshots``), their new
    events appended together by ``commit``. ``snapshots`` may be left out only for the
    Postgres ``EventStore`` (its database's table is used); ``recent`` is the cache of
    hot streams' states (the process's own by default)."""

    def __init__(self, store: EventLog, snapshots: SnapshotStore | None = None,
                 recent: RecentStates | None = None) -> None:
        if snapshots is None:
            if not isinstance(store, EventStore):
                raise TypeError("a unit of work on this store needs its snapshot store")
            snapshots = SnapshotTable(store.pool)
        self.store = store
        self.snapshots = snapshots
        self.recent = RECENT if recent is None else recent
        self._tracked: dict[uuid.UUID, tuple[Aggregate, int]] = {}

    async def get(self, cls: type[A], aggregate_id: uuid.UUID) -> A | None:
        if aggregate_id in self._tracked:
            return self._tracked[aggregate_id][0]  # type: ignore[return-value]
        if getattr(cls, "KEEP_RECENT", False):
            recent = await self.recent.load(self.store, cls, aggregate_id)
            if recent is not None:
                self._tracked[aggregate_id] = (recent, recent.version)
                return recent
        if snapshots.snapshot_every(cls):
            return (await self.get_many(cls, [aggregate_id])).get(aggregate_id)
        records = await self.store.read_stream(str(aggregate_id))
        agg = replay(cls, records)
        if agg is not None:
            self._tracked[aggregate_id] = (agg, agg.version)
        return agg

    async def _get_snapshotted(self, cls: type[A], ids: list[uuid.UUID]) -> None:
        loaded = await self.snapshots.load(cls, ids)
        for i, agg in loaded.items():
            after = agg.version if agg is not None else 0
            records = await self.store.read_stream(str(i), after_version=after)
            for record in records:
                agg = to_domain_event(record, cls.TOPIC).mutate(agg)  # type: ignore
            if agg is not None:
                self._tracked[i] = (agg, agg.version)

    async def get_many(self, cls: type[A], ids: list[uuid.UUID]) -> dict[uuid.UUID, A]:
        missing = [i for i in ids if i not in self._tracked]
        if missing and snapshots.snapshot_every(cls):
            await self._get_snapshotted(cls, missing)
        elif missing:
            streams = await self.store.read_streams([str(i) for i in missing])
            for i in missing:
                agg = replay(cls, streams[str(i)])
                if agg is not None:
                    self._tracked[i] = (agg, agg.version)
        return {i: self._tracked[i][0] for i in ids if i in self._tracked}  # type: ignore[misc]

    def add(self, agg: Aggregate) -> None:
        """Track a new aggregate; its stream must not exist yet."""
        self._tracked[agg.id] = (agg, 0)

    async def commit(
        self, metadata: dict[str, Any], *, tracking: tuple[str, int] | None = None
    ) -> list[RecordedEvent]:
        appends = []
        for agg, loaded_version in self._tracked.values():
            pending = agg.collect_events()
            if pending:
                appends.append(
                    StreamAppend(str(agg.id), loaded_version, [to_new_event(e) for e in pending])
                )
        recorded = await self.store.append(appends, metadata, tracking=tracking)
        metrics.count_appended(e.event_type for e in recorded)
        last = {e.stream_id: e for e in recorded}
        for agg, _ in self._tracked.values():
            if getattr(type(agg), "KEEP_RECENT", False) and str(agg.id) in last:
                self.recent.keep(agg, last[str(agg.id)])
        due = [agg for agg, loaded in self._tracked.values()
               if (every := snapshots.snapshot_every(type(agg)))
               and agg.version // every > loaded // every]
        if due:
            await self.snapshots.save(due)
        self._tracked.clear()
        return recorded


_KEY_LOCKS: dict[str, asyncio.Lock] = {}


@contextlib.asynccontextmanager
async def _keyed(key: str | None) -> AsyncIterator[None]:
    """Serialise commands on one aggregate within this process (fewer clashes)."""
    if key is None:
        yield
        return
    lock = _KEY_LOCKS.setdefault(key, asyncio.Lock())
    try:
        async with lock:
            yield
    finally:
        if not lock.locked() and not lock._waiters:  # type: ignore[attr-defined]
            _KEY_LOCKS.pop(key, None)


def units_of_work(store: EventLog, snapshots: SnapshotStore,
                  recent: RecentStates | None = None) -> Callable[[], UnitOfWork]:
    """The factory ``Deps`` carries: a fresh unit of work on ``store`` per call."""
    def unit_of_work() -> UnitOfWork:
        return UnitOfWork(store, snapshots, recent)
    return unit_of_work


async def retrying(
    unit_of_work: Callable[[], UnitOfWork],
    work: Callable[[UnitOfWork], Awaitable[T]],
    *,
    key: str | None = None,
    attempts: int = 30,
    conflict_message: str = "Request conflicted with a concurrent change; please retry.",
) -> T:
    """Run ``work`` with a fresh unit of work, again on a concurrency clash.

    Each try re-reads the aggregates, so decisions are always made on current
    state. Commands naming the same ``key`` (an aggregate id) queue up inside one
    process; clashes with other processes are retried with a growing random
    back-off, and after ``attempts`` clashes the caller gets a 409.
    """
    async with _keyed(key):
        for attempt in range(attempts):
            try:
                return await work(unit_of_work())
            except ConcurrencyError:
                metrics.APPEND_CONFLICTS.inc()
                await asyncio.sleep(random.uniform(0, 0.002 * min(attempt + 1, 10)))
    raise Conflict(conflict_message)
