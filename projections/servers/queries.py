"""What the rest of the tree asks of the servers view (``v_servers``).

The servers projection owns its table, for reads as for writes: the API, the service
handlers and the compute worker's periodic checks call these functions instead of
writing SQL on the view. Each takes the connection the caller already holds, so a
read stays in the caller's transaction when it has one.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg


async def live(conn: asyncpg.Connection, server_id: uuid.UUID) -> asyncpg.Record | None:
    """The server's row, unless it is deleted (or unknown)."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT * FROM v_servers WHERE id = $1 AND NOT deleted", server_id)
    return row


async def live_at_address(conn: asyncpg.Connection, address: str) -> asyncpg.Record | None:
    """The live server holding the fixed IP ``address`` (how the metadata service knows
    a guest that asks without a signed instance id)."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT * FROM v_servers WHERE NOT deleted AND EXISTS (SELECT 1 FROM"
        " jsonb_each(addresses) n, jsonb_array_elements(n.value) a"
        " WHERE a->>'addr' = $1 AND a->>'OS-EXT-IPS:type' = 'fixed')", address)
    return row


async def flavor_and_owner(conn: asyncpg.Connection, server_id: str
                           ) -> asyncpg.Record | None:
    """``flavor`` and ``project_id`` of a server (deleted or not), by its id as text."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT flavor, project_id FROM v_servers WHERE id::text = $1", server_id)
    return row


async def locked_by(conn: asyncpg.Connection, server_id: str) -> str | None:
    """Who locked the server ("admin", "owner") or None."""
    value: str | None = await conn.fetchval(
        "SELECT locked_by FROM v_servers WHERE id::text = $1", server_id)
    return value


async def usage(conn: asyncpg.Connection, project_id: str, user_id: str | None = None
                ) -> asyncpg.Record:
    """The project's live servers (only ``user_id``'s, if given): ``n``, ``cores``, ``ram``."""
    row: asyncpg.Record = await conn.fetchrow(
        "SELECT count(*) AS n, coalesce(sum((flavor->>'vcpus')::int), 0) AS cores,"
        " coalesce(sum((flavor->>'ram')::int), 0) AS ram FROM v_servers"
        " WHERE project_id = $1 AND NOT deleted AND ($2::text IS NULL OR user_id = $2)",
        project_id, user_id)
    return row


async def holdings(conn: asyncpg.Connection, project_id: str) -> list[asyncpg.Record]:
    """``id`` (text), ``flavor`` and pending ``resize`` of the project's live servers."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT id::text AS id, flavor, resize FROM v_servers"
        " WHERE project_id = $1 AND NOT deleted", project_id)
    return rows


# the columns a periodic check may measure a state's age from
_SINCE = frozenset({"soft_deleted_at", "updated_at"})


async def idle_since(conn: asyncpg.Connection, hosts: list[str], vm_state: str, since: str,
                     seconds: float) -> list[asyncpg.Record]:
    """``id`` (text), ``host``, ``project_id`` of up to 500 live servers on ``hosts`` in
    ``vm_state`` with no task, whose ``since`` column is at least ``seconds`` old
    (oldest first)."""
    if since not in _SINCE:
        raise ValueError(f"not a time column of the servers view: {since}")
    rows: list[asyncpg.Record] = await conn.fetch(
        f"SELECT id::text AS id, host, project_id FROM v_servers WHERE host = ANY($1)"
        f" AND vm_state = $2 AND task_state IS NULL AND NOT deleted"
        f" AND {since} <= now() - make_interval(secs => $3) ORDER BY {since} LIMIT 500",
        hosts, vm_state, seconds)
    return rows


async def idle_in_states(conn: asyncpg.Connection, hosts: list[str], vm_states: list[str]
                         ) -> list[asyncpg.Record]:
    """``id`` (text) and ``host`` of the live servers on ``hosts`` in one of ``vm_states``
    with no task in progress, by id."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT id::text AS id, host FROM v_servers WHERE host = ANY($1)"
        " AND vm_state = ANY($2) AND task_state IS NULL AND NOT deleted ORDER BY id",
        hosts, vm_states)
    return rows


