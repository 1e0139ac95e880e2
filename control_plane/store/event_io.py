"""Exporting the event log as JSON Lines, and importing a full export into an empty store.

An export line is one event, every column of ``events`` under stable names::

    {"position": 7, "stream_id": "...", "stream_version": 2, "event_type": "ServerCreated",
     "schema_version": 1, "data": {...}, "metadata": {...},
     "recorded_at": "2026-11-28T08:37:24.123456+00:00",
     "stream_hash": "<hex>", "chain_hash": "<hex>"}

Data is as stored (not upcast); timestamps are ISO 8601 in UTC; hashes are hex
(``null`` for events recorded before hashing existed). An export reads one
snapshot through a server-side cursor and may be filtered by stream, type and
time (``since`` inclusive, ``until`` exclusive).

Import takes only a full export, or one cut off at a time (``until``), which is
a prefix of the log: positions must run 1, 2, 3, ... and each chain hash must
follow from the previous one, so a filtered export (a subset, which cannot
reproduce the chain) is refused rather than imported as new events. The store
must be empty. All rows are written in one transaction as they are (positions,
versions, timestamps, metadata, schema versions, hashes), the head is set to the
last event, and the whole log is verified (``control_plane.ops.audit``) before the
commit, so an import either gives an intact chain identical to the source's or
leaves nothing behind. The caller then rebuilds the projections.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson

from control_plane.ops import audit
from control_plane.store import hashchain

FIELDS = ("position", "stream_id", "stream_version", "event_type", "schema_version", "data",
          "metadata", "recorded_at", "stream_hash", "chain_hash")

_INSERT = """
INSERT INTO events (position, stream_id, stream_version, event_type, schema_version,
                    data, metadata, recorded_at, stream_hash, chain_hash)
SELECT * FROM unnest($1::bigint[], $2::text[], $3::int[], $4::text[], $5::int[],
                     $6::jsonb[], $7::jsonb[], $8::timestamptz[], $9::bytea[], $10::bytea[])
"""


class ImportRefused(Exception):
    """The store is not empty, or the file is not a full export with an intact chain."""


@dataclass(frozen=True, slots=True)
class ExportFilter:
    streams: Sequence[str] = ()
    types: Sequence[str] = ()
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def where(self) -> tuple[str, list[Any]]:
        clauses, args = [], []
        for column, value, op in (("stream_id", self.streams, "= any({}::text[])"),
                                  ("event_type", self.types, "= any({}::text[])"),
                                  ("recorded_at", self.since, ">= {}"),
                                  ("recorded_at", self.until, "< {}")):
            if value is None or (isinstance(value, list | tuple) and not value):
                continue
            args.append(list(value) if isinstance(value, list | tuple) else value)
            clauses.append(f"{column} {op.format(f'${len(args)}')}")
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), args


def event_line(row: asyncpg.Record | dict[str, Any]) -> bytes:
    """One export line (with its newline) for a row of ``events``."""
    s, c = row["stream_hash"], row["chain_hash"]
    return orjson.dumps({
        "position": row["position"], "stream_id": row["stream_id"],
        "stream_version": row["stream_version"], "event_type": row["event_type"],
        "schema_version": row["schema_version"], "data": row["data"],
        "metadata": row["metadata"], "recorded_at": hashchain.timestamp(row["recorded_at"]),
        "stream_hash": s.hex() if s is not None else None,
        "chain_hash": c.hex() if c is not None else None,
    }, option=orjson.OPT_APPEND_NEWLINE)


async def export_lines(conn: asyncpg.Connection, where: ExportFilter | None = None, *,
                       prefetch: int = 1000) -> AsyncIterator[bytes]:
    """Export lines in position order, from one snapshot (needs the json codecs)."""
    clause, args = (where or ExportFilter()).where()
    sql = f"SELECT {', '.join(FIELDS)} FROM events{clause} ORDER BY position"
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        async for row in conn.cursor(sql, *args, prefetch=prefetch):
            yield event_line(row)


def _parse(line: bytes, number: int) -> tuple[Any, ...]:
    try:
        obj = orjson.loads(line)
        missing = [f for f in FIELDS if f not in obj]
        if missing:
            raise ValueError(f"missing {', '.join(missing)}")
        return (int(obj["position"]), str(obj["stream_id"]), int(obj["stream_version"]),
                str(obj["event_type"]), int(obj["schema_version"]), obj["data"],
                obj["metadata"], dt.datetime.fromisoformat(obj["recorded_at"]),
                bytes.fromhex(obj["stream_hash"]) if obj["stream_hash"] is not None else None,
                bytes.fromhex(obj["chain_hash"]) if obj["chain_hash"] is not None else None)
    except (ValueError, TypeError, AttributeError) as exc:
        raise ImportRefused(f"line {number}: not an exported event ({exc})") from None


class _Batch:
    """Rows to insert, one list per column."""

    def __init__(self) -> None:
        self.cols: tuple[list[Any], ...] = tuple([] for _ in FIELDS)

    def add(self, values: tuple[Any, ...]) -> None:
        for col, value in zip(self.cols, values, strict=True):
            col.append(value)

    def __len__(self) -> int:
        return len(self.cols[0])


async def import_lines(conn: asyncpg.Connection, lines: AsyncIterable[bytes], *,
                       batch_size: int = 1000) -> audit.AuditReport:
    """Import a full export into the empty store on ``conn`` (one transaction)."""
    async with conn.transaction():
        head = await conn.fetchrow("SELECT position FROM event_head FOR UPDATE")
        count = await conn.fetchval("SELECT count(*) FROM events")
        if count or head["position"]:
            raise ImportRefused(f"the event store is not empty ({count} events, head at"
                                f" {head['position']}); import needs an empty store")
        last, chain_start = 0, None
        chain: bytes | None = None
        batch = _Batch()
        number = 0
        async for line in lines:
            number += 1
            if not line.strip():
                continue
            values = _parse(line, number)
            position, stream_hash, chain_hash = values[0], values[8], values[9]
            if position != last + 1:
                raise ImportRefused(
                    f"line {number}: position {position} after {last}; import accepts only"
                    " full exports (positions 1, 2, 3, ...), not filtered ones")
            if stream_hash is not None and chain_hash is not None:
                chain_start = chain_start or position
                if hashchain.chain_hash(chain, stream_hash) != chain_hash:
                    raise ImportRefused(f"line {number}: position {position} does not follow"
                                        " the previous event's chain hash")
            elif chain_start is not None:
                raise ImportRefused(f"line {number}: position {position} has no hashes")
            chain, last = chain_hash, position
            batch.add(values)
            if len(batch) >= batch_size:
                await conn.execute(_INSERT, *batch.cols)
                batch = _Batch()
        if len(batch):
            await conn.execute(_INSERT, *batch.cols)
        await conn.execute(
            "UPDATE event_head SET position = $1, chain_hash = $2, chain_start = $3",
            last, chain, chain_start or last + 1)
        report = await audit.verify(conn)
        if not report.intact:
            raise ImportRefused("the imported log does not verify:\n" + "\n".join(
                report.lines()))
    return report
