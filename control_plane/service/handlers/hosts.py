"""Commands issued by the scheduler and compute workers to report what happened."""

from __future__ import annotations

import uuid
import zlib
from typing import Any

import asyncpg

from control_plane.context import RequestContext, now
from control_plane.domain.hosts.aggregate import ComputeHost, best_host, host_stream_id
from control_plane.domain.hosts.commands import RegisterComputeHost
from control_plane.domain.networks.aggregate import NoMoreFixedIps
from control_plane.domain.servers import network as server_network
from control_plane.domain.servers.aggregate import Server
from control_plane.domain.servers.commands import (
    MarkServerBuildFailed,
    MarkServerDeleted,
    MarkServerSpawned,
    ScheduleServers,
)
from control_plane.service.deps import Deps
from control_plane.service.handlers import networks
from control_plane.service.handlers.quotas import settle
from control_plane.service.uow import UnitOfWork
from projections.hosts import queries as host_queries

NO_VALID_HOST = "No valid host was found. There are not enough hosts available."


async def register_host(deps: Deps, cmd: RegisterComputeHost, ctx: RequestContext,
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

    await deps.retrying(work, key=f"host:{cmd.host}")


def host_lock_key(host: str) -> int:
    """The advisory lock a compute worker holds while it serves ``host``."""
    return zlib.crc32(f"compute-host:{host}".encode())


async def host_is_up(conn: asyncpg.Connection, host: str, down_after: float = 60.0) -> bool:
    """Is a compute worker serving ``host`` now? It holds the host's advisory lock while
    its session runs, and beats (its ``liveness`` row) every second. A free lock alone
    is not proof of death: the worker may be re-acquiring it after a lost connection;
    the host is down once its lock is free and its last beat is older than
    ``down_after`` seconds (Nova's service_down_time), or at once after a clean stop
    (which removes the row)."""
    return bool(await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND classid = 0 AND objid::bigint = $1 AND objsubid = 1 AND database ="
        " (SELECT oid FROM pg_database WHERE datname = current_database()))"
        " OR EXISTS (SELECT 1 FROM liveness WHERE $2 = any(hosts)"
        " AND seen_at > now() - make_interval(secs => $3))",
        host_lock_key(host), host, down_after))


def resources(flavor: dict[str, Any]) -> tuple[int, int, int]:
    """What a flavor takes on a host: vCPUs, RAM (MB), disk (GB: root + ephemeral + swap)."""
    disk = flavor["disk"] + flavor["ephemeral"] + (flavor["swap"] + 1023) // 1024
    return int(flavor["vcpus"]), int(flavor["ram"]), int(disk)


async def load_hosts(deps: Deps, uow: UnitOfWork, exclude: str | None = None
                     ) -> list[ComputeHost]:
    """Every registered compute host (but ``exclude``), as aggregates: their claims decide."""
    async with deps.pool.acquire() as conn:
        names = await host_queries.names(conn, exclude)
    return list((await uow.get_many(ComputeHost, [host_stream_id(n) for n in names])).values())


async def schedule_servers(deps: Deps, cmd: ScheduleServers, ctx: RequestContext,
                           tracking: tuple[str, int] | None = None) -> dict[str, str | None]:
    """Place each server on the host with the most free RAM that fits it, claiming the
    resources there; a server nothing can hold goes to ERROR (No valid host).

    All servers of one request are placed in one unit of work: one atomic append of
    every server's and every host's new events. Capacity is taken from the host
    aggregates themselves, so a clash with another scheduler is caught on append.
    """

    async def work(uow: UnitOfWork) -> dict[str, str | None]:
        ids = [uuid.UUID(s) for s in cmd.server_ids]
        servers = await uow.get_many(Server, ids)
        hosts = await load_hosts(deps, uow)
        stamp = now()
        net = await networks.load_network(uow, stamp)
        ips_left = net.capacity()
        wired: list[Server] = []
        placed: dict[str, str | None] = {}
        for sid in ids:
            server = servers.get(sid)
            if server is None or server.deleted or server.host is not None:
                continue
            need = resources(server.flavor)
            best = best_host(hosts, *need, zone=server.availability_zone)
            if best is None or ips_left <= 0:
                server.fail_scheduling(NO_VALID_HOST if best is None
                                       else NoMoreFixedIps(str(net.id)).message, stamp)
                placed[str(sid)] = None
                continue
            best.claim(str(sid), *need, stamp)
            server.schedule(best.host, best.host, best.availability_zone, stamp)
            placed[str(sid)] = best.host
            ips_left -= 1
            wired.append(server)
        networks.wire_servers(net, wired, stamp)  # every boot port in one network event
        await uow.commit(ctx.metadata(), tracking=tracking)
        return placed

    return await deps.retrying(work, key="scheduler")


async def mark_spawned(deps: Deps, cmd: MarkServerSpawned, ctx: RequestContext,
                       tracking: tuple[str, int] | None = None) -> None:
    async def work(uow: UnitOfWork) -> None:
        server = await uow.get(Server, uuid.UUID(cmd.server_id))
        if server is not None:
            # the addresses the control plane allocated, if it did (else the driver's)
            shown = server_network.addresses(server) if server_network.vifs(server) \
                else cmd.addresses
            server.mark_spawned(cmd.started_at, shown, now())
        await uow.commit(ctx.metadata(host=cmd.host), tracking=tracking)

    await deps.retrying(work, key=cmd.server_id)


async def mark_build_failed(deps: Deps, cmd: MarkServerBuildFailed, ctx: RequestContext,
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

    await deps.retrying(work, key=cmd.server_id)


async def mark_deleted(deps: Deps, cmd: MarkServerDeleted, ctx: RequestContext,
                       tracking: tuple[str, int] | None = None) -> None:
    async def work(uow: UnitOfWork) -> None:
        stamp = now()
        server = await uow.get(Server, uuid.UUID(cmd.server_id))
        hosts = {cmd.host}
        if server is not None:
            if server.vm_state == "resized":  # a resize not confirmed: both copies go
                hosts.add(server.resize_source)
            server.mark_deleted(cmd.started_at, stamp)
            await settle(uow, [server])
        for name in hosts:
            host = await uow.get(ComputeHost, host_stream_id(name))
            if host is not None:
                host.release(cmd.server_id, stamp)
        await uow.commit(ctx.metadata(host=cmd.host), tracking=tracking)

    await deps.retrying(work, key=cmd.server_id)
