"""/os-keypairs: list, show, create (generate or import), delete."""

from __future__ import annotations

import re
from typing import Any

import asyncpg
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from control_plane.api import common
from control_plane.api.common import P
from control_plane.api.compute.schemas import keypairs as schema
from control_plane.api.faults import BadRequest, NotFound
from control_plane.context import RequestContext
from control_plane.domain.keypairs import commands as c
from projections.keypairs import queries as keypair_queries

_SAFE_NAME = re.compile(r"^[a-zA-Z0-9 _-]+$")


def _user(request: Request, ctx: RequestContext, rule: str) -> str:
    """The user whose keypairs are addressed: admins may name another from 2.10."""
    user_id = request.query_params.get("user_id")
    if user_id and common.is_supported(request, "2.10") and user_id != ctx.user_id:
        common.authorize(request, ctx, rule, {"user_id": user_id, "project_id": ctx.project_id})
        return user_id
    return ctx.user_id


def _summary(request: Request, row: asyncpg.Record) -> dict[str, Any]:
    out = {"name": row["name"], "public_key": row["public_key"],
           "fingerprint": row["fingerprint"]}
    if common.is_supported(request, "2.2"):
        out["type"] = row["type"]
    return out


async def index(request: Request) -> Response:
    ctx = common.context(request)
    user_id = _user(request, ctx, "os_compute_api:os-keypairs:index")
    async with common.deps(request).pool.acquire() as conn:
        rows = await keypair_queries.of_user(conn, user_id)
    return common.JSON({"keypairs": [{"keypair": _summary(request, r)} for r in rows]})


async def show(request: Request) -> Response:
    ctx = common.context(request)
    user_id = _user(request, ctx, "os_compute_api:os-keypairs:show")
    name = request.path_params["name"]
    async with common.deps(request).pool.acquire() as conn:
        row = await keypair_queries.named(conn, user_id, name)
    if row is None:
        raise NotFound(f"Keypair {name} not found for user {user_id}")
    out = _summary(request, row)
    out.update({
        "user_id": row["user_id"], "id": row["id"],
        "created_at": row["created_at"].replace(tzinfo=None).isoformat(
            timespec="microseconds"),
        "deleted": False, "deleted_at": None, "updated_at": None,
    })
    return common.JSON({"keypair": out})


@common.request_body(schema.create_v210, schema.create_v22, schema.create,
                     note="2.10 and later: the first schema; 2.2 to 2.9: the second; "
                          "2.1: the third")
async def create(request: Request) -> Response:
    ctx = common.context(request)
    if common.is_supported(request, "2.10"):
        body_schema = schema.create_v210
    elif common.is_supported(request, "2.2"):
        body_schema = schema.create_v22
    else:
        body_schema = schema.create
    kp = (await common.body(request, body_schema))["keypair"]
    user_id = kp.get("user_id") or ctx.user_id
    if user_id != ctx.user_id:
        common.authorize(request, ctx, "os_compute_api:os-keypairs:create",
                         {"user_id": user_id, "project_id": ctx.project_id})
    if not _SAFE_NAME.match(kp["name"]):
        raise BadRequest("Keypair data is invalid: Keypair name contains unsafe characters")
    key_type = kp.get("type", "ssh")
    result = await common.bus(request).handle(c.CreateKeypair(
        name=kp["name"], user_id=user_id, type=key_type, public_key=kp.get("public_key")), ctx)
    out: dict[str, Any] = {"name": kp["name"], "public_key": result.public_key,
                           "fingerprint": result.fingerprint, "user_id": user_id}
    if result.private_key is not None:
        out["private_key"] = result.private_key
    if common.is_supported(request, "2.2"):
        out["type"] = key_type
    status = 201 if common.is_supported(request, "2.2") else 200
    return common.JSON({"keypair": out}, status_code=status)


async def delete(request: Request) -> Response:
    ctx = common.context(request)
    user_id = _user(request, ctx, "os_compute_api:os-keypairs:delete")
    await common.bus(request).handle(c.DeleteKeypair(request.path_params["name"], user_id), ctx)
    return common.empty(204 if common.is_supported(request, "2.2") else 202)


ROUTES: list[BaseRoute] = [
    P("/os-keypairs", index, "GET", "os_compute_api:os-keypairs:index"),
    P("/os-keypairs", create, "POST", "os_compute_api:os-keypairs:create"),
    P("/os-keypairs/{name}", show, "GET", "os_compute_api:os-keypairs:show"),
    P("/os-keypairs/{name}", delete, "DELETE", "os_compute_api:os-keypairs:delete"),
]
