"""/images: the image catalog as Nova's image proxy shows it, and image metadata."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from starlette.requests import Request
from starlette.responses import Response

from control_plane import commands as c
from control_plane.api import common
from control_plane.api.schemas import images as schema
from control_plane.faults import BadRequest, NotFound

_STATUS = {"active": "ACTIVE", "queued": "SAVING", "saving": "SAVING", "deleted": "DELETED",
           "pending_delete": "DELETED", "killed": "ERROR"}
_PROGRESS = {"active": 100, "queued": 25, "saving": 50}


def render(request: Request, row: asyncpg.Record, detail: bool = True) -> dict[str, Any]:
    iid = str(row["id"])
    links = common.links(request, "images", iid)
    links.append({"rel": "alternate", "type": "application/vnd.openstack.image",
                  "href": f"{request.base_url!s}image/v2/images/{iid}"})
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


async def _find(conn: asyncpg.Connection, image_id: str) -> asyncpg.Record:
    try:
        iid = uuid.UUID(image_id)
    except ValueError:
        raise NotFound("Image not found.") from None
    row = await conn.fetchrow("SELECT * FROM v_images WHERE id = $1", iid)
    if row is None:
        raise NotFound("Image not found.")
    return row


async def _list(request: Request, detail: bool) -> Response:
    common.context(request)
    q = request.query_params
    where: list[str] = []
    args: list[Any] = []
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
        if name in q:
            try:
                args.append(int(q[name]))
            except ValueError:
                raise BadRequest(f"Invalid {name} filter [{q[name]}]") from None
            where.append(f"{col} >= ${len(args)}")
    limit = common.page_limit(request)
    async with common.deps(request).pool.acquire() as conn:
        rows = await conn.fetch(
            f"SELECT * FROM v_images WHERE {' AND '.join(where) or 'true'}"
            " ORDER BY created_at DESC, id DESC", *args)
    marker = q.get("marker")
    if marker is not None:
        ids = [str(r["id"]) for r in rows]
        if marker not in ids:
            raise BadRequest(f"marker [{marker}] not found")
        rows = rows[ids.index(marker) + 1:]
    page = rows[:limit]
    out: dict[str, Any] = {"images": [render(request, r, detail) for r in page]}
    if page and len(page) == limit and "limit" in q:
        out["images_links"] = [common.next_link(
            request, "images/detail" if detail else "images", str(page[-1]["id"]))]
    return common.JSON(out)


async def index(request: Request) -> Response:
    return await _list(request, detail=False)


async def detail(request: Request) -> Response:
    return await _list(request, detail=True)


async def show(request: Request) -> Response:
    common.context(request)
    async with common.deps(request).pool.acquire() as conn:
        row = await _find(conn, request.path_params["image_id"])
    return common.JSON({"image": render(request, row)})


async def delete(request: Request) -> Response:
    ctx = common.context(request)
    image_id = request.path_params["image_id"]
    async with common.deps(request).pool.acquire() as conn:
        row = await _find(conn, image_id)
    if row["owner"] != ctx.project_id:
        common.require_admin(ctx, "os_compute_api:image-delete")
    await common.bus(request).handle(c.DeleteImage(image_id), ctx)
    return common.empty(204)


async def metadata_index(request: Request) -> Response:
    common.context(request)
    async with common.deps(request).pool.acquire() as conn:
        row = await _find(conn, request.path_params["image_id"])
    return common.JSON({"metadata": row["metadata"]})


async def metadata_show(request: Request) -> Response:
    common.context(request)
    key = request.path_params["key"]
    async with common.deps(request).pool.acquire() as conn:
        row = await _find(conn, request.path_params["image_id"])
    if key not in row["metadata"]:
        raise NotFound()
    return common.JSON({"meta": {key: row["metadata"][key]}})


async def _write(request: Request, metadata: dict[str, str], replace: bool) -> dict[str, str]:
    ctx = common.context(request)
    image_id = request.path_params["image_id"]
    async with common.deps(request).pool.acquire() as conn:
        row = await _find(conn, image_id)
    if row["owner"] != ctx.project_id:
        common.require_admin(ctx, "os_compute_api:image-metadata")
    result: dict[str, str] = await common.bus(request).handle(
        c.SetImageMetadata(image_id, metadata, replace), ctx)
    return result


async def metadata_update(request: Request) -> Response:
    data = await common.body(request, schema.metadata)
    return common.JSON({"metadata": await _write(request, data["metadata"], replace=False)})


async def metadata_replace(request: Request) -> Response:
    data = await common.body(request, schema.metadata)
    return common.JSON({"metadata": await _write(request, data["metadata"], replace=True)})


async def metadata_set_item(request: Request) -> Response:
    data = await common.body(request, schema.meta_item)
    key = request.path_params["key"]
    meta = data["meta"]
    if key not in meta:
        raise BadRequest("Request body and URI mismatch")
    if len(meta) > 1:
        raise BadRequest("Request body contains too many items")
    await _write(request, meta, replace=False)
    return common.JSON({"meta": meta})


async def metadata_delete(request: Request) -> Response:
    ctx = common.context(request)
    image_id, key = request.path_params["image_id"], request.path_params["key"]
    async with common.deps(request).pool.acquire() as conn:
        row = await _find(conn, image_id)
    if row["owner"] != ctx.project_id:
        common.require_admin(ctx, "os_compute_api:image-metadata")
    await common.bus(request).handle(c.DeleteImageMetadataItem(image_id, key), ctx)
    return common.empty(204)
