"""An event store in memory, for tests that decide without a database.

It keeps the promises the Postgres ``EventStore`` makes to a unit of work, so the real
``UnitOfWork`` and the real command handlers run on it unchanged:

- an append is all or nothing, and every stream must be at the version the appender
  expected (0: a new stream; ``ANY_VERSION``: any), else ``ConcurrencyError`` and
  nothing is written;
- positions are global, gap-free and in append order; the events of one append share
  one ``recorded_at``, taken from ``clock`` and never earlier than the previous one;
- event data and metadata go through the same JSON encoding as the database's jsonb
  columns, so what is read back is what Postgres would give back, upcast on read;
- a follower's position (``tracking``) is written in the same append.

It has no inline projections and no views: ``pool`` refuses, so a handler that reads a
view while deciding fails loudly here (test the aggregate's method instead).
``MemorySnapshots`` keeps aggregate snapshots the way ``SnapshotTable`` does.
"""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import asyncpg
import orjson
from eventsourcing.domain import Aggregate, Snapshot

from control_plane.store.eventstore import (
    ANY_VERSION,
    ConcurrencyError,
    RecordedEvent,
    StreamAppend,
    Upcaster,
)

A = TypeVar("A", bound=Aggregate)


def _no_upcast(event_type: str, version: int, data: dict[str, Any]
               ) -> tuple[int, dict[str, Any]]:
    return version, data


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _as_stored(value: dict[str, Any]) -> dict[str, Any]:
    """What a jsonb column gives back for ``value`` (the pool's codec is orjson too)."""
    stored: dict[str, Any] = orjson.loads(orjson.dumps(value))
    return stored


class NoDatabase:
    """Stands in for the pool of a store that has no database."""

    def acquire(self) -> Any:
        raise RuntimeError("the in-memory event store has no database: this code reads a "
                           "view (test the aggregate's method instead of the handler)")


@dataclass
class MemoryEventStore:
    upcaster: Upcaster = _no_upcast
    clock: Callable[[], dt.datetime] = _utcnow
    pool: asyncpg.Pool = field(default_factory=lambda: cast(asyncpg.Pool, NoDatabase()))
    _log: list[tuple[int, str, int, str, int, dict[str, Any], dict[str, Any], dt.datetime]] = (
        field(default_factory=list))
    _versions: dict[str, int] = field(default_factory=dict)
    _tracking: dict[str, int] = field(default_factory=dict)

    def _record(self, row: tuple[int, str, int, str, int, dict[str, Any], dict[str, Any],
                                 dt.datetime]) -> RecordedEvent:
        position, stream_id, stream_version, event_type, schema_version, data, meta, at = row
        version, upcast = self.upcaster(event_type, schema_version, copy.deepcopy(data))
        return RecordedEvent(position=position, stream_id=stream_id,
                             stream_version=stream_version, event_type=event_type,
                             schema_version=version, data=upcast,
                             metadata=copy.deepcopy(meta), recorded_at=at)

    async def append(
        self,
        appends: Sequence[StreamAppend],
        metadata: dict[str, Any] | None = None,
        *,
        tracking: tuple[str, int] | None = None,
    ) -> list[RecordedEvent]:
        """Append to one or several streams atomically (see the module docstring)."""
        total = sum(len(a.events) for a in appends)
        if total == 0 and tracking is None:
            return []
        versions = dict(self._versions)
        for a in appends:
            actual = versions.get(a.stream_id, 0)
            if a.expected_version != ANY_VERSION and actual != a.expected_version:
                raise ConcurrencyError(a.stream_id, a.expected_version, actual)
            versions[a.stream_id] = actual + len(a.events)
        meta = _as_stored(metadata or {})
        at = self.clock()
        if self._log and at < self._log[-1][7]:
            at = self._log[-1][7]
        rows = []
        position = len(self._log)
        for a in appends:
            version = self._versions.get(a.stream_id, 0)
            for event in a.events:
                position += 1
                version += 1
                rows.append((position, a.stream_id, version, event.event_type,
                             event.schema_version, _as_stored(event.data), meta, at))
        self._log.extend(rows)
        self._versions = versions
        if tracking is not None:
            name, tracked = tracking
            self._tracking[name] = max(self._tracking.get(name, 0), tracked)
        return [self._record(row) for row in rows]

    async def read_stream(self, stream_id: str, after_version: int = 0) -> list[RecordedEvent]:
        return [self._record(r) for r in self._log if r[1] == stream_id and r[2] > after_version]

    async def read_streams(self, stream_ids: Sequence[str]) -> dict[str, list[RecordedEvent]]:
        return {s: await self.read_stream(s) for s in stream_ids}

    async def read_all(self, after: int = 0, limit: int = 1000, *,
                       types: Sequence[str] | None = None) -> list[RecordedEvent]:
        """Events with position > after, in order, at most ``limit`` of them."""
        rows = [r for r in self._log[after:] if types is None or r[3] in types]
        return [self._record(r) for r in rows[:limit]]

    async def head(self) -> int:
        return len(self._log)

    async def tracked_position(self, name: str) -> int:
        return self._tracking.get(name, 0)

    async def set_tracked_position(self, name: str, position: int) -> None:
        self._tracking[name] = max(self._tracking.get(name, 0), position)


class MemorySnapshots:
    """Snapshots of aggregates, kept in memory (the latest per stream, as in Postgres)."""

    def __init__(self) -> None:
        self._kept: dict[uuid.UUID, tuple[int, str, dict[str, Any]]] = {}

    async def load(self, cls: type[A], ids: Sequence[uuid.UUID]
                   ) -> dict[uuid.UUID, A | None]:
        out: dict[uuid.UUID, A | None] = {}
        for i in ids:
            kept = self._kept.get(i)
            if kept is None:
                out[i] = None
                continue
            version, topic, state = kept
            snap = Snapshot(originator_id=i, originator_version=version,
                            timestamp=_utcnow(), topic=topic, state=copy.deepcopy(state))
            out[i] = cast(A, snap.mutate(None))
        return out

    async def save(self, aggregates: Sequence[Aggregate]) -> None:
        for agg in aggregates:
            kept = self._kept.get(agg.id)
            if kept is None or kept[0] < agg.version:
                snap = Snapshot.take(agg)
                self._kept[agg.id] = (agg.version, snap.topic, copy.deepcopy(snap.state))

    def __len__(self) -> int:
        return len(self._kept)
