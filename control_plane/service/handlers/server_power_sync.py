"""The compute worker's power-state reports (control_plane.domain.servers.power_sync)."""

from __future__ import annotations

import uuid

from control_plane.context import RequestContext, now
from control_plane.domain.servers import commands as c
from control_plane.domain.servers import power_sync as server_power_sync
from control_plane.domain.servers.aggregate import Server
from control_plane.service.deps import Deps
from control_plane.service.uow import UnitOfWork


async def sync_power_state(deps: Deps, cmd: c.SyncServerPowerState, ctx: RequestContext
                           ) -> bool:
    """Apply an observation made when the server was at ``cmd.version``; an observation
    older than the server's last change is dropped (a request or an outcome came in
    meanwhile, and the next check will look again)."""

    async def work(uow: UnitOfWork) -> bool:
        server = await uow.get(Server, uuid.UUID(cmd.server_id))
        if server is None or server.version != cmd.version or server.host != cmd.host:
            return False
        if not server_power_sync.sync(server, cmd.power_state, now()):
            return False
        await uow.commit(ctx.metadata())
        return True

    return await deps.retrying(work, key=cmd.server_id)
