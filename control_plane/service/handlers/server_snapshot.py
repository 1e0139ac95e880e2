"""createImage / createBackup: the request (image registered, server task set) and the
worker's outcome (image activated; old backups rotated out)."""

from __future__ import annotations

import uuid

import asyncpg

from control_plane.context import RequestContext, now
from control_plane.domain.images.aggregate import Image
from control_plane.domain.servers import commands as c
from control_plane.domain.servers import snapshot
from control_plane.domain.servers.aggregate import Server
from control_plane.service.deps import Deps
from control_plane.service.handlers.servers import load_visible
from control_plane.service.uow import UnitOfWork
from projections.images import queries as image_queries
from projections.servers import queries as server_queries


async def base_image(deps: Deps, server_id: str) -> asyncpg.Record | None:
    """The catalog row of the image the server was booted from (a snapshot inherits its
    properties, as Nova's do: kernel_id, ramdisk_id, os_command_line, ...)."""
    async with deps.pool.acquire() as conn:
        image_ref = await server_queries.image_ref(conn, server_id)
        return None if image_ref is None else await image_queries.by_id(conn, image_ref)


async def create_image(deps: Deps, cmd: c.CreateServerImage, ctx: RequestContext) -> str:
    image_id = uuid.uuid4()
    base = await base_image(deps, cmd.server_id)

    async def work(uow: UnitOfWork) -> str:
        server = await load_visible(uow, cmd.server_id, ctx)
        server.check_lock(ctx.is_admin)
        stamp = now()
        snapshot.request(server, str(image_id), cmd.kind, stamp)
        metadata = dict(base["metadata"]) if base is not None else {}
        metadata.update(cmd.metadata)
        metadata.update({"instance_uuid": cmd.server_id, "image_type": cmd.kind,
                         "base_image_ref": server.image_ref, "user_id": ctx.user_id})
        if cmd.kind == "backup":
            metadata["backup_type"] = cmd.backup_type or ""
            metadata["rotation"] = str(cmd.rotation)
        uow.add(Image.register_image(
            image_id, stamp, name=cmd.name, status="saving", disk_format="qcow2",
            container_format="bare", size=0,
            min_ram=base["min_ram"] if base is not None else 0,
            min_disk=max(server.flavor["disk"], base["min_disk"] if base is not None else 0),
            visibility="private", owner=server.project_id, metadata=metadata,
            server_id=cmd.server_id))
        await uow.commit(ctx.metadata())
        return str(image_id)

    return await deps.retrying(work, key=cmd.server_id)


async def finish_image(deps: Deps, cmd: c.FinishServerImage, ctx: RequestContext) -> None:
    async with deps.pool.acquire() as conn:
        image = await image_queries.by_id(conn, cmd.image_id)
        backups: list[str] = []
        if image is not None and image["metadata"].get("image_type") == "backup":
            rotation = int(image["metadata"].get("rotation") or 0)
            rows = await image_queries.older_backups(
                conn, cmd.server_id, cmd.image_id, image["metadata"].get("backup_type", ""))
            backups = rows[max(rotation - 1, 0):]

    async def work(uow: UnitOfWork) -> None:
        stamp = now()
        server = await uow.get(Server, uuid.UUID(cmd.server_id))
        if server is not None:
            snapshot.finish(server, cmd.image_id, cmd.started_at, stamp)
        new = await uow.get(Image, uuid.UUID(cmd.image_id))
        if new is not None:
            new.activate(cmd.size, stamp)
        for old_id in backups:  # rotation: keep the newest `rotation` backups
            old = await uow.get(Image, uuid.UUID(old_id))
            if old is not None and not old.deleted:
                old.delete(stamp)
        await uow.commit(ctx.metadata(host=cmd.host))

    await deps.retrying(work, key=cmd.server_id)
