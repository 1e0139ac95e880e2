"""/os-volumes, /os-volume-types and /os-snapshots: Nova's block-storage proxy API (1.52).

Volumes and snapshots belong to a project: other projects' are not found (404), as
Cinder hides them; an admin may name any by id. Lists show the caller's project.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from control_plane.api import common
from control_plane.api.common import P
from control_plane.api.compute.schemas import volumes as schema
from control_plane.api.faults import BadRequest, NotFound
from control_plane.context import RequestContext
from control_plane.domain.volumes import aggregate as vol
from control_plane.domain.volumes import commands as c
from projections.volumes import queries as volume_queries

# a lookup of one volume or snapshot by id, and of a project's volumes or snapshots
_Find = Callable[[asyncpg.Connection, uuid.UUID], Awaitable[asyncpg.Record | None]]
_OfProject = Callable[[asyncpg.Connection, str], Awaitable[list[asyncpg.Record]]]

_TRUE = {"true", "1", "on", "yes"}


def _time(value: dt.datetime) -> str:
    """Cinder's created_at, as Nova passes it on: no zone, microseconds."""
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def render_volume(row: asyncpg.Record) -> dict[str, Any]:
    vid = str(row["id"])
    attachments: list[dict[str, Any]] = [{}]  # Nova's way of saying "not attached"
    if row["server_id"] is not None and row["status"] in (vol.IN_USE, vol.DETACHING):
        attachment = {"id": vid, "volumeId": vid, "serverId": str(row["server_id"])}
        if row["device"]:
            attachment["device"] = row["device"]
        attachments = [attachment]
    return {
        "id": vid,
        "status": row["status"],
        "size": row["size"],
        "availabilityZone": row["availability_zone"],
        "createdAt": _time(row["created_at"]),
        "attachments": attachments,
        "displayName": row["display_name"],
        "displayDescription": row["display_description"],
        "volumeType": row["volume_type"],
        "snapshotId": row["snapshot_id"],
        "metadata": row["metadata"] or {},
    }


def render_snapshot(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "volumeId": str(row["volume_id"]),
        "status": row["status"],
        "size": row["size"],
        "createdAt": _time(row["created_at"]),
        "displayName": row["display_name"],
        "displayDescription": row["display_description"],
    }


def limited(request: Request, rows: list[asyncpg.Record]) -> list[asyncpg.Record]:
    """Nova's offset/limit paging of proxied lists."""
    offset = common.int_param(request, "offset", minimum=-common.INT64_MAX,
                              maximum=common.INT64_MAX,
                              message="offset param must be an integer") or 0
    if offset < 0:
        raise BadRequest("offset param must be positive")
    return rows[offset:offset + common.page_limit(request)]


async def _visible(conn: asyncpg.Connection, find: _Find, kind: str, item_id: str,
                   ctx: RequestContext) -> asyncpg.Record:
    try:
        key = uuid.UUID(item_id)
    except ValueError:
        raise NotFound(f"{kind} {item_id} could not be found.") from None
    row = await find(conn, key)
    if row is None or (not ctx.is_admin and row["project_id"] != ctx.project_id):
        raise NotFound(f"{kind} {item_id} could not be found.")
    return row


async def visible_volume(conn: asyncpg.Connection, volume_id: str, ctx: RequestContext
                         ) -> asyncpg.Record:
    return await _visible(conn, volume_queries.volume, "Volume", volume_id, ctx)


async def _own(request: Request, of_project: _OfProject) -> list[asyncpg.Record]:
    ctx = common.context(request)
    async with common.deps(request).pool.acquire() as conn:
        rows = await of_project(conn, ctx.project_id)
    return limited(request, list(rows))


# -- os-volumes --------------------------------------------------------------------------


async def index(request: Request) -> Response:
    rows = await _own(request, volume_queries.project_volumes)
    return common.JSON({"volumes": [render_volume(r) for r in rows]})


detail = index  # Nova's detail view of a volume is its summary view


async def show(request: Request) -> Response:
    ctx = common.context(request)
    async with common.deps(request).pool.acquire() as conn:
        row = await visible_volume(conn, request.path_params["volume_id"], ctx)
    return common.JSON({"volume": render_volume(row)})


