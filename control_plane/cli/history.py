"""control-plane history: replay the event log for auditors.

    control-plane history SERVER_ID                  every event that concerns the server
    control-plane history SERVER_ID --as-of TIME     the server as it was at TIME
    control-plane history --as-of TIME               every server as it was at TIME

A table by default, JSON Lines with --json. It only reads: no migration, no
projection, no seeding runs, so it is safe against a production database.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

import orjson

from control_plane.api.compute.resources.history import render_server
from control_plane.ops import history
from control_plane.store import db
from control_plane.store.event_codec import upcast
from control_plane.store.eventstore import EventStore


def _instant(raw: str) -> dt.datetime:
    try:
        return history.parse_instant(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{raw!r} is not an ISO 8601 time, 'now' or a relative time such as -5m"
        ) from None


def add_parsers(sub: Any) -> None:
    """Add the ``history`` subcommand to the ``control-plane`` parser's subparsers."""
    p = sub.add_parser("history", help="a server's history, or servers as they were at a time",
                       description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("server_id", nargs="?", help="the server (omit with --as-of: all of them)")
    p.add_argument("--as-of", type=_instant, default=None, metavar="TIME",
                   help="show state at TIME: ISO 8601 (UTC unless it says), 'now', or "
                        "relative as --as-of=-5m (s, m, h, d, w)")
    p.add_argument("--json", action="store_true", help="JSON Lines instead of a table")
    p.add_argument("--database-url", default=None,
                   help="Postgres URL (default: $DATABASE_URL, else an embedded Postgres)")
    p.set_defaults(func=cmd_history)


async def cmd_history(args: argparse.Namespace) -> None:
    if args.server_id is None and args.as_of is None:
        raise SystemExit("control-plane history: give a server id, or --as-of TIME for all")
    pool = await db.create_pool(args.database_url or db.resolve_database_url(),
                                min_size=1, max_size=2)
    store = EventStore(pool, upcaster=upcast)
    try:
        if args.server_id is None:
            await _all_as_of(store, args.as_of, args.json)
        elif args.as_of is not None:
            await _one_as_of(store, args.server_id, args.as_of, args.json)
        else:
            await _events(store, args.server_id, args.json)
    finally:
        await pool.close()


def _line(value: Any) -> None:
    print(orjson.dumps(value).decode())


def table(headers: list[str], rows: list[list[str]]) -> str:
    """Left-aligned columns sized to their content (the last one is not padded)."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    lines = []
    for row in [headers, *rows]:
        cells = [c.ljust(w) for c, w in zip(row[:-1], widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


def _time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


async def _events(store: EventStore, server_id: str, as_json: bool) -> None:
    found = await history.server_history(store, server_id)
    if found is None:
        raise SystemExit(f"control-plane history: no server {server_id}")
    entries, _fold = found
    if as_json:
        for entry in entries:
            _line(entry.as_dict())
        return
    rows = [[_time(e.record.recorded_at), str(e.record.position), e.record.event_type,
             e.actor, str(e.record.metadata.get("request_id", "")), e.cause, e.summary]
            for e in entries]
    print(table(["TIME (UTC)", "POS", "EVENT", "ACTOR", "REQUEST", "CAUSE", "CHANGE"], rows))


async def _one_as_of(store: EventStore, server_id: str, when: dt.datetime,
                     as_json: bool) -> None:
    fold = await history.server_as_of(store, server_id, when)
    if fold is None:
        raise SystemExit(f"control-plane history: no server {server_id} at {when.isoformat()}")
    view = render_server(fold)
    if as_json:
        _line(view)
        return
    print(f"as of {when.isoformat()}")
    for key, value in view.items():
        text = value if isinstance(value, str) else orjson.dumps(value).decode()
        print(f"{key + ':':<40} {text}")


async def _all_as_of(store: EventStore, when: dt.datetime, as_json: bool) -> None:
    folds = await history.servers_as_of(store, when)
    if as_json:
        for fold in folds:
            _line(render_server(fold))
        return
    rows = []
    for fold in folds:
        b = fold.brief()
        rows.append([fold.server_id, str(b["name"]), str(b["status"]), str(b["vm_state"]),
                     history.show("task_state", b["task_state"]),
                     history.show("power_state", b["power_state"]), str(b["flavor"]),
                     history.show("host", b["host"]), "yes" if b["deleted"] else "no"])
    print(f"as of {when.isoformat()}: {len(rows)} servers")
    print(table(["ID", "NAME", "STATUS", "VM_STATE", "TASK", "POWER", "FLAVOR", "HOST",
                 "DELETED"], rows))
