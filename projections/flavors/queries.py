"""What the rest of the tree asks of the flavors view (``v_flavors``): a flavor by its
id (as the API shows it, or for a new server), and the lists of /flavors.

A project may use a public flavor, and a private one shared with it; ``viewer`` is
the asking project, or None for an admin, who may use every flavor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg


def _accessible(project_id: str, args: list[Any]) -> str:
    args.append(project_id)
    return f"(is_public OR ${len(args)} = any(projects))"


async def visible(conn: asyncpg.Connection, flavor_id: str, viewer: str | None
                  ) -> asyncpg.Record | None:
    """The flavor ``flavor_id``, if ``viewer`` may use it."""
    args: list[Any] = [flavor_id]
    clause = "true" if viewer is None else _accessible(viewer, args)
    row: asyncpg.Record | None = await conn.fetchrow(
        f"SELECT * FROM v_flavors WHERE flavorid = $1 AND {clause}", *args)
    return row


async def by_id(conn: asyncpg.Connection, flavor_id: str) -> asyncpg.Record | None:
    """The flavor ``flavor_id``, whoever may use it."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT * FROM v_flavors WHERE flavorid = $1", flavor_id)
    return row


@dataclass
class Filter:
    """The flavors a list asks for; None (or False) means "any"."""

    accessible_to: str | None = None  # public ones and those shared with this project
    private_only: bool = False
    enabled_only: bool = False
    min_ram: int | None = None
    min_disk: int | None = None


# the view's columns a list may be ordered by
ORDER_COLUMNS = frozenset({
    "created_at", "description", "disabled", "ephemeral", "flavorid", "is_public", "ram",
    "name", "disk", "rxtx_factor", "swap", "updated_at", "vcpus"})


async def page(conn: asyncpg.Connection, f: Filter, column: str, direction: str
               ) -> list[asyncpg.Record]:
    """The flavors ``f`` selects by ``column`` then creation, both in ``direction``."""
    if column not in ORDER_COLUMNS or direction not in ("asc", "desc"):
        raise ValueError(f"not an order of the flavors view: {column} {direction}")
    args: list[Any] = []
    where = []
    if f.accessible_to is not None:
        where.append(_accessible(f.accessible_to, args))
    if f.private_only:
        where.append("NOT is_public")
    if f.enabled_only:
        where.append("NOT disabled")
    for col, value in (("ram", f.min_ram), ("disk", f.min_disk)):
        if value is not None:
            args.append(value)
            where.append(f"{col} >= ${len(args)}")
    rows: list[asyncpg.Record] = await conn.fetch(
        f"SELECT * FROM v_flavors WHERE {' AND '.join(where) or 'true'}"
        f" ORDER BY {column} {direction}, created_at {direction}", *args)
    return rows
