"""Snapshots of long-lived aggregates (compute hosts accumulate a claim per server).

A snapshot is the eventsourcing library's ``Snapshot`` of an aggregate, stored as
JSON in ``snapshots`` (one row per stream, the latest). Loading starts from the
snapshot and replays only the events after it. Snapshots are a cache: the log is
the truth, and deleting every snapshot changes nothing but load time.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, TypeVar

import asyncpg
from eventsourcing.domain import Aggregate, Snapshot

A = TypeVar("A", bound=Aggregate)

_TIMES = ("_created_on", "_modified_on")


def snapshot_every(cls: type[Aggregate]) -> int:
    return int(getattr(cls, "SNAPSHOT_EVERY", 0))


def _encode(state: dict[str, Any]) -> dict[str, Any]:
    out = dict(state)
    for key in _TIMES:
        if isinstance(out.get(key), dt.datetime):
            out[key] = out[key].isoformat()
    return out


def _decode(state: dict[str, Any]) -> dict[str, Any]:
    out = dict(state)
    for key in _TIMES:
        if isinstance(out.get(key), str):
            out[key] = dt.datetime.fromisoformat(out[key])
    return out


async def load(conn: asyncpg.Connection, cls: type[A], stream_id: uuid.UUID) -> A | None:
    row = await conn.fetchrow(
        "SELECT stream_version, state FROM snapshots WHERE stream_id = $1", str(stream_id))
    if row is None:
        return None
    snap = Snapshot(originator_id=stream_id, originator_version=row["stream_version"],
                    timestamp=dt.datetime.now(dt.UTC), topic=cls.TOPIC,  # type: ignore[attr-defined]
                    state=_decode(row["state"]))
    return snap.mutate(None)  # type: ignore[return-value]


async def save(conn: asyncpg.Connection, aggregate: Aggregate) -> None:
    snap = Snapshot.take(aggregate)
    await conn.execute(
        "INSERT INTO snapshots (stream_id, stream_version, aggregate_type, state)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT (stream_id) DO UPDATE SET"
        " stream_version = EXCLUDED.stream_version, state = EXCLUDED.state, taken_at = now()"
        " WHERE snapshots.stream_version < EXCLUDED.stream_version",
        str(aggregate.id), aggregate.version, snap.topic, _encode(snap.state),
    )
