"""What the rest of the tree asks of the image catalog view (``v_images``).

Two visibility rules read it: Nova's image proxy (``/images``) hides only private
images from other projects; Glance (``/image``) and the checks of a server's image
show public and community images and the caller's own. ``viewer`` is the asking
project, or None for an admin, who sees every image.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

_ORDER = " ORDER BY created_at DESC, id DESC"


def _proxy_visible(viewer: str | None, args: list[Any]) -> str:
    if viewer is None:
        return "true"
    args.append(viewer)
    return f"(visibility <> 'private' OR owner = ${len(args)})"


def _glance_visible(viewer: str | None, args: list[Any]) -> str:
    if viewer is None:
        return "true"
    args.append(viewer)
    return f"(visibility IN ('public', 'community') OR owner = ${len(args)})"


async def proxy_visible(conn: asyncpg.Connection, image_id: uuid.UUID, viewer: str | None
                        ) -> asyncpg.Record | None:
    """The image, if Nova's image proxy shows it to ``viewer``."""
    args: list[Any] = [image_id]
    row: asyncpg.Record | None = await conn.fetchrow(
        f"SELECT * FROM v_images WHERE id = $1 AND {_proxy_visible(viewer, args)}", *args)
    return row


@dataclass
class ProxyFilter:
    """The images a list of Nova's image proxy asks for; None means "any"."""

    name: str | None = None
    statuses: list[str] | None = None  # the catalog's statuses (any of them)
    server_id: str | None = None
    image_type: str | None = None  # "snapshot" or "backup"
    changes_since: dt.datetime | None = None
    min_ram: int | None = None
    min_disk: int | None = None


async def proxy_list(conn: asyncpg.Connection, viewer: str | None, f: ProxyFilter
                     ) -> list[asyncpg.Record]:
    """The images ``f`` selects that Nova's image proxy shows ``viewer``, newest first."""
    args: list[Any] = []
    where = [_proxy_visible(viewer, args)]

    def add(sql: str, value: Any) -> None:
        args.append(value)
        where.append(sql.format(f"${len(args)}"))

    if f.name is not None:
        add("name = {}", f.name)
    if f.statuses is not None:
        add("status = any({}::text[])", f.statuses)
    if f.server_id is not None:
        add("server_id = {}", f.server_id)
    if f.image_type is not None:
        add("metadata->>'image_type' = {}", f.image_type)
    if f.changes_since is not None:
        add("updated_at >= {}", f.changes_since)
    if f.min_ram is not None:
        add("min_ram >= {}", f.min_ram)
    if f.min_disk is not None:
        add("min_disk >= {}", f.min_disk)
    rows: list[asyncpg.Record] = await conn.fetch(
        f"SELECT * FROM v_images WHERE {' AND '.join(where)}{_ORDER}", *args)
    return rows


# the columns Glance's list filters on by equality
GLANCE_FILTERS = ("name", "status", "visibility", "owner", "disk_format", "container_format")


async def glance_visible(conn: asyncpg.Connection, image_id: uuid.UUID, viewer: str | None
                         ) -> asyncpg.Record | None:
    """The image, if Glance shows it to ``viewer`` (also: may ``viewer`` boot from it)."""
    args: list[Any] = [image_id]
    row: asyncpg.Record | None = await conn.fetchrow(
        f"SELECT * FROM v_images WHERE id = $1 AND {_glance_visible(viewer, args)}", *args)
    return row


async def glance_list(conn: asyncpg.Connection, viewer: str | None, equal: dict[str, str]
                      ) -> list[asyncpg.Record]:
    """The images Glance shows ``viewer`` whose columns equal ``equal`` (keys from
    ``GLANCE_FILTERS``), newest first."""
    args: list[Any] = []
    where = [_glance_visible(viewer, args)]
    for key in GLANCE_FILTERS:
        if key in equal:
            args.append(equal[key])
            where.append(f"{key} = ${len(args)}")
    rows: list[asyncpg.Record] = await conn.fetch(
        f"SELECT * FROM v_images WHERE {' AND '.join(where)}{_ORDER}", *args)
    return rows


async def by_id(conn: asyncpg.Connection, image_id: str) -> asyncpg.Record | None:
    """The image whose id reads ``image_id`` (None when it is no image's, or no uuid)."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT * FROM v_images WHERE id::text = $1", image_id)
    return row


async def older_backups(conn: asyncpg.Connection, server_id: str, image_id: str,
                        backup_type: str) -> list[str]:
    """Ids of the server's other backups of ``backup_type``, newest first."""
    rows = await conn.fetch(
        "SELECT id FROM v_images WHERE server_id = $1 AND id::text <> $2"
        " AND metadata->>'image_type' = 'backup' AND metadata->>'backup_type' = $3"
        " ORDER BY created_at DESC, id DESC", server_id, image_id, backup_type)
    return [str(r["id"]) for r in rows]
