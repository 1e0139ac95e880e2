"""The event store: one Postgres table of events, appended to atomically with asyncpg.

Ordering guarantee for followers
--------------------------------
Positions come from the single row of ``event_head``. An appender increments it
(taking its row lock) as the first statement of its transaction and holds that
lock until commit. Appends are therefore serialised: the transaction that gets
positions 11..12 cannot commit before the one holding 10, and nobody can take
11 until 10 has committed or rolled back (a rollback returns the numbers, as the
head row update is undone too). A follower that reads ``position > N`` thus
never skips an event that commits late with a lower position, and the log has
no gaps.

Tamper evidence
---------------
Under the same lock each event gets a stream hash and a chain hash (see
``control_plane.store.hashchain``): the previous stream hashes come with the streams'
current versions, the previous chain hash with the head row, and the new head
hash is written by the insert statement, so hashing adds no round trip.
``recorded_at`` is the database clock read under the lock (one value for an
append), so it is part of what is hashed and timestamps follow the commit order.

Inline projections
------------------
Projections registered as *inline* are applied in the append transaction, so a
read sent after a write's response sees that write (read-your-writes) without
waiting. An inline projection that is behind (new, or being rebuilt) is skipped
here and caught up by the projection runner; see ``projections.runner``.
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import asyncpg

from control_plane.store import db, hashchain
from control_plane.store.notifier import NOTIFY_CHANNEL, Notifier

log = logging.getLogger(__name__)

ANY_VERSION = -1


@dataclass(frozen=True, slots=True)
class NewEvent:
    event_type: str
    data: dict[str, Any]
    schema_version: int = 1


@dataclass(frozen=True, slots=True)
class StreamAppend:
    """Events for one stream, and the version the stream must be at (0: new)."""

    stream_id: str
    expected_version: int
    events: Sequence[NewEvent]


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    position: int
    stream_id: str
    stream_version: int
    event_type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]
    recorded_at: dt.datetime


class InlineProjectionFailed(Exception):
    """An inline projection's handler failed inside an append (which is then retried
    without that projection)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


# inline projections left out of an append being retried (after one of them failed)
_SKIP_INLINE: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "skip_inline", default=frozenset())


