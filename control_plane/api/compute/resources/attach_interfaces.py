"""/servers/{id}/os-interface: a server's port interfaces (1.10; Nova 2.1 to 2.48).

The attachment's id is the port's id. The server is looked up first, so another
project's server is not found (404). Attaching answers at once with the new port
(``port_state`` DOWN); it turns ACTIVE once the compute worker has plugged it, as
Neutron reports it (tempest waits for that).
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from control_plane.api import common
from control_plane.api.common import P
from control_plane.api.compute.resources import servers
from control_plane.api.compute.schemas import attach_interfaces as schema
from control_plane.api.faults import BadRequest, NotFound
from control_plane.domain.networks import commands as c
from projections.networks import queries as network_queries


def render(row: asyncpg.Record) -> dict[str, Any]:
    return {"fixed_ips": [{"ip_address": ip, "subnet_id": str(row["subnet_id"])}
                          for ip in row["fixed_ips"]],
            "mac_addr": row["mac"], "net_id": str(row["network_id"]),
            "port_id": str(row["id"]), "port_state": row["status"]}


async def server_ports(conn: asyncpg.Connection, server_id: str) -> list[asyncpg.Record]:
    return await network_queries.server_ports(conn, uuid.UUID(server_id))


async def index(request: Request) -> Response:
    ctx = common.context(request)
    server_id = str(await servers.visible_server_id(request, ctx))
    async with common.deps(request).pool.acquire() as conn:
        rows = await server_ports(conn, server_id)
    return common.JSON({"interfaceAttachments": [render(r) for r in rows]})


async def _port(request: Request, server_id: str, port_id: str) -> dict[str, Any]:
    try:
        key = uuid.UUID(port_id)
    except ValueError:
        raise NotFound(f"Port id {port_id} could not be found.") from None
    async with common.deps(request).pool.acquire() as conn:
        row = await network_queries.port(conn, key)
    if row is None:
        raise NotFound(f"Port id {port_id} could not be found.")
    if str(row["server_id"]) != server_id:
        raise NotFound(f"Instance {server_id} does not have a port with id {port_id}")
    return render(row)


async def show(request: Request) -> Response:
    ctx = common.context(request)
    server_id = str(await servers.visible_server_id(request, ctx))
    port = await _port(request, server_id, request.path_params["port_id"])
    return common.JSON({"interfaceAttachment": port})


@common.request_body(schema.create, optional=True)
async def create(request: Request) -> Response:
    ctx = common.context(request)
    server_id = str(await servers.visible_server_id(request, ctx))
    raw = await request.body()
    data = (await common.body(request, schema.create)) if raw.strip() else {}
    attachment = data.get("interfaceAttachment") or {}
    net_id, port_id = attachment.get("net_id"), attachment.get("port_id")
    fixed = attachment.get("fixed_ips")
    requested_ip = fixed[0]["ip_address"] if fixed else None
    if net_id and port_id:
        raise BadRequest("Must not input both network_id and port_id")
    if requested_ip and not net_id:
        raise BadRequest("Must input network_id when request IP address")
    vif = await common.bus(request).handle(
        c.AttachInterface(server_id, net_id, port_id, requested_ip), ctx)
    port = await _port(request, server_id, vif["port_id"])
    return common.JSON({"interfaceAttachment": port})


async def delete(request: Request) -> Response:
    ctx = common.context(request)
    server_id = str(await servers.visible_server_id(request, ctx))
    await common.bus(request).handle(
        c.DetachInterface(server_id, request.path_params["port_id"]), ctx)
    return common.empty(202)


ROUTES: list[BaseRoute] = [
    P("/servers/{server_id}/os-interface", index, "GET",
      "os_compute_api:os-attach-interfaces:list"),
    P("/servers/{server_id}/os-interface", create, "POST",
      "os_compute_api:os-attach-interfaces:create"),
    P("/servers/{server_id}/os-interface/{port_id}", show, "GET",
      "os_compute_api:os-attach-interfaces:show"),
    P("/servers/{server_id}/os-interface/{port_id}", delete, "DELETE",
      "os_compute_api:os-attach-interfaces:delete"),
]
