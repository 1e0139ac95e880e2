"""Resize commands: the API's request, confirm and revert; the scheduler's placement;
the compute worker's outcomes. Claims follow the server: the target host is claimed
when the resize is placed, the source released on confirm, the target on revert."""

from __future__ import annotations

import uuid

from control_plane.context import RequestContext, now
from control_plane.domain.hosts.aggregate import ComputeHost, best_host, host_stream_id
from control_plane.domain.quotas.usage import server_holding
from control_plane.domain.servers import commands as c
from control_plane.domain.servers import resize
from control_plane.domain.servers.aggregate import Server
from control_plane.service.deps import Deps
from control_plane.service.handlers.hosts import NO_VALID_HOST, load_hosts, resources
from control_plane.service.handlers.quotas import project_usage, settle
from control_plane.service.handlers.servers import act_on_server, flavor_for, load_visible
from control_plane.service.uow import UnitOfWork


async def request_resize(deps: Deps, cmd: c.ResizeServer, ctx: RequestContext) -> None:
    """Accept a resize; an increase of cores or ram is claimed from the server's project's
    quota in the same append (Nova checks it before accepting the request)."""
    async with deps.pool.acquire() as conn:
        flavor = await flavor_for(conn, cmd.flavor_ref, ctx)

    async def work(uow: UnitOfWork) -> None:
        server = await load_visible(uow, cmd.server_id, ctx)
        server.check_lock(ctx.is_admin)
        stamp = now()
        resize.request(server, flavor, stamp)
        usage = await project_usage(uow, server.project_id)
        usage.hold(str(server.id), server_holding(server), stamp, deps.settings.quotas)
        await uow.commit(ctx.metadata())

    await deps.retrying(work, key=cmd.server_id)


async def _confirm(uow: UnitOfWork, server: Server) -> None:
    stamp = now()
    source = resize.confirm(server, stamp)
    await settle(uow, [server])
    host = await uow.get(ComputeHost, host_stream_id(source))
    if host is not None:
        host.release(str(server.id), stamp)


async def confirm_resize(deps: Deps, cmd: c.ConfirmResize, ctx: RequestContext) -> None:
    async def work(uow: UnitOfWork) -> None:
        server = await load_visible(uow, cmd.server_id, ctx)
        server.check_lock(ctx.is_admin)
        await _confirm(uow, server)
        await uow.commit(ctx.metadata())

    await deps.retrying(work, key=cmd.server_id)


async def auto_confirm(deps: Deps, cmd: c.AutoConfirmResize, ctx: RequestContext) -> None:
    """resize_confirm_window has passed: the compute worker confirms for the user."""

    async def work(uow: UnitOfWork) -> None:
        server = await uow.get(Server, uuid.UUID(cmd.server_id))
        if server is None or server.deleted or server.vm_state != "resized" \
                or server.task_state is not None:
            return
        await _confirm(uow, server)
        await uow.commit(ctx.metadata(host=cmd.host))

    await deps.retrying(work, key=cmd.server_id)


async def revert_resize(deps: Deps, cmd: c.RevertResize, ctx: RequestContext) -> None:
    await act_on_server(deps, cmd.server_id, ctx, resize.request_revert)


async def schedule_resize(deps: Deps, cmd: c.ScheduleResize, ctx: RequestContext) -> None:
    """Place the resized server on another host with room for its new flavor."""

    async def work(uow: UnitOfWork) -> None:
        server = await uow.get(Server, uuid.UUID(cmd.server_id))
        if server is None or server.task_state != resize.RESIZE_PREP:
            return
        assert server.new_flavor is not None
        need = resources(server.new_flavor)
        best = best_host(await load_hosts(deps, uow, exclude=server.host), *need)
        stamp = now()
        if best is None:
            resize.fail(server, NO_VALID_HOST, stamp.isoformat(), stamp)
            await settle(uow, [server])
        else:
            best.claim(cmd.server_id, *need, stamp)
            resize.schedule(server, best.host, stamp)
        await uow.commit(ctx.metadata())

    await deps.retrying(work, key=cmd.server_id)


async def finish_resize(deps: Deps, cmd: c.FinishResize, ctx: RequestContext) -> None:
    async def work(uow: UnitOfWork) -> None:
        server = await uow.get(Server, uuid.UUID(cmd.server_id))
        if server is not None:
            resize.finish(server, cmd.started_at, now())
        await uow.commit(ctx.metadata(host=cmd.host))

    await deps.retrying(work, key=cmd.server_id)


async def fail_resize(deps: Deps, cmd: c.FailResize, ctx: RequestContext) -> None:
    async def work(uow: UnitOfWork) -> None:
        stamp = now()
        server = await uow.get(Server, uuid.UUID(cmd.server_id))
        if server is not None and resize.fail(server, cmd.message, cmd.started_at, stamp):
            await settle(uow, [server])
            host = await uow.get(ComputeHost, host_stream_id(cmd.host))
            if host is not None:
                host.release(cmd.server_id, stamp)
        await uow.commit(ctx.metadata(host=cmd.host))

    await deps.retrying(work, key=cmd.server_id)


async def finish_revert(deps: Deps, cmd: c.FinishRevertResize, ctx: RequestContext) -> None:
    async def work(uow: UnitOfWork) -> None:
        stamp = now()
        server = await uow.get(Server, uuid.UUID(cmd.server_id))
        target = resize.finish_revert(server, cmd.started_at, stamp) if server else None
        if target is not None:
            await settle(uow, [server])
            host = await uow.get(ComputeHost, host_stream_id(target))
            if host is not None:
                host.release(cmd.server_id, stamp)
        await uow.commit(ctx.metadata(host=cmd.host))

    await deps.retrying(work, key=cmd.server_id)