class ConcurrencyError(Exception):
    """A stream was not at the version the appender expected."""

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(
            f"stream {stream_id!r} is at version {actual}, expected {expected}"
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class InlineProjection(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def handles(self) -> frozenset[str]: ...

    async def apply(self, conn: asyncpg.Connection, event: RecordedEvent) -> None: ...


Upcaster = Callable[[str, int, dict[str, Any]], tuple[int, dict[str, Any]]]


def _no_upcast(event_type: str, version: int, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return version, data


_HEAD = (
    "UPDATE event_head SET position = position + $1"
    " RETURNING position, chain_hash, clock_timestamp() AS now"
)

# the last event of each stream: its version and hash (one index probe per stream)
_STREAM_HEADS = """
SELECT s.stream_id, e.stream_version, e.stream_hash
FROM unnest($1::text[]) AS s(stream_id)
CROSS JOIN LATERAL (
    SELECT stream_version, stream_hash FROM events
    WHERE events.stream_id = s.stream_id ORDER BY stream_version DESC LIMIT 1
) AS e
"""

_INSERT = """
WITH head AS (UPDATE event_head SET chain_hash = $11)
INSERT INTO events (position, stream_id, stream_version, event_type, schema_version,
                    data, metadata, recorded_at, stream_hash, chain_hash)
SELECT p, s, v, t, sv, d, m, $8, sh, ch
FROM unnest($1::bigint[], $2::text[], $3::int[], $4::text[], $5::int[], $6::jsonb[],
            $7::jsonb[], $9::bytea[], $10::bytea[]) AS x(p, s, v, t, sv, d, m, sh, ch)
"""

_TRACK = (
    "INSERT INTO tracking (name, position) VALUES ($1, $2)"
    " ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position,"
    " updated_at = now() WHERE tracking.position < EXCLUDED.position"
)

_SELECT = (
    "SELECT position, stream_id, stream_version, event_type, schema_version, data,"
    " metadata, recorded_at FROM events "
)


@dataclass
class EventStore:
    pool: asyncpg.Pool
    inline: list[InlineProjection] = field(default_factory=list)
    upcaster: Upcaster = _no_upcast

    def _record(self, row: asyncpg.Record) -> RecordedEvent:
        version, data = self.upcaster(row["event_type"], row["schema_version"], row["data"])
        return RecordedEvent(
            position=row["position"],
            stream_id=row["stream_id"],
            stream_version=row["stream_version"],
            event_type=row["event_type"],
            schema_version=version,
            data=data,
            metadata=row["metadata"],
            recorded_at=row["recorded_at"],
        )

    async def append(
        self,
        appends: Sequence[StreamAppend],
        metadata: dict[str, Any] | None = None,
        *,
        tracking: tuple[str, int] | None = None,
    ) -> list[RecordedEvent]:
        """Append events to one or several streams atomically.

        Raises ``ConcurrencyError`` if any stream is not at its expected version;
        then nothing is written. ``tracking`` = (follower name, position) records a
        follower's progress in the same transaction (exactly-once processing).
        """
        total = sum(len(a.events) for a in appends)
        if total == 0 and tracking is None:
            return []
        meta = metadata or {}
        skip: frozenset[str] = frozenset()
        lost = 0
        while True:
            token = _SKIP_INLINE.set(skip) if skip else None
            committing = False
            try:
                async with self.pool.acquire() as conn:
                    tx = conn.transaction()
                    await tx.start()
                    try:
                        recorded = await self._append_in(conn, appends, meta, total)
                        if tracking is not None:
                            await conn.execute(_TRACK, tracking[0], tracking[1])
                    except BaseException:
                        if not conn.is_closed():
                            await tx.rollback()
                        raise
                    committing = True
                    await tx.commit()
                return recorded
            except db.TRANSIENT as exc:
                # The connection failed before COMMIT was sent: nothing was written, so
                # the append is tried once more on a fresh connection (a pool's idle
                # connections all fail once after the database dropped them). A failure
                # during COMMIT is not retried: the outcome is unknown.
                lost += 1
                if committing or lost > 2:
                    raise
                log.warning("append: connection lost before commit (%s: %s); trying again",
                            type(exc).__name__, exc)
            except InlineProjectionFailed as exc:
                # a projection's bug must not lose the write: append again without it
                # (it is then behind; the runner retries it and pauses it if it fails)
                log.error("inline projection %s failed (%s); appending without it",
                          exc.name, exc.__cause__)
                skip = skip | {exc.name}
            finally:
                if token is not None:
                    _SKIP_INLINE.reset(token)

    async def _append_in(
        self,
        conn: asyncpg.Connection,
        appends: Sequence[StreamAppend],
        meta: dict[str, Any],
        total: int,
    ) -> list[RecordedEvent]:
        if total == 0:
            return []
        head_row = await conn.fetchrow(_HEAD, total)
        head: int = head_row["position"]
        chain: bytes | None = head_row["chain_hash"]
        recorded_at: dt.datetime = head_row["now"]
        stamp = hashchain.timestamp(recorded_at)
        first = head - total + 1
        current: dict[str, tuple[int, bytes | None]] = {
            r["stream_id"]: (r["stream_version"], r["stream_hash"])
            for r in await conn.fetch(_STREAM_HEADS, [a.stream_id for a in appends])
        }
        cols: tuple[list[Any], ...] = ([], [], [], [], [], [], [], [], [])
        meta_norm = hashchain.normalise(meta)
        pos = first
        for a in appends:
            actual, last_hash = current.get(a.stream_id, (0, None))
            if a.expected_version != ANY_VERSION and actual != a.expected_version:
                raise ConcurrencyError(a.stream_id, a.expected_version, actual)
            for i, ev in enumerate(a.events, start=1):
                last_hash = hashchain.stream_hash(last_hash, hashchain.canonical(
                    pos, a.stream_id, actual + i, ev.event_type, ev.schema_version,
                    ev.data, meta_norm, stamp))
                chain = hashchain.chain_hash(chain, last_hash)
                for col, val in zip(
                    cols,
                    (pos, a.stream_id, actual + i, ev.event_type, ev.schema_version, ev.data,
                     meta, last_hash, chain),
                    strict=True,
                ):
                    col.append(val)
                pos += 1
            current[a.stream_id] = (actual + len(a.events), last_hash)
        try:
            await conn.execute(_INSERT, *cols[:7], recorded_at, cols[7], cols[8], chain)
        except asyncpg.UniqueViolationError as exc:  # pragma: no cover - guarded by the lock
            raise ConcurrencyError(str(exc), -1, -1) from exc
        recorded = []
        for i in range(total):
            version, data = self.upcaster(cols[3][i], cols[4][i], cols[5][i])
            recorded.append(RecordedEvent(
                position=cols[0][i],
                stream_id=cols[1][i],
                stream_version=cols[2][i],
                event_type=cols[3][i],
                schema_version=version,
                data=data,
                metadata=meta,
                recorded_at=recorded_at,
            ))
        await self._apply_inline(conn, recorded, first - 1, head)
        await conn.execute("SELECT pg_notify($1, $2)", NOTIFY_CHANNEL, str(head))
        return recorded

    async def _apply_inline(
        self, conn: asyncpg.Connection, recorded: list[RecordedEvent], prev: int, head: int
    ) -> None:
        if not self.inline:
            return
        skip = _SKIP_INLINE.get()
        names = [f"projection:{p.name}" for p in self.inline if p.name not in skip]
        current = {
            r["name"]
            for r in await conn.fetch(
                "UPDATE tracking SET position = $1, updated_at = now()"
                " WHERE name = any($2::text[]) AND position = $3 AND NOT paused"
                " RETURNING name",
                head,
                names,
                prev,
            )
        }
        for proj in self.inline:
            if f"projection:{proj.name}" not in current:
                continue
            try:
                for ev in recorded:
                    if ev.event_type in proj.handles:
                        await proj.apply(conn, ev)
            except Exception as exc:
                raise InlineProjectionFailed(proj.name) from exc

    async def read_stream(self, stream_id: str, after_version: int = 0) -> list[RecordedEvent]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                _SELECT + "WHERE stream_id = $1 AND stream_version > $2 ORDER BY stream_version",
                stream_id,
                after_version,
            )
        return [self._record(r) for r in rows]

    async def read_streams(self, stream_ids: Sequence[str]) -> dict[str, list[RecordedEvent]]:
        out: dict[str, list[RecordedEvent]] = {s: [] for s in stream_ids}
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                _SELECT + "WHERE stream_id = any($1::text[]) ORDER BY stream_id, stream_version",
                list(stream_ids),
            )
        for r in rows:
            out[r["stream_id"]].append(self._record(r))
        return out

    async def read_all(
        self,
        after: int = 0,
        limit: int = 1000,
        *,
        types: Sequence[str] | None = None,
        conn: asyncpg.Connection | None = None,
    ) -> list[RecordedEvent]:
        """Events with position > after, in order, at most ``limit`` of them."""
        if types is None:
            sql = _SELECT + "WHERE position > $1 ORDER BY position LIMIT $2"
            args: tuple[Any, ...] = (after, limit)
        else:
            sql = (
                _SELECT + "WHERE position > $1 AND event_type = any($3::text[])"
                " ORDER BY position LIMIT $2"
            )
            args = (after, limit, list(types))
        if conn is not None:
            rows = await conn.fetch(sql, *args)
        else:
            async with self.pool.acquire() as c:
                rows = await c.fetch(sql, *args)
        return [self._record(r) for r in rows]

    async def head(self) -> int:
        async with self.pool.acquire() as conn:
            value: int = await conn.fetchval("SELECT position FROM event_head")
        return value

    async def tracked_position(self, name: str) -> int:
        async with self.pool.acquire() as conn:
            value = await conn.fetchval("SELECT position FROM tracking WHERE name = $1", name)
        return int(value or 0)

    async def set_tracked_position(self, name: str, position: int) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute(_TRACK, name, position)


async def follow(
    store: EventStore,
    notifier: Notifier,
    start_after: int,
    *,
    batch_size: int = 500,
    stop: asyncio.Event | None = None,
) -> AsyncIterator[list[RecordedEvent]]:
    """Yield batches of events after ``start_after`` forever (or until ``stop`` is set)."""
    position = start_after
    while stop is None or not stop.is_set():
        batch = await store.read_all(position, batch_size)
        if batch:
            position = batch[-1].position
            yield batch
            continue
        await notifier.wait(position)
