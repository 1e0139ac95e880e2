"""/images: the image catalog as Nova's image proxy shows it, and image metadata."""

from __future__ import annotations

import uuid

import asyncpg
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from control_plane.api import common
from control_plane.api.common import P
from control_plane.api.compute.schemas import images as schema
from control_plane.api.compute.views.images import STATUS, render
from control_plane.api.faults import BadRequest, Forbidden, NotFound
from control_plane.context import RequestContext
from control_plane.domain.images import commands as c
from projections.images import queries as image_queries


async def _find(conn: asyncpg.Connection, image_id: str, ctx: RequestContext
                ) -> asyncpg.Record:
    try:
        iid = uuid.UUID(image_id)
    except ValueError:
        raise NotFound("Image not found.") from None
    # Glance shows a private image only to its owner (and to admins)
    row = await image_queries.proxy_visible(conn, iid, None if ctx.is_admin else ctx.project_id)
    if row is None:
        raise NotFound("Image not found.")
    return row


def _check_owner(ctx: RequestContext, row: asyncpg.Record, message: str) -> None:
    """Glance lets only the owner (or an admin) change an image."""
    if not ctx.is_admin and row["owner"] != ctx.project_id:
        raise Forbidden(message)


async def _list(request: Request, detail: bool) -> Response:
    ctx = common.context(request)
    q = request.query_params
    f = image_queries.ProxyFilter(name=q.get("name"))
    if "status" in q:
        f.statuses = [k for k, v in STATUS.items() if v == q["status"].upper()]
    if "server" in q:
        f.server_id = q["server"].rstrip("/").rsplit("/", 1)[-1]
    if "type" in q:
        kind = q["type"].lower()
        if kind in ("snapshot", "backup"):
            f.image_type = kind
    if "changes-since" in q:
        f.changes_since = common.parse_changes_since(q["changes-since"])
    f.min_ram, f.min_disk = (
        common.int_param(request, name, message=f"Invalid {name} filter [{q.get(name)}]")
        for name in ("minRam", "minDisk"))
    viewer = None if ctx.is_admin else ctx.project_id
    async with common.deps(request).pool.acquire() as conn:
        rows = await image_queries.proxy_list(conn, viewer, f)
    page = common.paginate(request, rows, _image_id)
    return common.JSON(common.with_next_link(
        request, {"images": [render(request, r, detail) for r in page]}, "images",
        "images/detail" if detail else "images", page, _image_id))


def _image_id(row: asyncpg.Record) -> str:
    return str(row["id"])


async def index(request: Request) -> Response:
    return await _list(request, detail=False)


async def detail(request: Request) -> Response:
    return await _list(request, detail=True)


async def show(request: Request) -> Response:
    ctx = common.context(request)
    async with common.deps(request).pool.acquire() as conn:
        row = await _find(conn, request.path_params["image_id"], ctx)
    return common.JSON({"image": render(request, row)})


async def delete(request: Request) -> Response:
    ctx = common.context(request)
    image_id = request.path_params["image_id"]
    async with common.deps(request).pool.acquire() as conn:
        row = await _find(conn, image_id, ctx)
    _check_owner(ctx, row, "You are not allowed to delete the image.")
    await common.bus(request).handle(c.DeleteImage(image_id), ctx)
    return common.empty(204)


async def metadata_index(request: Request) -> Response:
    ctx = common.context(request)
    async with common.deps(request).pool.acquire() as conn:
        row = await _find(conn, request.path_params["image_id"], ctx)
    return common.JSON({"metadata": row["metadata"]})


async def metadata_show(request: Request) -> Response:
    ctx = common.context(request)
    key = request.path_params["key"]
    async with common.deps(request).pool.acquire() as conn:
        row = await _find(conn, request.path_params["image_id"], ctx)
    if key not in row["metadata"]:
        raise NotFound()
    return common.JSON({"meta": {key: row["metadata"][key]}})


async def _write(request: Request, metadata: dict[str, str], replace: bool) -> dict[str, str]:
    ctx = common.context(request)
    image_id = request.path_params["image_id"]
    async with common.deps(request).pool.acquire() as conn:
        row = await _find(conn, image_id, ctx)
    _check_owner(ctx, row, f"Not authorized for image {image_id}.")
    result: dict[str, str] = await common.bus(request).handle(
        c.SetImageMetadata(image_id, metadata, replace), ctx)
    return result


@common.request_body(schema.metadata)
async def metadata_update(request: Request) -> Response:
    data = await common.body(request, schema.metadata)
    return common.JSON({"metadata": await _write(request, data["metadata"], replace=False)})


@common.request_body(schema.metadata)
async def metadata_replace(request: Request) -> Response:
    data = await common.body(request, schema.metadata)
    return common.JSON({"metadata": await _write(request, data["metadata"], replace=True)})


@common.request_body(schema.meta_item)
async def metadata_set_item(request: Request) -> Response:
    data = await common.body(request, schema.meta_item)
    key = request.path_params["key"]
    meta = data["meta"]
    if key not in meta:
        raise BadRequest("Request body and URI mismatch")
    await _write(request, meta, replace=False)
    return common.JSON({"meta": meta})


async def metadata_delete(request: Request) -> Response:
    ctx = common.context(request)
    image_id, key = request.path_params["image_id"], request.path_params["key"]
    async with common.deps(request).pool.acquire() as conn:
        row = await _find(conn, image_id, ctx)
    if key not in row["metadata"]:
        raise NotFound("Invalid metadata key")
    _check_owner(ctx, row, f"Not authorized for image {image_id}.")
    await common.bus(request).handle(c.DeleteImageMetadataItem(image_id, key), ctx)
    return common.empty(204)


ROUTES: list[BaseRoute] = [
    P("/images", index, "GET", "os_compute_api:images:index"),
    P("/images/detail", detail, "GET", "os_compute_api:images:detail"),
    P("/images/{image_id}", show, "GET", "os_compute_api:images:show"),
    P("/images/{image_id}", delete, "DELETE", "os_compute_api:images:delete"),
    P("/images/{image_id}/metadata", metadata_index, "GET", "os_compute_api:images:metadata:index"),
    P("/images/{image_id}/metadata", metadata_update, "POST",
      "os_compute_api:images:metadata:create"),
    P("/images/{image_id}/metadata", metadata_replace, "PUT",
      "os_compute_api:images:metadata:update_all"),
    P("/images/{image_id}/metadata/{key}", metadata_show, "GET",
      "os_compute_api:images:metadata:show"),
    P("/images/{image_id}/metadata/{key}", metadata_set_item, "PUT",
      "os_compute_api:images:metadata:update"),
    P("/images/{image_id}/metadata/{key}", metadata_delete, "DELETE",
      "os_compute_api:images:metadata:delete"),
]
