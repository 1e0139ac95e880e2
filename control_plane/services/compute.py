"""Commands issued by the scheduler and compute workers to report what happened."""

from __future__ import annotations

import uuid

from control_plane import commands as c
from control_plane.context import RequestContext, now
from control_plane.deps import Deps
from control_plane.domain.host import ComputeHost, NoCapacity, host_stream_id
from control_plane.domain.server import Server
from control_plane.uow import UnitOfWork, retrying

NO_VALID_HOST = "No valid host was found. There are not enough hosts available."


async def register_host(deps: Deps, cmd: c.RegisterComputeHost, ctx: RequestContext,
                        tracking: tuple[str, int] | None = None) -> None:
    fields = {
        "host": cmd.host, "hypervisor_type": cmd.hypervisor_type, "vcpus": cmd.vcpus,
        "memory_mb": cmd.memory_mb, "local_gb": cmd.local_gb,
        "availability_zone": cmd.availability_zone,
    }

    async def work(uow: UnitOfWork) -> None:
        host = await uow.get(ComputeHost, host_stream_id(cmd.host))
        if host is None:
            uow.add(ComputeHost.register_host(now(), **fields))
        else:
            fields.pop("host")
            host.reconfigure(now(), **fields)
        await uow.commit(ctx.metadata())

    await retrying(deps.store, work, key=f"host:{cmd.host}")


async def schedule_server(deps: Deps, cmd: c.ScheduleServer, ctx: RequestContext,
                          tracking: tuple[str, int] | None = None) -> str | None:
    """Pick a host with room and claim resources there; ERROR if none has room."""

    async def work(uow: UnitOfWork) -> str | None:
        server = await uow.get(Server, uuid.UUID(cmd.server_id))
        if server is None or server.deleted or server.host is not None:
            await uow.commit(ctx.metadata(), tracking=tracking)
            return None
        f = server.flavor
        need_disk = f["disk"] + f["ephemeral"] + (f["swap"] + 1023) // 1024
        async with deps.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT host FROM v_hosts WHERE vcpus - vcpus_used >= $1"
                " AND memory_mb - memory_mb_used >= $2 AND local_gb - local_gb_used >= $3"
                " AND ($4::text IS NULL OR availability_zone = $4)"
                " ORDER BY memory_mb - memory_mb_used DESC, host",
                f["vcpus"], f["ram"], need_disk, server.availability_zone,
            )
        candidates = [r["host"] for r in rows]
        hosts = await uow.get_many(ComputeHost, [host_stream_id(h) for h in candidates])
        stamp = now()
        for name in candidates:
            host = hosts.get(host_stream_id(name))
            if host is None:
                continue
            try:
                host.claim(cmd.server_id, f["vcpus"], f["ram"], need_disk, stamp)
            except NoCapacity:
                continue
            server.schedule(host.host, host.host, host.availability_zone, stamp)
            await uow.commit(ctx.metadata(), tracking=tracking)
            return host.host
        server.fail_scheduling(NO_VALID_HOST, stamp)
        await uow.commit(ctx.metadata(), tracking=tracking)
        return None

    return await retrying(deps.store, work, key=cmd.server_id)


async def mark_spawned(deps: Deps, cmd: c.MarkServerSpawned, ctx: RequestContext,
                       tracking: tuple[str, int] | None = None) -> None:
    async def work(uow: UnitOfWork) -> None:
        server = await uow.get(Server, uuid.UUID(cmd.server_id))
        if server is not None:
            server.mark_spawned(cmd.started_at, cmd.addresses, now())
        await uow.commit(ctx.metadata(host=cmd.host), tracking=tracking)

    await retrying(deps.store, work, key=cmd.server_id)


async def mark_build_failed(deps: Deps, cmd: c.MarkServerBuildFailed, ctx: RequestContext,
                            tracking: tuple[str, int] | None = None) -> None:
    async def work(uow: UnitOfWork) -> None:
        stamp = now()
        server = await uow.get(Server, uuid.UUID(cmd.server_id))
        if server is not None and server.mark_build_failed(
            cmd.started_at, cmd.message, cmd.details, stamp
        ):
            host = await uow.get(ComputeHost, host_stream_id(cmd.host))
            if host is not None:
                host.release(cmd.server_id, stamp)
        await uow.commit(ctx.metadata(host=cmd.host), tracking=tracking)

    await retrying(deps.store, work, key=cmd.server_id)


async def mark_deleted(deps: Deps, cmd: c.MarkServerDeleted, ctx: RequestContext,
                       tracking: tuple[str, int] | None = None) -> None:
    async def work(uow: UnitOfWork) -> None:
        stamp = now()
        server = await uow.get(Server, uuid.UUID(cmd.server_id))
        if server is not None:
            server.mark_deleted(cmd.started_at, stamp)
        host = await uow.get(ComputeHost, host_stream_id(cmd.host))
        if host is not None:
            host.release(cmd.server_id, stamp)
        await uow.commit(ctx.metadata(host=cmd.host), tracking=tracking)

    await retrying(deps.store, work, key=cmd.server_id)