@common.request_body(schema.create)
async def create(request: Request) -> Response:
    ctx = common.context(request)
    data = (await common.body(request, schema.create))["volume"]
    cmd = c.CreateVolume(
        size=int(data["size"]), display_name=data.get("display_name"),
        display_description=data.get("display_description"),
        volume_type=data.get("volume_type"), metadata=data.get("metadata") or {},
        availability_zone=data.get("availability_zone"), snapshot_id=data.get("snapshot_id"))
    volume_id = await common.bus(request).handle(cmd, ctx)
    async with common.deps(request).pool.acquire() as conn:
        row = await visible_volume(conn, volume_id, ctx)
    return common.JSON({"volume": render_volume(row)},
                       headers={"Location": f"{request.url}/{volume_id}"})


async def delete(request: Request) -> Response:
    ctx = common.context(request)
    await common.bus(request).handle(c.DeleteVolume(request.path_params["volume_id"]), ctx)
    return common.empty(202)


# -- os-volume-types (never a Nova API: as the 2016 reference describes it) ---------------


async def types_index(request: Request) -> Response:
    return common.JSON({"volume_types": [dict(t) for t in vol.VOLUME_TYPES]})


async def type_show(request: Request) -> Response:
    return common.JSON({"volume_type": dict(vol.volume_type(
        request.path_params["volume_type_id"]))})


# -- os-snapshots ------------------------------------------------------------------------


async def snapshots_index(request: Request) -> Response:
    rows = await _own(request, volume_queries.project_snapshots)
    return common.JSON({"snapshots": [render_snapshot(r) for r in rows]})


snapshots_detail = snapshots_index


async def snapshot_show(request: Request) -> Response:
    ctx = common.context(request)
    async with common.deps(request).pool.acquire() as conn:
        row = await _visible(conn, volume_queries.snapshot, "Snapshot",
                             request.path_params["snapshot_id"], ctx)
    return common.JSON({"snapshot": render_snapshot(row)})


@common.request_body(schema.snapshot_create)
async def snapshot_create(request: Request) -> Response:
    ctx = common.context(request)
    data = (await common.body(request, schema.snapshot_create))["snapshot"]
    force = data.get("force", False)
    cmd = c.CreateVolumeSnapshot(
        volume_id=data["volume_id"],
        force=force if isinstance(force, bool) else str(force).lower() in _TRUE,
        display_name=data.get("display_name"),
        display_description=data.get("display_description"))
    snapshot_id = await common.bus(request).handle(cmd, ctx)
    async with common.deps(request).pool.acquire() as conn:
        row = await _visible(conn, volume_queries.snapshot, "Snapshot", snapshot_id, ctx)
    return common.JSON({"snapshot": render_snapshot(row)})


async def snapshot_delete(request: Request) -> Response:
    ctx = common.context(request)
    await common.bus(request).handle(
        c.DeleteVolumeSnapshot(request.path_params["snapshot_id"]), ctx)
    return common.empty(202)


ROUTES: list[BaseRoute] = [
    P("/os-volumes", index, "GET", "os_compute_api:os-volumes:list"),
    P("/os-volumes", create, "POST", "os_compute_api:os-volumes:create"),
    P("/os-volumes/detail", detail, "GET", "os_compute_api:os-volumes:detail"),
    P("/os-volumes/{volume_id}", show, "GET", "os_compute_api:os-volumes:show"),
    P("/os-volumes/{volume_id}", delete, "DELETE", "os_compute_api:os-volumes:delete"),
    P("/os-volume-types", types_index, "GET", "os_compute_api:os-volume-types:list"),
    P("/os-volume-types/{volume_type_id}", type_show, "GET", "os_compute_api:os-volume-types:show"),
    P("/os-snapshots", snapshots_index, "GET", "os_compute_api:os-volumes:snapshots:list"),
    P("/os-snapshots", snapshot_create, "POST", "os_compute_api:os-volumes:snapshots:create"),
    P("/os-snapshots/detail", snapshots_detail, "GET",
      "os_compute_api:os-volumes:snapshots:detail"),
    P("/os-snapshots/{snapshot_id}", snapshot_show, "GET",
      "os_compute_api:os-volumes:snapshots:show"),
    P("/os-snapshots/{snapshot_id}", snapshot_delete, "DELETE",
      "os_compute_api:os-volumes:snapshots:delete"),
]
