"""Shelve commands. With CONTROL_PLANE_SHELVED_OFFLOAD_TIME=0 (Nova's default) a shelved
server is offloaded at once; with -1 it stays on its host until shelveOffload; with a
number of seconds, its compute worker offloads it once that time has passed."""

from __future__ import annotations

import uuid

from control_plane.context import RequestContext, now
from control_plane.domain.hosts.aggregate import ComputeHost, best_host, host_stream_id
from control_plane.domain.images.aggregate import Image
from control_plane.domain.servers import commands as c
from control_plane.domain.servers import shelve
from control_plane.domain.servers.aggregate import Server
from control_plane.service.deps import Deps
from control_plane.service.handlers.hosts import NO_VALID_HOST, load_hosts, resources
from control_plane.service.handlers.server_snapshot import base_image
from control_plane.service.handlers.servers import act_on_server, load_visible
from control_plane.service.uow import UnitOfWork


async def _release(uow: UnitOfWork, host_name: str | None, server_id: str) -> None:
    if host_name:
        host = await uow.get(ComputeHost, host_stream_id(host_name))
        if host is not None:
            host.release(server_id, now())


async def request_shelve(deps: Deps, cmd: c.ShelveServer, ctx: RequestContext) -> None:
    base = await base_image(deps, cmd.server_id)
    inherited = dict(base["metadata"]) if base is not None else {}

    async def work(uow: UnitOfWork) -> None:
        server = await load_visible(uow, cmd.server_id, ctx)
        server.check_lock(ctx.is_admin)
        stamp = now()
        image_id = uuid.uuid4()
        shelve.request(server, str(image_id), deps.settings.shelved_offload_time == 0, stamp)
        uow.add(Image.register_image(
            image_id, stamp, name=f"{server.name}-shelved", status="saving",
            disk_format="qcow2", container_format="bare", size=0, min_ram=0,
            min_disk=server.flavor["disk"], visibility="private", owner=server.project_id,
            metadata={**inherited, "instance_uuid": cmd.server_id, "image_type": "snapshot",
                      "base_image_ref": server.image_ref}, server_id=cmd.server_id))
        await uow.commit(ctx.metadata())

    await deps.retrying(work, key=cmd.server_id)


async def request_offload(deps: Deps, cmd: c.ShelveOffloadServer, ctx: RequestContext
                          ) -> None:
    await act_on_server(deps, cmd.server_id, ctx, shelve.request_offload)


async def request_unshelve(deps: Deps, cmd: c.UnshelveServer, ctx: RequestContext) -> None:
    await act_on_server(deps, cmd.server_id, ctx, shelve.request_unshelve)


async def schedule_unshelve(deps: Deps, cmd: c.ScheduleUnshelve, ctx: RequestContext
                            ) -> None:
    async def work(uow: UnitOfWork) -> None:
        server = await uow.get(Server, uuid.UUID(cmd.server_id))
        if server is None or server.host is not None or server.task_state != shelve.UNSHELVING:
            return
        need = resources(server.flavor)
        best = best_host(await load_hosts(deps, uow), *need)
        stamp = now()
        if best is None:
            server.fail_action("unshelve", stamp.isoformat(), NO_VALID_HOST, "", stamp)
        else:
            best.claim(cmd.server_id, *need, stamp)
            shelve.schedule_unshelve(server, best.host, stamp)
        await uow.commit(ctx.metadata())

    await deps.retrying(work, key=cmd.server_id)


async def finish_shelve(deps: Deps, cmd: c.FinishShelve, ctx: RequestContext) -> None:
    async def work(uow: UnitOfWork) -> None:
        stamp = now()
        server = await uow.get(Server, uuid.UUID(cmd.server_id))
        if server is None:
            return
        image_id = server.shelved_image
        freed = shelve.finish_shelve(server, cmd.started_at, cmd.offload, stamp)
        await _release(uow, freed, cmd.server_id)
        if image_id:
            image = await uow.get(Image, uuid.UUID(image_id))
            if image is not None:
                image.activate(cmd.size, stamp)
        await uow.commit(ctx.metadata(host=cmd.host))

    await deps.retrying(work, key=cmd.server_id)


async def finish_offload(deps: Deps, cmd: c.FinishOffload, ctx: RequestContext) -> None:
    async def work(uow: UnitOfWork) -> None:
        server = await uow.get(Server, uuid.UUID(cmd.server_id))
        if server is not None:
            await _release(uow, shelve.finish_offload(server, cmd.started_at, now()),
                           cmd.server_id)
        await uow.commit(ctx.metadata(host=cmd.host))

    await deps.retrying(work, key=cmd.server_id)


async def finish_unshelve(deps: Deps, cmd: c.FinishUnshelve, ctx: RequestContext) -> None:
    async def work(uow: UnitOfWork) -> None:
        stamp = now()
        server = await uow.get(Server, uuid.UUID(cmd.server_id))
        image_id = shelve.finish_unshelve(server, cmd.started_at, stamp) if server else None
        if image_id:  # the shelved snapshot has served its purpose
            image = await uow.get(Image, uuid.UUID(image_id))
            if image is not None and not image.deleted:
                image.delete(stamp)
        await uow.commit(ctx.metadata(host=cmd.host))

    await deps.retrying(work, key=cmd.server_id)


async def offload_due(deps: Deps, cmd: c.OffloadShelvedServer, ctx: RequestContext) -> None:
    """shelved_offload_time has passed for a server shelved on its host."""

    async def work(uow: UnitOfWork) -> None:
        server = await uow.get(Server, uuid.UUID(cmd.server_id))
        if server is None or server.vm_state != "shelved" or server.task_state is not None:
            return
        shelve.request_offload(server, now())
        await uow.commit(ctx.metadata(host=cmd.host))

    await deps.retrying(work, key=cmd.server_id)
