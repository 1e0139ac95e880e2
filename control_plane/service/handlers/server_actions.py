"""Server actions: the API's request (state checked, task set) and the driver's outcome."""

from __future__ import annotations

import uuid

from control_plane.access.tokens import seal
from control_plane.context import RequestContext, now
from control_plane.domain.servers import commands as c
from control_plane.domain.servers import rebuild as server_rebuild
from control_plane.domain.servers import simple_actions
from control_plane.domain.servers.aggregate import Server
from control_plane.service.deps import Deps
from control_plane.service.handlers.references import check_image
from control_plane.service.handlers.servers import act_on_server, load_visible
from control_plane.service.uow import UnitOfWork
from projections.servers import queries as server_queries


async def request_action(deps: Deps, cmd: c.RequestServerAction, ctx: RequestContext) -> None:
    async def work(uow: UnitOfWork) -> None:
        server = await load_visible(uow, cmd.server_id, ctx)
        stamp = now()
        if cmd.action == "resetState":
            server.reset_state(cmd.argument, stamp)
        elif cmd.action in ("addSecurityGroup", "removeSecurityGroup"):
            if cmd.action == "addSecurityGroup":
                server.add_security_group(cmd.argument, stamp)
            else:
                server.remove_security_group(cmd.argument, stamp)
        elif cmd.action == "lock":
            server.lock(ctx.is_admin, stamp)
        elif cmd.action == "unlock":
            server.unlock(ctx.is_admin, stamp)
        else:
            server.check_lock(ctx.is_admin)
            if cmd.action == "stop":
                server.request_stop(stamp)
            elif cmd.action == "start":
                server.request_start(stamp)
            elif cmd.action == "reboot":
                server.request_reboot(cmd.reboot_type, stamp)
            else:
                simple_actions.request(server, cmd.action, stamp)
        await uow.commit(ctx.metadata())

    await deps.retrying(work, key=cmd.server_id)


async def rebuild(deps: Deps, cmd: c.RebuildServer, ctx: RequestContext) -> None:
    async with deps.pool.acquire() as conn:
        server_row = await server_queries.flavor_and_owner(conn, cmd.server_id)
        image_ref = cmd.image_ref
        # (a server the caller may not see is refused with a 404 below)
        if server_row is not None and (ctx.is_admin or server_row["project_id"] == ctx.project_id):
            image_ref = await check_image(conn, cmd.image_ref, server_row["flavor"], ctx,
                                          missing="Cannot find image for rebuild")

    sealed = seal(cmd.admin_pass) if cmd.admin_pass else ""
    files = [{"path": p, "contents": body} for p, body in cmd.files]
    await act_on_server(deps, cmd.server_id, ctx, lambda server, stamp: server_rebuild.request(
        server, image_ref, dict(cmd.changes), stamp, sealed, files))


async def complete_action(deps: Deps, cmd: c.CompleteServerAction, ctx: RequestContext
                          ) -> None:
    async def work(uow: UnitOfWork) -> None:
        server = await uow.get(Server, uuid.UUID(cmd.server_id))
        if server is not None:
            server.complete_action(cmd.action, cmd.started_at, now())
        await uow.commit(ctx.metadata(host=cmd.host))

    await deps.retrying(work, key=cmd.server_id)


async def fail_action(deps: Deps, cmd: c.FailServerAction, ctx: RequestContext) -> None:
    async def work(uow: UnitOfWork) -> None:
        server = await uow.get(Server, uuid.UUID(cmd.server_id))
        if server is not None:
            server.fail_action(cmd.action, cmd.started_at, cmd.message, cmd.details, now())
        await uow.commit(ctx.metadata(host=cmd.host))

    await deps.retrying(work, key=cmd.server_id)
