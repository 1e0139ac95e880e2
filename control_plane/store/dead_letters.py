"""The ``dead_letters`` table: events a consumer (``projection:<name>``,
``follower:<name>``) could not handle, and what an operator did about them.

Followers and the projection runner record here, so one bad event never stops a
consumer for everyone; the operator's CLI lists them, skips them or asks for another
try. A letter's ``status`` is ``failed`` (open), ``retry`` (a follower is asked to try
again on its next beat), ``replayed`` or ``skipped`` (resolved).
"""

from __future__ import annotations

import traceback
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from control_plane.store.eventstore import RecordedEvent


@dataclass
class DeadLetter:
    consumer: str
    position: int
    stream_id: str
    event_type: str
    error: str
    attempts: int
    status: str
    failed_at: object
    resolved_at: object


def describe(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)[-6:])


async def record(conn: asyncpg.Connection, consumer: str, event: RecordedEvent,
                 error: BaseException, attempts: int) -> None:
    """Record (or record again) that ``consumer`` could not handle ``event``."""
    await conn.execute(
        "INSERT INTO dead_letters (consumer, position, stream_id, event_type, error,"
        " attempts) VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT (consumer, position) DO UPDATE SET error = EXCLUDED.error,"
        " attempts = dead_letters.attempts + EXCLUDED.attempts, status = 'failed',"
        " failed_at = now(), resolved_at = NULL",
        consumer, event.position, event.stream_id, event.event_type,
        f"{type(error).__name__}: {error}\n{describe(error)}", attempts)


async def listing(conn: asyncpg.Connection, consumer: str | None, open_only: bool
                  ) -> list[DeadLetter]:
    """Dead letters of one consumer or of all (only those still open if ``open_only``),
    by consumer and position."""
    rows = await conn.fetch(
        "SELECT consumer, position, stream_id, event_type, error, attempts, status,"
        " failed_at, resolved_at FROM dead_letters"
        " WHERE ($1::text IS NULL OR consumer = $1)"
        " AND (NOT $2 OR status IN ('failed', 'retry'))"
        " ORDER BY consumer, position", consumer, open_only)
    return [DeadLetter(**dict(r)) for r in rows]


async def skip(conn: asyncpg.Connection, consumer: str, positions: Sequence[int] | None
               ) -> int:
    """Mark open dead letters as dealt with (all of the consumer's, or those at
    ``positions``); returns how many."""
    result: str = await conn.execute(
        "UPDATE dead_letters SET status = 'skipped', resolved_at = now()"
        " WHERE consumer = $1 AND status IN ('failed', 'retry')"
        " AND ($2::bigint[] IS NULL OR position = any($2::bigint[]))",
        consumer, list(positions) if positions is not None else None)
    return int(result.split()[-1])


async def ask_retry(conn: asyncpg.Connection, consumer: str, positions: list[int]) -> None:
    """Hand dead letters back to their (running) follower: it tries them on its next beat."""
    await conn.execute("UPDATE dead_letters SET status = 'retry' WHERE consumer = $1"
                       " AND position = any($2::bigint[])", consumer, positions)


async def replayed(conn: asyncpg.Connection, consumer: str, position: int) -> None:
    """The dead letter at ``position`` was handled on another try."""
    await conn.execute("UPDATE dead_letters SET status = 'replayed', resolved_at = now()"
                       " WHERE consumer = $1 AND position = $2", consumer, position)


async def replace(conn: asyncpg.Connection, consumer: str, upto: int,
                  failed: list[tuple[RecordedEvent, str]]) -> None:
    """After a rebuild up to ``upto``: the events that failed (with their errors) are the
    consumer's dead letters up to there (an event an operator skipped stays skipped)."""
    await conn.execute(
        "DELETE FROM dead_letters WHERE consumer = $1 AND position <= $2 AND NOT"
        " (status = 'skipped' AND position = any($3::bigint[]))",
        consumer, upto, [event.position for event, _ in failed])
    for event, error in failed:
        await conn.execute(
            "INSERT INTO dead_letters (consumer, position, stream_id, event_type, error)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (consumer, position) DO NOTHING",
            consumer, event.position, event.stream_id, event.event_type, error)
