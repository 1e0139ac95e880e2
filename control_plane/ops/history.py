"""Replay for auditors: a server's history, and servers as they were at any instant.

Everything here is folded from the event log with the write side's own Server
aggregate, event classes and upcasters (``control_plane.domain``); no projection
is read, so what an auditor sees is what the log says. An instant is compared with
``recorded_at`` (the time Postgres wrote the event), which grows with the position
because appends are serialised (see ``control_plane.store.eventstore``).

A server's history is its own stream, plus the events of other streams that name it
(compute host claims, volumes, floating IPs, ports, consoles, images made from it).
Secrets never leave the log in clear: sealed passwords and similar fields are
replaced by a marker, never decoded.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from control_plane.domain.registry import EVENT_TYPES
from control_plane.domain.servers import states
from control_plane.domain.servers import volume_attachments as server_volumes
from control_plane.domain.servers.aggregate import Server
from control_plane.store.event_codec import to_domain_event
from control_plane.store.eventstore import EventStore, RecordedEvent

# event data keys whose values are secret (sealed, encrypted or user-supplied content)
SENSITIVE = frozenset({"admin_pass", "password", "password_hash", "user_data", "files",
                       "key_data", "token_hash"})
POWER_STATES = {states.NOSTATE: "NOSTATE", states.RUNNING: "RUNNING",
                states.PAUSED_POWER: "PAUSED", states.SHUTDOWN: "SHUTDOWN",
                states.CRASHED: "CRASHED", states.SUSPENDED_POWER: "SUSPENDED"}
_RELATIVE = re.compile(r"^-(\d+(?:\.\d+)?)([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_COLUMNS = ("position, stream_id, stream_version, event_type, schema_version, data,"
            " metadata, recorded_at")


def server_event_types() -> tuple[str, ...]:
    """Every stored type name of an event on a Server stream."""
    return tuple(sorted(t for t, cls in EVENT_TYPES.items() if issubclass(cls, Server.Event)))


def parse_instant(raw: str, now: dt.datetime | None = None) -> dt.datetime:
    """An ISO 8601 time (UTC when it names no zone), ``now``, or ``-<n><s|m|h|d|w>``
    (that long before now). Raises ValueError for anything else."""
    text = raw.strip()
    now = now or dt.datetime.now(dt.UTC)
    if text.lower() == "now":
        return now
    relative = _RELATIVE.match(text)
    if relative:
        return now - dt.timedelta(seconds=float(relative[1]) * _UNITS[relative[2]])
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        # a "+hh:mm" offset arrives as " hh:mm" when a query string was not encoded
        head, sep, tail = text.rpartition(" ")
        if not sep:
            raise ValueError(f"not an ISO 8601 time: {raw!r}") from None
        value = dt.datetime.fromisoformat(f"{head}+{tail}")
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def redact(value: Any) -> Any:
    """Event data fit to show: secret fields become a marker; nothing is decoded."""
    if isinstance(value, dict):
        return {k: (_marker(v) if k in SENSITIVE else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def _marker(value: Any) -> Any:
    if value in (None, "", [], {}):
        return value
    return "<redacted>"


@dataclass
class ServerFold:
    """A Server aggregate folded event by event, with what the view adds to it."""

    server_id: str
    server: Server | None = None
    addresses: dict[str, Any] = field(default_factory=dict)
    launched_at: dt.datetime | None = None
    terminated_at: dt.datetime | None = None

    def apply(self, record: RecordedEvent) -> None:
        if self.server is None and record.event_type != "ServerCreated":
            return  # not a server stream (or a stream without its beginning)
        event = to_domain_event(record, Server.TOPIC)  # type: ignore[attr-defined]
        self.server = event.mutate(self.server)  # type: ignore[arg-type]
        if "addresses" in record.data:
            self.addresses = dict(record.data["addresses"])
        elif record.event_type == "ServerNetworkReleased":
            self.addresses = {}
        if record.event_type == "ServerSpawned":
            self.launched_at = event.timestamp
        elif record.event_type == "ServerDeleted":
            self.terminated_at = event.timestamp

    def brief(self) -> dict[str, Any]:
        """The state an auditor follows from event to event (empty before creation)."""
        s = self.server
        if s is None:
            return {}
        return {
            "name": s.name, "status": s.status, "vm_state": s.vm_state,
            "task_state": s.task_state, "power_state": s.power_state,
            "flavor": s.flavor.get("name", s.flavor.get("id")), "image": s.image_ref,
            "host": s.host, "metadata": dict(s.metadata), "locked": s.locked_by,
            "addresses": sorted(a["addr"] for net in self.addresses.values() for a in net),
            "volumes": sorted(server_volumes.devices(s)),
            "security_groups": list(s.security_groups), "deleted": s.deleted,
        }


@dataclass(frozen=True)
class Entry:
    """One event of a server's history, with who caused it and what it changed."""

    record: RecordedEvent
    own: bool  # on the server's stream (else another stream's event naming the server)
    cause: str
    summary: str
    changes: dict[str, list[Any]]
    state: dict[str, Any]  # the server's state after the event

    @property
    def actor(self) -> str:
        m = self.record.metadata
        who = f"{m.get('user_id', '?')}/{m.get('project_id', '?')}"
        return f"{m['actor']} for {who}" if m.get("actor") else who

    def as_dict(self) -> dict[str, Any]:
        r, m = self.record, self.record.metadata
        return {
            "position": r.position, "recorded_at": r.recorded_at.isoformat(),
            "event_time": r.data.get("timestamp"), "stream_id": r.stream_id,
            "stream_version": r.stream_version, "own_stream": self.own,
            "event_type": r.event_type, "schema_version": r.schema_version,
            "user_id": m.get("user_id"), "project_id": m.get("project_id"),
            "actor": m.get("actor"), "host": m.get("host"),
            "request_id": m.get("request_id"), "causation_id": m.get("causation_id"),
            "cause": self.cause, "summary": self.summary, "changes": self.changes,
            "state": self.state, "data": redact(_payload(r.data)),
        }


