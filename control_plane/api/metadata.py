"""The metadata service guests call (Nova's OpenStack metadata API, a subset), at /openstack.

A guest is known either by headers a metadata proxy adds (X-Instance-ID with
X-Instance-ID-Signature, the HMAC-SHA256 of the id under CONTROL_PLANE_METADATA_SECRET),
or, without a configured secret, by the fixed address it calls from. Served:

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
from typing import Any

import asyncpg
import orjson
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from control_plane import commands as c
from control_plane.api import common
from control_plane.context import RequestContext
from control_plane.faults import Conflict

VERSIONS = ("2012-08-10", "2013-04-04", "2013-10-17", "2015-10-15", "2016-06-30",
            "2016-10-06", "2017-02-22", "2018-08-27", "2020-10-14", "latest")
MAX_PASSWORD = 256


def _text(body: str, status: int = 200) -> Response:
    return PlainTextResponse(body, status_code=status)


def sign(secret: str, instance_id: str) -> str:
    return hmac.new(secret.encode(), instance_id.encode(), hashlib.sha256).hexdigest()


async def _instance(request: Request, conn: asyncpg.Connection) -> asyncpg.Record | None:
    secret = common.deps(request).settings.metadata_secret
    instance_id = request.headers.get("x-instance-id")
    if instance_id is not None:
        signature = request.headers.get("x-instance-id-signature", "")
        if not secret or not hmac.compare_digest(sign(secret, instance_id), signature):
            return None
        return await conn.fetchrow(
            "SELECT * FROM v_servers WHERE id::text = $1 AND NOT deleted", instance_id)
    forwarded = request.headers.get("x-forwarded-for", "")
    address = forwarded.split(",")[0].strip() or (request.client.host if request.client
                                                  else "")
    return await conn.fetchrow(
        "SELECT * FROM v_servers WHERE NOT deleted AND EXISTS (SELECT 1 FROM"
        " jsonb_each(addresses) n, jsonb_array_elements(n.value) a"
        " WHERE a->>'addr' = $1 AND a->>'OS-EXT-IPS:type' = 'fixed')", address)


async def _server(request: Request) -> asyncpg.Record | Response:
    version = request.path_params.get("version")
    if version is not None and version not in VERSIONS:
        return _text("Not Found", 404)
    async with common.deps(request).pool.acquire() as conn:
        row = await _instance(request, conn)
    if row is None:
        return _text("Not Found: the caller is not a known instance", 404)
    return row


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
    ctx = RequestContext(user_id="metadata-service", project_id=row["project_id"],
                         roles=("service",), actor="metadata-service")
    try:
        await common.bus(request).handle(
            c.SetServerPassword(str(row["id"]), data.decode(errors="replace")), ctx)
    except Conflict:
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
