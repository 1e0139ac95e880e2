"""/servers/{id}/metadata: a server's metadata items (1.8), with Nova's limits."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from control_plane.api import common
from control_plane.api.common import P
from control_plane.api.compute.resources.servers import visible_server
from control_plane.api.compute.schemas import images as metadata_schema
from control_plane.api.faults import BadRequest, NotFound
from control_plane.domain.servers import commands as c


async def _metadata(request: Request) -> dict[str, str]:
    ctx = common.context(request)
    async with common.deps(request).pool.acquire() as conn:
        row = await visible_server(conn, request.path_params["server_id"], ctx)
    metadata: dict[str, str] = row["metadata"]
    return metadata


async def index(request: Request) -> Response:
    return common.JSON({"metadata": await _metadata(request)})


async def show(request: Request) -> Response:
    key = request.path_params["key"]
    metadata = await _metadata(request)
    if key not in metadata:
        raise NotFound("Metadata item was not found")
    return common.JSON({"meta": {key: metadata[key]}})


async def _set(request: Request, metadata: dict[str, str], replace: bool) -> None:
    await common.bus(request).handle(c.SetServerMetadata(
        request.path_params["server_id"], metadata, replace), common.context(request))


@common.request_body(metadata_schema.metadata)
async def create(request: Request) -> Response:
    data = await common.body(request, metadata_schema.metadata)
    await _set(request, data["metadata"], replace=False)
    return common.JSON({"metadata": await _metadata(request)})


@common.request_body(metadata_schema.metadata)
async def update_all(request: Request) -> Response:
    data = await common.body(request, metadata_schema.metadata)
    await _set(request, data["metadata"], replace=True)
    return common.JSON({"metadata": await _metadata(request)})


@common.request_body(metadata_schema.meta_item)
async def update(request: Request) -> Response:
    data = await common.body(request, metadata_schema.meta_item)
    key, meta = request.path_params["key"], data["meta"]
    if key not in meta:
        raise BadRequest("Request body and URI mismatch")
    if len(meta) > 1:
        raise BadRequest("Request body contains too many items")
    await _set(request, meta, replace=False)
    return common.JSON({"meta": meta})


async def delete(request: Request) -> Response:
    await common.bus(request).handle(c.DeleteServerMetadataItem(
        request.path_params["server_id"], request.path_params["key"]), common.context(request))
    return common.empty(204)


ROUTES: list[BaseRoute] = [
    P("/servers/{server_id}/metadata", index, "GET", "os_compute_api:server-metadata:index"),
    P("/servers/{server_id}/metadata", create, "POST", "os_compute_api:server-metadata:create"),
    P("/servers/{server_id}/metadata", update_all, "PUT",
      "os_compute_api:server-metadata:update_all"),
    P("/servers/{server_id}/metadata/{key}", show, "GET", "os_compute_api:server-metadata:show"),
    P("/servers/{server_id}/metadata/{key}", update, "PUT",
      "os_compute_api:server-metadata:update"),
    P("/servers/{server_id}/metadata/{key}", delete, "DELETE",
      "os_compute_api:server-metadata:delete"),
]
