"""Soft delete, restore, force delete and reclaim (Nova's deferred delete)."""

from __future__ import annotations

import uuid

from control_plane.api.faults import NotFound
from control_plane.context import RequestContext, now
from control_plane.domain import errors
from control_plane.domain.servers import commands as c
from control_plane.domain.servers import deletion
from control_plane.domain.servers.aggregate import Server
from control_plane.service.deps import Deps
from control_plane.service.handlers.quotas import settle
from control_plane.service.handlers.servers import act_on_server, load_visible
from control_plane.service.uow import UnitOfWork


async def delete_server(deps: Deps, cmd: c.DeleteServer, ctx: RequestContext) -> None:
    """DELETE /servers/{id}: soft when a reclaim interval is set, else for real."""
    soft = deps.settings.reclaim_instance_interval > 0

    async def work(uow: UnitOfWork) -> None:
        server = await load_visible(uow, cmd.server_id, ctx)
        server.check_lock(ctx.is_admin)
        try:
            deletion.request_delete(server, soft, now())
        except errors.Conflict:
            raise NotFound(f"Instance {cmd.server_id} could not be found.") from None
        await settle(uow, [server])
        await uow.commit(ctx.metadata())

    await deps.retrying(work, key=cmd.server_id)


async def restore(deps: Deps, cmd: c.RestoreServer, ctx: RequestContext) -> None:
    await act_on_server(deps, cmd.server_id, ctx, deletion.request_restore)


async def force_delete(deps: Deps, cmd: c.ForceDeleteServer, ctx: RequestContext) -> None:
    await act_on_server(deps, cmd.server_id, ctx, deletion.request_force_delete)


async def reclaim(deps: Deps, cmd: c.ReclaimServer, ctx: RequestContext) -> None:
    async def work(uow: UnitOfWork) -> None:
        server = await uow.get(Server, uuid.UUID(cmd.server_id))
        if server is not None and deletion.reclaim(server, now()):
            await settle(uow, [server])
            await uow.commit(ctx.metadata(host=cmd.host))

    await deps.retrying(work, key=cmd.server_id)