def _payload(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in ("timestamp", "originator_topic")}


def _record(store: EventStore, row: asyncpg.Record) -> RecordedEvent:
    version, data = store.upcaster(row["event_type"], row["schema_version"], row["data"])
    return RecordedEvent(position=row["position"], stream_id=row["stream_id"],
                         stream_version=row["stream_version"], event_type=row["event_type"],
                         schema_version=version, data=data, metadata=row["metadata"],
                         recorded_at=row["recorded_at"])


def _server_stream(server_id: str) -> str | None:
    try:
        return str(uuid.UUID(server_id))
    except ValueError:
        return None


async def server_events(store: EventStore, server_id: str,
                        until: dt.datetime | None = None) -> list[RecordedEvent] | None:
    """The server's own events (recorded by ``until``); None if it is no server."""
    stream = _server_stream(server_id)
    if stream is None:
        return None
    records = await store.read_stream(stream)
    if not records or records[0].event_type != "ServerCreated":
        return None
    return [r for r in records if until is None or r.recorded_at <= until]


async def server_as_of(store: EventStore, server_id: str, instant: dt.datetime
                       ) -> ServerFold | None:
    """The server as it was at ``instant`` (None if it is no server, or did not exist yet)."""
    records = await server_events(store, server_id, instant)
    if not records:
        return None
    fold = ServerFold(records[0].stream_id)
    for record in records:
        fold.apply(record)
    return fold


_UNTIL = (f"SELECT {_COLUMNS} FROM events WHERE event_type = any($1::text[])"
          " AND recorded_at <= $2 ORDER BY position")


async def servers_as_of(store: EventStore, instant: dt.datetime) -> list[ServerFold]:
    """Every server that existed at ``instant``, as it was then (deleted ones included).

    One pass over the log: the server event types only (``events_type_idx``), up to
    the instant, read through a cursor in one read-only snapshot.
    """
    folds: dict[str, ServerFold] = {}
    async with store.pool.acquire() as conn, conn.transaction(
            isolation="repeatable_read", readonly=True):
        async for row in conn.cursor(_UNTIL, list(server_event_types()), instant,
                                     prefetch=1000):
            record = _record(store, row)
            fold = folds.get(record.stream_id)
            if fold is None:
                fold = folds[record.stream_id] = ServerFold(record.stream_id)
            fold.apply(record)
    return sorted((f for f in folds.values() if f.server is not None), key=_creation)


def _creation(fold: ServerFold) -> tuple[dt.datetime, str]:
    assert fold.server is not None
    return fold.server.created_on, fold.server_id


# events of other streams that name a server: by these data keys, or in a port list
_RELATED = (
    f"SELECT {_COLUMNS} FROM events WHERE event_type = any($2::text[]) AND stream_id <> $1"
    " AND (data->>'server_id' = $1 OR data->>'instance_uuid' = $1"
    " OR data->'ports' @> jsonb_build_array(jsonb_build_object('server_id', $1::text)))"
    " AND ($3::timestamptz IS NULL OR recorded_at <= $3) ORDER BY position")


