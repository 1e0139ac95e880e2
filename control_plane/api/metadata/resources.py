"""The metadata service guests call (Nova's OpenStack metadata API, a subset), at /openstack.

A guest is known in one of two ways, and in no other:

- by the headers a metadata proxy adds, as Nova's proxy does: X-Instance-ID with
  X-Instance-ID-Signature (the HMAC-SHA256 of the id under CONTROL_PLANE_METADATA_SECRET)
  and X-Tenant-ID, which must be the instance's project. Without a secret these
  headers are ignored; a wrong signature is 403, a missing X-Tenant-ID 400.
- by the address its request comes from, its own fixed IP, when that address is in a
  network the operator listed in CONTROL_PLANE_METADATA_TRUSTED_SOURCES (none by
  default, loopback included: any local process could otherwise speak for a guest).
  A request that carries X-Forwarded-For is not known this way: the header is anyone's
  to write, and the server (uvicorn) may already have replaced the peer's address by it.

Served:

    GET  /openstack                          the metadata versions
    GET  /openstack/{version}/meta_data.json uuid, name, hostname, keys, metadata, ...
    GET  /openstack/{version}/user_data      the user data, as given at boot
    GET  /openstack/{version}/vendor_data.json  {}
    GET  /openstack/{version}/password       the password the guest posted
    POST /openstack/{version}/password       the guest posts its encrypted password once
                                             (at most 256 bytes; 409 when one is set)

The posted password is what os-server-password shows the server's owner.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import uuid
from typing import Any

import asyncpg
import orjson
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from control_plane.api import common
from control_plane.context import RequestContext
from control_plane.domain import errors
from control_plane.domain.servers import commands as c
from projections.servers import queries as server_queries

VERSIONS = ("2012-08-10", "2013-04-04", "2013-10-17", "2015-10-15", "2016-06-30",
            "2016-10-06", "2017-02-22", "2018-08-27", "2020-10-14", "latest")
MAX_PASSWORD = 256


def _text(body: str, status: int = 200) -> Response:
    return PlainTextResponse(body, status_code=status)


def sign(secret: str, instance_id: str) -> str:
    return hmac.new(secret.encode(), instance_id.encode(), hashlib.sha256).hexdigest()


UNKNOWN = "Not Found: the caller is not a known instance"


async def _signed(request: Request, conn: asyncpg.Connection, secret: str, instance_id: str
                  ) -> asyncpg.Record | Response:
    """The instance a metadata proxy speaks for, checked as Nova checks it."""
    signature = request.headers.get("x-instance-id-signature", "")
    if not hmac.compare_digest(sign(secret, instance_id).encode(), signature.encode()):
        return _text("Forbidden: invalid proxy request signature.", 403)
    tenant = request.headers.get("x-tenant-id")
    if not tenant:
        return _text("Bad Request: X-Tenant-ID header is missing from the request.", 400)
    try:
        server_id = uuid.UUID(instance_id)
    except ValueError:
        return _text(UNKNOWN, 404)
    row = await server_queries.live(conn, server_id)
    if row is None or row["project_id"] != tenant:
        return _text(UNKNOWN, 404)
    return row


def _trusted_source(request: Request) -> str | None:
    """The caller's own address, if the operator trusts it to name the guest."""
    if request.client is None or "x-forwarded-for" in request.headers:
        return None
    try:
        address = ipaddress.ip_address(request.client.host)
    except ValueError:
        return None
    trusted = common.deps(request).settings.metadata_trusted_sources
    return str(address) if any(address in net for net in trusted) else None


async def _instance(request: Request, conn: asyncpg.Connection) -> asyncpg.Record | Response:
    secret = common.deps(request).settings.metadata_secret
    instance_id = request.headers.get("x-instance-id")
    if instance_id is not None and secret:
        return await _signed(request, conn, secret, instance_id)
    address = _trusted_source(request)
    if address is None:
        return _text(UNKNOWN, 404)
    row = await server_queries.live_at_address(conn, address)
    return _text(UNKNOWN, 404) if row is None else row


async def _server(request: Request) -> asyncpg.Record | Response:
    version = request.path_params.get("version")
    if version is not None and version not in VERSIONS:
        return _text("Not Found", 404)
    async with common.deps(request).pool.acquire() as conn:
        return await _instance(request, conn)


async def versions(request: Request) -> Response:
    return _text("\n".join(VERSIONS))


async def meta_data(request: Request) -> Response:
    row = await _server(request)
    if isinstance(row, Response):
        return row
    keys: dict[str, Any] = {}
    if row["key_name"] and row["key_data"]:
        keys = {row["key_name"]: row["key_data"]}
    body = {
        "uuid": str(row["id"]), "name": row["name"], "hostname": row["hostname"],
        "availability_zone": row["availability_zone"], "project_id": row["project_id"],
        "launch_index": row["launch_index"], "meta": row["metadata"],
        "public_keys": keys,
        "keys": [{"name": k, "type": "ssh", "data": v} for k, v in keys.items()],
        "devices": [],
    }
    return Response(orjson.dumps(body), media_type="application/json")


async def vendor_data(request: Request) -> Response:
    row = await _server(request)
    if isinstance(row, Response):
        return row
    return Response(b"{}", media_type="application/json")


async def user_data(request: Request) -> Response:
    row = await _server(request)
    if isinstance(row, Response):
        return row
    if not row["user_data"]:
        return _text("Not Found", 404)
    return Response(base64.b64decode(row["user_data"]), media_type="text/plain")


async def password(request: Request) -> Response:
    row = await _server(request)
    if isinstance(row, Response):
        return row
    if request.method == "GET":
        return _text(row["password"])
    data = await request.body()
    if len(data) > MAX_PASSWORD:
        return _text("Request is too large.", 400)
    if b"\x00" in data:
        return _text("The password must not contain NUL characters.", 400)
    ctx = RequestContext(user_id="metadata-service", project_id=row["project_id"],
                         roles=("service",), actor="metadata-service")
    try:
        await common.bus(request).handle(
            c.SetServerPassword(str(row["id"]), data.decode(errors="replace")), ctx)
    except errors.Conflict:
        return _text("The server password is already set.", 409)
    return _text("")


def routes() -> list[BaseRoute]:
    return [
        Route("/", versions, methods=["GET"]),
        Route("/{version}/meta_data.json", meta_data, methods=["GET"]),
        Route("/{version}/vendor_data.json", vendor_data, methods=["GET"]),
        Route("/{version}/user_data", user_data, methods=["GET"]),
        Route("/{version}/password", password, methods=["GET", "POST"]),
    ]
