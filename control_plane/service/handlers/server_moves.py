"""Cold migrate, live migrate, evacuate.

Live migration and evacuation choose and claim their target in the request's own
unit of work (as Nova's API does these checks before answering at these
microversions), so a refused target is a 400 and never a half-started move.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

from control_plane.access.tokens import seal
from control_plane.api.faults import BadRequest, NotFound
from control_plane.context import RequestContext, now
from control_plane.domain.hosts.aggregate import ComputeHost, best_host, host_stream_id
from control_plane.domain.servers import commands as c
from control_plane.domain.servers import moves
from control_plane.domain.servers.aggregate import Server
from control_plane.service.deps import Deps
from control_plane.service.handlers.hosts import NO_VALID_HOST, host_is_up, load_hosts, resources
from control_plane.service.handlers.servers import act_on_server, load_visible
from control_plane.service.uow import UnitOfWork


async def migrate(deps: Deps, cmd: c.MigrateServer, ctx: RequestContext) -> None:
    await act_on_server(deps, cmd.server_id, ctx, moves.request_migrate)


async def _claim_target(deps: Deps, uow: UnitOfWork, server: Server, wanted: str | None,
                        missing: Exception) -> ComputeHost:
    need = resources(server.flavor)
    if wanted is not None:
        host = await uow.get(ComputeHost, host_stream_id(wanted))
        if host is None:
            raise missing
        if not host.fits(*need):
            raise BadRequest(NO_VALID_HOST)
    else:
        found = best_host(await load_hosts(deps, uow, exclude=server.host), *need)
        if found is None:
            raise BadRequest(NO_VALID_HOST)
        host = found
    host.claim(str(server.id), *need, now())
    return host


async def live_migrate(deps: Deps, cmd: c.LiveMigrateServer, ctx: RequestContext) -> None:
    async def work(uow: UnitOfWork) -> None:
        server = await load_visible(uow, cmd.server_id, ctx)
        server.check_lock(ctx.is_admin)
        moves.check_live_migration(server, cmd.host)
        target = await _claim_target(deps, uow, server, cmd.host, BadRequest(
            f"Compute host {cmd.host} could not be found."))
        moves.start_live_migration(server, target.host, cmd.block_migration, now())
        await uow.commit(ctx.metadata())

    await deps.retrying(work, key=cmd.server_id)


async def finish_live_migration(deps: Deps, cmd: c.FinishLiveMigration, ctx: RequestContext
                                ) -> None:
    await _finish(deps, cmd.server_id, cmd.host, ctx, lambda server, stamp:
                  moves.finish_live_migration(server, cmd.started_at, cmd.ok, cmd.message,
                                              stamp))


async def evacuate(deps: Deps, cmd: c.EvacuateServer, ctx: RequestContext) -> None:
    sealed = seal(cmd.admin_pass)

    async def work(uow: UnitOfWork) -> None:
        server = await load_visible(uow, cmd.server_id, ctx)
        source = moves.check_evacuation(server, cmd.host)
        async with deps.pool.acquire() as conn:
            if await host_is_up(conn, source, deps.settings.service_down_time):
                raise BadRequest(f"Compute service of {source} is still in use.")
        target = await _claim_target(deps, uow, server, cmd.host, NotFound(
            f"Compute host {cmd.host} not found."))
        moves.start_evacuation(server, target.host, sealed, now())
        await uow.commit(ctx.metadata())

    await deps.retrying(work, key=cmd.server_id)


async def finish_evacuation(deps: Deps, cmd: c.FinishEvacuation, ctx: RequestContext) -> None:
    await _finish(deps, cmd.server_id, cmd.host, ctx, lambda server, stamp:
                  moves.finish_evacuation(server, cmd.started_at, cmd.ok, cmd.message, stamp))


async def _finish(deps: Deps, server_id: str, reporter: str, ctx: RequestContext,
                  decide: Callable[[Server, dt.datetime], str | None]) -> None:
    """Record a move's outcome and release the claim it leaves behind."""

    async def work(uow: UnitOfWork) -> None:
        stamp = now()
        server = await uow.get(Server, uuid.UUID(server_id))
        if server is None:
            return
        release = decide(server, stamp)
        if release:
            host = await uow.get(ComputeHost, host_stream_id(release))
            if host is not None:
                host.release(server_id, stamp)
        await uow.commit(ctx.metadata(host=reporter))

    await deps.retrying(work, key=server_id)