@dataclass
class Filter:
    """The servers a list asks for; None (or empty) means "any"."""

    project_id: str | None = None
    changes_since: dt.datetime | None = None  # when set, deleted ones are included
    deleted: bool = False  # only deleted servers (else only live ones)
    name_regex: str | None = None
    image_ref: str | None = None
    flavor_id: str | None = None
    statuses: list[str] = field(default_factory=list)
    host: str | None = None
    node: str | None = None
    reservation_id: str | None = None
    availability_zone: str | None = None
    ipv4_regex: str | None = None
    ipv6_regex: str | None = None
    user_id: str | None = None


# the view's columns a list may be ordered by
_ORDER_COLUMNS = frozenset({
    "created_at", "updated_at", "name", "id", "vm_state", "task_state", "power_state",
    "launched_at", "terminated_at", "host", "node", "availability_zone", "key_name",
    "project_id", "user_id", "hostname"})


def _where(f: Filter) -> tuple[str, list[Any]]:
    where: list[str] = []
    args: list[Any] = []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if f.project_id is not None:
        where.append(f"project_id = {arg(f.project_id)}")
    if f.changes_since is not None:
        where.append(f"updated_at >= {arg(f.changes_since)}")
    elif f.deleted:
        where.append("deleted")
    else:
        where.append("NOT deleted")
    if f.name_regex is not None:
        where.append(f"name ~ {arg(f.name_regex)}")
    if f.image_ref is not None:
        where.append(f"image_ref = {arg(f.image_ref)}")
    if f.flavor_id is not None:
        where.append(f"flavor->>'id' = {arg(f.flavor_id)}")
    if f.statuses:
        where.append(f"status = any({arg(f.statuses)}::text[])")
    for column, value in (("host", f.host), ("node", f.node),
                          ("reservation_id", f.reservation_id),
                          ("availability_zone", f.availability_zone)):
        if value is not None:
            where.append(f"{column} = {arg(value)}")
    for version, regex in (("4", f.ipv4_regex), ("6", f.ipv6_regex)):
        if regex is not None:
            where.append(
                f"EXISTS (SELECT 1 FROM jsonb_each(addresses) n, jsonb_array_elements(n.value) a"
                f" WHERE a->>'version' = '{version}' AND a->>'addr' ~ {arg(regex)})")
    if f.user_id is not None:
        where.append(f"user_id = {arg(f.user_id)}")
    return " AND ".join(where), args


async def page(conn: asyncpg.Connection, f: Filter, order: Sequence[tuple[str, str]],
               limit: int | None = None) -> list[asyncpg.Record]:
    """The servers ``f`` selects, ordered by ``order`` ((column, "asc"|"desc"), then id
    descending), at most ``limit`` of them. A regular expression Postgres refuses raises
    asyncpg's InvalidRegularExpressionError (or ProgramLimitExceededError)."""
    for column, direction in order:
        if column not in _ORDER_COLUMNS or direction not in ("asc", "desc"):
            raise ValueError(f"not an order of the servers view: {column} {direction}")
    where, args = _where(f)
    by = ", ".join([*(f"{column} {direction}" for column, direction in order), "id desc"])
    sql_limit = "" if limit is None else f" LIMIT {int(limit)}"
    rows: list[asyncpg.Record] = await conn.fetch(
        f"SELECT * FROM v_servers WHERE {where} ORDER BY {by}{sql_limit}", *args)
    return rows


async def image_ref(conn: asyncpg.Connection, server_id: str) -> str | None:
    """The image a server (deleted or not, by its id as text) was booted from."""
    value: str | None = await conn.fetchval(
        "SELECT image_ref FROM v_servers WHERE id::text = $1", server_id)
    return value


async def status_counts(conn: asyncpg.Connection, project_id: str) -> dict[str, int]:
    """A project's live servers, counted by public status (benchmarks wait on it)."""
    rows = await conn.fetch("SELECT status, count(*) AS n FROM v_servers"
                            " WHERE project_id = $1 AND NOT deleted GROUP BY status", project_id)
    return {r["status"]: r["n"] for r in rows}
