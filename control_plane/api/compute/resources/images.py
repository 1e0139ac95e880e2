"""/images: the image catalog as Nova's image proxy shows it, and image metadata."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from control_plane.api import common
from control_plane.api.common import P
from control_plane.api.compute.schemas import images as schema
from control_plane.api.faults import BadRequest, Forbidden, NotFound
from control_plane.context import RequestContext
from control_plane.domain import commands as c

_STATUS = {"active": "ACTIVE", "queued": "SAVING", "saving": "SAVING", "deleted": "DELETED",
           "pending_delete": "DELETED", "killed": "ERROR"}
_PROGRESS = {"active": 100, "queued": 25, "saving": 50}


def _glance_url(request: Request) -> str:
    """The image endpoint (``CONTROL_PLANE_IMAGE_PUBLIC_ENDPOINT``), else Nova's default
    glance endpoint: http://<glance host>:9292 (the API host here)."""
    endpoint = common.deps(request).settings.image_public_endpoint
    if endpoint:
        return endpoint.rstrip("/")
    host = request.url.hostname or "localhost"
    return f"http://[{host}]:9292" if ":" in host else f"http://{host}:9292"


def render(request: Request, row: asyncpg.Record, detail: bool = True) -> dict[str, Any]:
    iid = str(row["id"])
    links = common.links(request, "images", iid)
    links.append({"rel": "alternate", "type": "application/vnd.openstack.image",
                  "href": f"{_glance_url(request)}/images/{iid}"})
    out: dict[str, Any] = {"id": iid, "name": row["name"], "links": links}
    if detail:
        status = _STATUS.get(row["status"], "UNKNOWN")
        out.update({
            "status": status, "progress": _PROGRESS.get(row["status"], 0),
            "minRam": row["min_ram"], "minDisk": row["min_disk"],
            "metadata": row["metadata"],
            "created": common.isotime(row["created_at"]),
            "updated": common.isotime(row["updated_at"]),
            "OS-EXT-IMG-SIZE:size": row["size"],
        })
        if row["server_id"]:
            out["server"] = {"id": row["server_id"],
                             "links": common.links(request, "servers", row["server_id"])}
    return out


def _visible(ctx: RequestContext, args: list[Any]) -> str:
    """Glance shows a private image only to its owner (and to admins)."""
    if ctx.is_admin:
        return "true"
    args.append(ctx.project_id)
    return f"(visibility <> 'private' OR owner = ${len(args)})"


async def _find(conn: asyncpg.Connection, image_id: str, ctx: RequestContext
                ) -> asyncpg.Record:
    try:
        iid = uuid.UUID(image_id)
    except ValueError:
        raise NotFound("Image not found.") from None
    args: list[Any] = [iid]
    row = await conn.fetchrow(f"SELECT * FROM v_images WHERE id = $1 AND {_visible(ctx, args)}",
                              *args)
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
    args: list[Any] = []
    where: list[str] = [_visible(ctx, args)]
    if "name" in q:
        args.append(q["name"])
        where.append(f"name = ${len(args)}")
    if "status" in q:
        wanted = [k for k, v in _STATUS.items() if v == q["status"].upper()]
        args.append(wanted)
        where.append(f"status = any(${len(args)}::text[])")
    if "server" in q:
        args.append(q["server"].rstrip("/").rsplit("/", 1)[-1])
        where.append(f"server_id = ${len(args)}")
    if "type" in q:
        kind = q["type"].lower()
        if kind in ("snapshot", "backup"):
            args.append(kind)
            where.append(f"metadata->>'image_type' = ${len(args)}")
    if "changes-since" in q:
        args.append(common.parse_changes_since(q["changes-since"]))
        where.append(f"updated_at >= ${len(args)}")
    for name, col in (("minRam", "min_ram"), ("minDisk", "min_disk")):
        value = common.int_param(request, name, message=f"Invalid {name} filter [{q.get(name)}]")
        if value is not None:
            args.append(value)
            where.append(f"{col} >= ${len(args)}")
    async with common.deps(request).pool.acquire() as conn:
        rows = await conn.fetch(
            f"SELECT * FROM v_images WHERE {' AND '.join(where)}"
            " ORDER BY created_at DESC, id DESC", *args)
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
