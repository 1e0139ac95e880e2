"""What the rest of the tree asks of the migrations view (``v_migrations``): the list of
os-migrations, filtered."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg


@dataclass
class Filter:
    """The migrations a list asks for; None means "any"."""

    project_id: str | None = None
    host: str | None = None  # the source or the destination
    source_compute: str | None = None
    status: str | None = None
    migration_type: str | None = None
    instance_uuid: uuid.UUID | None = None


async def matching(conn: asyncpg.Connection, f: Filter) -> list[asyncpg.Record]:
    """The migrations ``f`` selects, newest first."""
    where: list[str] = []
    args: list[Any] = []

    def add(sql: str, value: Any) -> None:
        args.append(value)
        where.append(sql.format(f"${len(args)}"))

    if f.project_id is not None:
        add("project_id = {}", f.project_id)
    if f.host is not None:
        add("(source_compute = {0} OR dest_compute = {0})", f.host)
    if f.source_compute is not None:
        add("source_compute = {}", f.source_compute)
    if f.status is not None:
        add("status = {}", f.status)
    if f.migration_type is not None:
        add("migration_type = {}", f.migration_type)
    if f.instance_uuid is not None:
        add("instance_uuid = {}", f.instance_uuid)
    sql = "SELECT * FROM v_migrations" + (" WHERE " + " AND ".join(where) if where else "")
    rows: list[asyncpg.Record] = await conn.fetch(
        sql + " ORDER BY created_at DESC, id DESC", *args)
    return rows
