"""Server commands from the API: create (one or many), update, delete."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from control_plane.access.tokens import seal
from control_plane.api.faults import BadRequest, NotFound, QuotaExceeded
from control_plane.context import RequestContext, now
from control_plane.domain.quotas.usage import flavor_holding
from control_plane.domain.servers import commands as c
from control_plane.domain.servers.aggregate import Server
from control_plane.service.deps import Deps
from control_plane.service.handlers.quotas import project_usage, settle
from control_plane.service.handlers.references import (
    check_block_devices,
    check_image,
    check_requested_networks,
)
from control_plane.service.uow import UnitOfWork
from projections.flavors import queries as flavor_queries
from projections.keypairs import queries as keypair_queries


@dataclass(frozen=True)
class CreatedServers:
    server_ids: list[str]
    reservation_id: str


def hostname_for(name: str) -> str:
    host = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    return host[:63] or "server"


async def flavor_for(conn: asyncpg.Connection, flavor_ref: str, ctx: RequestContext
                      ) -> dict[str, Any]:
    ref = flavor_ref.rstrip("/").rsplit("/", 1)[-1]
    row = await flavor_queries.by_id(conn, ref)
    if row is None or not (row["is_public"] or ctx.is_admin or ctx.project_id in row["projects"]):
        raise BadRequest("Invalid flavorRef provided.")
    if row["disabled"]:
        raise BadRequest("Flavor is disabled.")
    return {
        "id": row["flavorid"], "name": row["name"], "vcpus": row["vcpus"], "ram": row["ram"],
        "disk": row["disk"], "ephemeral": row["ephemeral"], "swap": row["swap"],
        "extra_specs": row["extra_specs"],
    }


async def create_servers(deps: Deps, cmd: c.CreateServers, ctx: RequestContext
                         ) -> CreatedServers:
    async with deps.pool.acquire() as conn:
        flavor = await flavor_for(conn, cmd.flavor_ref, ctx)
        image_ref = await check_image(conn, cmd.image_ref, flavor, ctx)
        key_data = None
        if cmd.key_name is not None:
            key_data = await keypair_queries.public_key(conn, ctx.user_id, cmd.key_name)
            if key_data is None:
                raise BadRequest("Invalid key_name provided.")
    await check_block_devices(deps.unit_of_work(), cmd.block_devices, ctx)
    await check_requested_networks(deps.unit_of_work(), cmd.networks, ctx)
    meta_limit = deps.settings.quotas["metadata_items"]
    if 0 <= meta_limit < len(cmd.metadata):
        raise QuotaExceeded(f"Maximum number of metadata items exceeds {meta_limit}")
    reservation_id = "r-" + secrets.token_hex(4)
    sealed = seal(cmd.admin_pass) if cmd.admin_pass else ""
    files = [{"path": p, "contents": body} for p, body in cmd.files]
    per = flavor_holding(flavor)

    async def work(uow: UnitOfWork) -> list[uuid.UUID]:
        # the quota is checked and claimed in the append that creates the servers
        usage = await project_usage(uow, ctx.project_id)
        count = usage.fit(per, cmd.min_count, cmd.max_count, deps.settings.quotas)
        stamp = now()
        ids = [uuid.uuid4() for _ in range(count)]
        for index, server_id in enumerate(ids):
            name = cmd.name if count == 1 else f"{cmd.name}-{index + 1}"
            server = Server.create(
                server_id, stamp, name=name, project_id=ctx.project_id, user_id=ctx.user_id,
                flavor=flavor, image_ref=image_ref, key_name=cmd.key_name, key_data=key_data,
                metadata=dict(cmd.metadata), access_ipv4=cmd.access_ipv4,
                access_ipv6=cmd.access_ipv6, disk_config=cmd.disk_config,
                availability_zone=cmd.availability_zone, config_drive=cmd.config_drive,
                user_data=cmd.user_data, reservation_id=reservation_id, launch_index=index,
                security_groups=list(cmd.security_groups), networks=cmd.networks,
                hostname=hostname_for(name), admin_pass=sealed, files=files,
            )
            uow.add(server)
        usage.claim({str(i): per for i in ids}, stamp)
        await uow.commit(ctx.metadata())
        return ids

    ids = await deps.retrying(work, key=f"usage:{ctx.project_id}")
    return CreatedServers([str(i) for i in ids], reservation_id)


async def load_visible(uow: UnitOfWork, server_id: str, ctx: RequestContext) -> Server:
    try:
        sid = uuid.UUID(server_id)
    except ValueError:
        raise NotFound(f"Instance {server_id} could not be found.") from None
    server = await uow.get(Server, sid)
    if server is None or server.deleted or (
        not ctx.is_admin and server.project_id != ctx.project_id
    ):
        raise NotFound(f"Instance {server_id} could not be found.")
    return server


async def update_server(deps: Deps, cmd: c.UpdateServer, ctx: RequestContext) -> None:
    async def work(uow: UnitOfWork) -> None:
        server = await load_visible(uow, cmd.server_id, ctx)
        changes = dict(cmd.changes)
        if "name" in changes:
            changes["hostname"] = hostname_for(changes["name"])
        server.update(changes, now())
        await uow.commit(ctx.metadata())

    await deps.retrying(work, key=cmd.server_id)


async def set_metadata(deps: Deps, cmd: c.SetServerMetadata, ctx: RequestContext) -> None:
    async def work(uow: UnitOfWork) -> None:
        server = await load_visible(uow, cmd.server_id, ctx)
        server.set_metadata(dict(cmd.metadata), cmd.replace,
                            deps.settings.quotas["metadata_items"], now())
        await uow.commit(ctx.metadata())

    await deps.retrying(work, key=cmd.server_id)


async def delete_metadata_item(deps: Deps, cmd: c.DeleteServerMetadataItem,
                               ctx: RequestContext) -> None:
    async def work(uow: UnitOfWork) -> None:
        (await load_visible(uow, cmd.server_id, ctx)).delete_metadata_item(cmd.key, now())
        await uow.commit(ctx.metadata())

    await deps.retrying(work, key=cmd.server_id)


async def act_on_server(deps: Deps, server_id: str, ctx: RequestContext,
                        decide: Callable[[Server, dt.datetime], object]) -> None:
    """The common shape of a user's server action: load the server (404 if not theirs),
    refuse if locked, let the aggregate decide, append; retried on a concurrent change."""

    async def work(uow: UnitOfWork) -> None:
        server = await load_visible(uow, server_id, ctx)
        server.check_lock(ctx.is_admin)
        decide(server, now())
        await settle(uow, [server])
        await uow.commit(ctx.metadata())

    await deps.retrying(work, key=server_id)
