"""/image: a read-only Glance v2 subset over the image catalog (list with filters, show).

Enough for `openstack server create --image <name>`, which resolves names through
the image service before asking Nova.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from control_plane.api import common
from control_plane.api.middleware import authenticate
from control_plane.context import RequestContext
from projections.images import queries as image_queries

_BASE = {"id", "name", "status", "visibility", "size", "min_ram", "min_disk", "owner",
         "disk_format", "container_format"}


def _error(code: int, title: str, message: str) -> Response:
    return common.JSON({"code": code, "title": title, "message": message}, status_code=code)


async def _context(request: Request) -> RequestContext | None:
    return await authenticate(request.app.state, common.deps(request).settings,
                              {k.lower(): v for k, v in request.headers.items()},
                              request.state.request_id)


def _iso(value: Any) -> str:
    return str(value.strftime("%Y-%m-%dT%H:%M:%SZ"))


def render(row: asyncpg.Record) -> dict[str, Any]:
    iid = str(row["id"])
    out: dict[str, Any] = {
        "id": iid, "name": row["name"], "status": row["status"],
        "visibility": row["visibility"], "protected": False, "os_hidden": False,
        "checksum": None, "os_hash_algo": None, "os_hash_value": None,
        "size": row["size"], "virtual_size": None, "min_ram": row["min_ram"],
        "min_disk": row["min_disk"], "owner": row["owner"],
        "disk_format": row["disk_format"], "container_format": row["container_format"],
        "created_at": _iso(row["created_at"]), "updated_at": _iso(row["updated_at"]),
        "tags": [], "self": f"/v2/images/{iid}", "file": f"/v2/images/{iid}/file",
        "schema": "/v2/schemas/image",
    }
    for key, value in row["metadata"].items():
        if key not in out:
            out[key] = value
    return out


async def versions(request: Request) -> Response:
    endpoint = common.deps(request).settings.image_public_endpoint
    root = endpoint.rstrip("/") + "/" if endpoint else f"{request.base_url}image/"
    values = [{"id": v, "status": "CURRENT" if v == "v2.16" else "SUPPORTED",
               "links": [{"rel": "self", "href": f"{root}v2/"}]}
              for v in ("v2.16", "v2.0")]
    return common.JSON({"versions": values}, status_code=300)


async def index(request: Request) -> Response:
    ctx = await _context(request)
    if ctx is None:
        return _error(401, "Unauthorized", "The request you have made requires "
                                           "authentication.")
    q = request.query_params
    equal = {key: q[key] for key in image_queries.GLANCE_FILTERS if key in q}
    raw_limit = q.get("limit", "25").strip()
    digits = raw_limit.removeprefix("-")
    if not digits.isascii() or not digits.isdigit():
        return _error(400, "Bad Request", "limit param must be an integer")
    if raw_limit.startswith("-"):
        return _error(400, "Bad Request", "limit param must be positive")
    limit = min(int(raw_limit), 1000)
    async with common.deps(request).pool.acquire() as conn:
        rows = await image_queries.glance_list(
            conn, None if ctx.is_admin else ctx.project_id, equal)
    marker = q.get("marker")
    if marker is not None:
        ids = [str(r["id"]) for r in rows]
        if marker not in ids:
            return _error(400, "Bad Request", f"Invalid marker. Image {marker} could not be "
                                              "found.")
        rows = rows[ids.index(marker) + 1:]
    page = rows[:limit]
    body: dict[str, Any] = {"images": [render(r) for r in page], "first": "/v2/images",
                            "schema": "/v2/schemas/images"}
    if page and len(rows) > limit:
        body["next"] = f"/v2/images?marker={page[-1]['id']}&limit={limit}"
    return common.JSON(body)


async def show(request: Request) -> Response:
    ctx = await _context(request)
    if ctx is None:
        return _error(401, "Unauthorized", "The request you have made requires "
                                           "authentication.")
    image_id = request.path_params["image_id"]
    try:
        iid = uuid.UUID(image_id)
    except ValueError:
        iid = None
    row = None
    if iid is not None:
        async with common.deps(request).pool.acquire() as conn:
            row = await image_queries.glance_visible(
                conn, iid, None if ctx.is_admin else ctx.project_id)
    if row is None:
        return _error(404, "Not Found", f"No image found with ID {image_id}")
    return common.JSON(render(row))


def routes() -> list[BaseRoute]:
    return [
        Route("/", versions, methods=["GET"]),
        Route("/versions", versions, methods=["GET"]),
        Route("/v2/images", index, methods=["GET"]),
        Route("/v2/images/{image_id}", show, methods=["GET"]),
    ]
