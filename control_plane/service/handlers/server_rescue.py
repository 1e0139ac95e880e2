"""Rescue, unrescue, changePassword and the server password (os-server-password)."""

from __future__ import annotations

from control_plane.access.tokens import seal
from control_plane.context import RequestContext, now
from control_plane.domain.servers import commands as c
from control_plane.domain.servers import rescue
from control_plane.service.deps import Deps
from control_plane.service.handlers.references import check_image
from control_plane.service.handlers.servers import act_on_server, load_visible
from control_plane.service.uow import UnitOfWork
from projections.servers import queries as server_queries


async def request_rescue(deps: Deps, cmd: c.RescueServer, ctx: RequestContext) -> None:
    image_ref = ""
    if cmd.rescue_image_ref:
        async with deps.pool.acquire() as conn:
            row = await server_queries.flavor_and_owner(conn, cmd.server_id)
            if row is not None and (ctx.is_admin or row["project_id"] == ctx.project_id):
                image_ref = await check_image(conn, cmd.rescue_image_ref, row["flavor"], ctx,
                                              missing="Image {id} could not be found.")
    sealed = seal(cmd.admin_pass)
    await act_on_server(deps, cmd.server_id, ctx, lambda server, stamp: rescue.request_rescue(
        server, image_ref or server.image_ref, sealed, stamp))


async def request_unrescue(deps: Deps, cmd: c.UnrescueServer, ctx: RequestContext) -> None:
    await act_on_server(deps, cmd.server_id, ctx, rescue.request_unrescue)


async def change_password(deps: Deps, cmd: c.ChangeServerPassword, ctx: RequestContext
                          ) -> None:
    sealed = seal(cmd.admin_pass)
    await act_on_server(deps, cmd.server_id, ctx, lambda server, stamp:
                        rescue.request_password_change(server, sealed, stamp))


async def set_password(deps: Deps, cmd: c.SetServerPassword, ctx: RequestContext) -> None:
    async def work(uow: UnitOfWork) -> None:
        rescue.set_password(await load_visible(uow, cmd.server_id, ctx), cmd.password, now())
        await uow.commit(ctx.metadata())

    await deps.retrying(work, key=cmd.server_id)


async def clear_password(deps: Deps, cmd: c.ClearServerPassword, ctx: RequestContext) -> None:
    async def work(uow: UnitOfWork) -> None:
        rescue.clear_password(await load_visible(uow, cmd.server_id, ctx), now())
        await uow.commit(ctx.metadata())

    await deps.retrying(work, key=cmd.server_id)
