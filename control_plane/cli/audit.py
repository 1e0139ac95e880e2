"""``control-plane audit verify`` and ``control-plane events export|import``.

``audit verify`` exits 0 when the log is intact, 1 when anything is wrong (every
problem is printed), 2 when the database has no hash chain to check.
``events import`` exits 1 when it refuses (store not empty, file not a full export,
chain broken), having written nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import AsyncIterator
from typing import Any

import anyio
import asyncpg

from control_plane.ops import audit
from control_plane.store import db, event_io


def _dsn(args: argparse.Namespace) -> str:
    return str(args.database_url or db.resolve_database_url())


def _time(value: str) -> dt.datetime:
    """An ISO 8601 time; without a zone it is UTC."""
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {value!r}") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def _anchor(value: str) -> tuple[int, bytes]:
    try:
        position, _, digest = value.partition(":")
        return int(position), bytes.fromhex(digest)
    except ValueError:
        raise argparse.ArgumentTypeError("expected POSITION:HASH (hex)") from None


async def cmd_verify(args: argparse.Namespace) -> None:
    conn = await db.connect(_dsn(args))
    try:
        report = await audit.verify(conn, anchor=args.anchor)
    except asyncpg.UndefinedColumnError:
        print("control-plane: this event store has no hash chain (migration 4 not applied;"
              " start the control plane once to migrate it)", file=sys.stderr)
        raise SystemExit(2) from None
    finally:
        await conn.close()
    for line in report.lines():
        print(line)
    if not report.intact:
        raise SystemExit(1)


async def cmd_export(args: argparse.Namespace) -> None:
    where = event_io.ExportFilter(args.stream or (), args.type or (), args.since, args.until)
    conn = await db.connect(_dsn(args))
    try:
        if args.output and args.output != "-":
            async with await anyio.open_file(args.output, "wb") as out:
                count = await _write(conn, where, out)
        else:
            count = await _write(conn, where, anyio.wrap_file(sys.stdout.buffer))
    finally:
        await conn.close()
    print(f"exported {count} events", file=sys.stderr)


async def _write(conn: asyncpg.Connection, where: event_io.ExportFilter,
                 out: anyio.AsyncFile[bytes]) -> int:
    count, chunk = 0, []
    async for line in event_io.export_lines(conn, where):
        chunk.append(line)
        count += 1
        if len(chunk) >= 1000:
            await out.write(b"".join(chunk))
            chunk.clear()
    await out.write(b"".join(chunk))
    await out.flush()
    return count


async def _lines(path: str) -> AsyncIterator[bytes]:
    if path == "-":
        async for line in anyio.wrap_file(sys.stdin.buffer):
            yield line
        return
    async with await anyio.open_file(path, "rb") as f:
        async for line in f:
            yield line


async def cmd_import(args: argparse.Namespace) -> None:
    from control_plane.bootstrap import open_system  # the full system, for the rebuild

    system = await open_system(_dsn(args), seed=False)
    try:
        async with system.pool.acquire() as conn:
            try:
                report = await event_io.import_lines(conn, _lines(args.file))
            except event_io.ImportRefused as exc:
                print(f"control-plane: import refused: {exc}", file=sys.stderr)
                raise SystemExit(1) from None
        for projection in system.runner.projections:
            await system.runner.rebuild(projection.name)
    finally:
        await system.close()
    print(f"imported: {report.summary()}; projections rebuilt")


def _database_url(p: argparse.ArgumentParser) -> None:
    p.add_argument("--database-url", default=None,
                   help="Postgres URL (default: $DATABASE_URL, else an embedded Postgres)")


def add_parsers(sub: Any) -> None:
    """Add the ``audit`` and ``events`` commands to the ``control-plane`` parser."""
    auditp = sub.add_parser("audit", help="check the event log's hash chains")
    actions = auditp.add_subparsers(dest="audit_action", required=True)
    verify = actions.add_parser(
        "verify", help="walk the whole log; exit 1 and list every event that was changed,"
        " removed, inserted or reordered")
    verify.add_argument("--anchor", type=_anchor, default=None, metavar="POSITION:HASH",
                        help="also check the chain hash at POSITION against one recorded"
                        " earlier (e.g. a previous verify's head)")
    _database_url(verify)
    verify.set_defaults(func=cmd_verify)

    events = sub.add_parser("events", help="export the event log, or import an export")
    actions = events.add_subparsers(dest="events_action", required=True)
    export = actions.add_parser("export", help="write events as JSON Lines")
    export.add_argument("--stream", action="append", metavar="ID", help="only this stream"
                        " (repeatable)")
    export.add_argument("--type", action="append", metavar="TYPE", help="only this event"
                        " type (repeatable)")
    export.add_argument("--since", type=_time, help="recorded at or after this ISO 8601 time")
    export.add_argument("--until", type=_time, help="recorded before this ISO 8601 time")
    export.add_argument("-o", "--output", default=None, help="file (default: stdout)")
    _database_url(export)
    export.set_defaults(func=cmd_export)

    imp = actions.add_parser("import", help="load a full export into an empty store and"
                             " rebuild the projections")
    imp.add_argument("file", help="an export file ('-': stdin)")
    _database_url(imp)
    imp.set_defaults(func=cmd_import)