# network events that name only the server's ports
_BY_PORT = (
    f"SELECT {_COLUMNS} FROM events WHERE event_type = any(ARRAY['NetworkPortsReleased',"
    " 'NetworkFixedIpAdded', 'NetworkFixedIpReleased']) AND (data->>'port_id' = any($1::text[])"
    " OR data->'port_ids' ?| $1::text[])"
    " AND ($2::timestamptz IS NULL OR recorded_at <= $2) ORDER BY position")


def related_event_types() -> tuple[str, ...]:
    """Types of other aggregates' events whose data names a server."""
    keys = {"server_id", "instance_uuid", "ports"}
    out = []
    for name, cls in EVENT_TYPES.items():
        if issubclass(cls, Server.Event):
            continue
        fields: set[str] = set()
        for klass in cls.__mro__:
            fields |= set(getattr(klass, "__annotations__", {}))
        if fields & keys:
            out.append(name)
    return tuple(sorted(out))


async def server_history(store: EventStore, server_id: str,
                         until: dt.datetime | None = None
                         ) -> tuple[list[Entry], ServerFold] | None:
    """Every event that concerns the server, oldest first, and the server after them."""
    own = await server_events(store, server_id, until)
    if own is None:
        return None
    stream = own[0].stream_id if own else str(uuid.UUID(server_id))
    async with store.pool.acquire() as conn:
        rows = await conn.fetch(_RELATED, stream, list(related_event_types()), until)
        ports = [p["port_id"] for r in rows if r["event_type"] == "NetworkPortsAllocated"
                 for p in r["data"]["ports"] if p.get("server_id") == stream]
        if ports:
            rows += await conn.fetch(_BY_PORT, ports, until)
        others = [_record(store, r) for r in rows]
        merged = sorted([*own, *others], key=lambda r: r.position)
        known = {r.position: r.event_type for r in merged}
        wanted = {c for r in merged if isinstance(c := r.metadata.get("causation_id"), int)
                  and c not in known}
        if wanted:
            for r in await conn.fetch("SELECT position, event_type FROM events"
                                      " WHERE position = any($1::bigint[])", sorted(wanted)):
                known[r["position"]] = r["event_type"]
    fold = ServerFold(stream)
    entries = []
    for record in merged:
        before = fold.brief()
        is_own = record.stream_id == stream
        if is_own:
            fold.apply(record)
        after = fold.brief()
        changes = _changes(before, after)
        summary = _summary(record, before, changes) if is_own else _related_summary(record)
        entries.append(Entry(record, is_own, _cause(record, known), summary, changes, after))
    return entries, fold


def _cause(record: RecordedEvent, known: dict[int, str]) -> str:
    m = record.metadata
    cause = m.get("causation_id")
    if isinstance(cause, int):
        return f"#{cause} {known.get(cause, '?')}"
    return "API request" if m.get("request_id", "").startswith("req-") else "-"


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def show(key: str, value: Any) -> str:
    """A state value as a person reads it (power states by name)."""
    if key == "power_state" and isinstance(value, int):
        return POWER_STATES.get(value, str(value))
    if value is None:
        return "none"
    if isinstance(value, list):
        return ",".join(str(v) for v in value) or "none"
    return str(value)


def _summary(record: RecordedEvent, before: dict[str, Any],
             changes: dict[str, list[Any]]) -> str:
    if not before:
        after = {k: v[1] for k, v in changes.items()}
        return (f"created {after.get('name')!r} flavor {after.get('flavor')} image "
                f"{after.get('image')} ({after.get('status')})")
    parts = []
    for key, (old, new) in changes.items():
        if key == "metadata":
            parts.append("metadata: " + _dict_diff(old or {}, new or {}))
        else:
            parts.append(f"{key}: {show(key, old)} -> {show(key, new)}")
    if not parts:
        parts.append(_scalars(record.data) or "no state change")
    return "; ".join(parts)


def _dict_diff(old: dict[str, Any], new: dict[str, Any]) -> str:
    out = [f"+{k}={new[k]}" for k in new if k not in old]
    out += [f"~{k}={new[k]}" for k in new if k in old and old[k] != new[k]]
    out += [f"-{k}" for k in old if k not in new]
    return " ".join(out)


def _related_summary(record: RecordedEvent) -> str:
    return _scalars(record.data) or record.event_type


def _scalars(data: dict[str, Any], limit: int = 100) -> str:
    """The event's plain data fields, secrets masked, as k=v (at most ``limit`` chars)."""
    shown = redact(_payload(data))
    text = " ".join(f"{k}={len(v)} item(s)" if isinstance(v, list) else f"{k}={v}"
                    for k, v in shown.items()
                    if isinstance(v, str | int | float | bool | list) and v != ""
                    and k != "originator_id_type")
    return text if len(text) <= limit else text[:limit - 3] + "..."
