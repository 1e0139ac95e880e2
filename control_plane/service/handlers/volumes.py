"""Volume, snapshot and volume-attachment commands.

Attach, detach and swap decide on the server and the volume(s) together and append
both sides in one unit of work; the compute worker then does the hypervisor part and
reports back (FinishVolumeOperation).
"""

from __future__ import annotations

import uuid

from control_plane.api.faults import BadRequest
from control_plane.context import RequestContext, now
from control_plane.domain.servers import volume_attachments as server_volumes
from control_plane.domain.servers.aggregate import Server
from control_plane.domain.volumes import aggregate as vol
from control_plane.domain.volumes import commands as c
from control_plane.domain.volumes.aggregate import Volume, VolumeSnapshot
from control_plane.service.deps import Deps
from control_plane.service.handlers.references import load_snapshot, load_volume
from control_plane.service.handlers.servers import load_visible
from control_plane.service.uow import UnitOfWork
from projections.volumes import queries as volume_queries

# -- volumes and snapshots ---------------------------------------------------------------


async def create_volume(deps: Deps, cmd: c.CreateVolume, ctx: RequestContext) -> str:
    if cmd.size < 1:
        raise BadRequest(f"Invalid input received: Volume size '{cmd.size}' must be an "
                         "integer and greater than 0")
    zone = cmd.availability_zone or vol.AVAILABILITY_ZONE
    if zone != vol.AVAILABILITY_ZONE:
        raise BadRequest(f"Invalid input received: Availability zone '{zone}' is invalid.")
    vtype = vol.volume_type(cmd.volume_type)
    uow = deps.unit_of_work()
    if cmd.snapshot_id is not None:
        snapshot = await load_snapshot(uow, cmd.snapshot_id, ctx)
        if cmd.size < snapshot.size:
            raise BadRequest(f"Invalid input received: Volume size '{cmd.size}'GB cannot be "
                             f"smaller than the snapshot size {snapshot.size}GB. They must "
                             "be >= original snapshot size.")
    volume_id = uuid.uuid4()
    uow.add(Volume.create(
        volume_id, now(), project_id=ctx.project_id, user_id=ctx.user_id, size=cmd.size,
        display_name=cmd.display_name, display_description=cmd.display_description,
        volume_type=vtype["name"], availability_zone=zone, snapshot_id=cmd.snapshot_id,
        metadata=dict(cmd.metadata)))
    await uow.commit(ctx.metadata())
    return str(volume_id)


async def delete_volume(deps: Deps, cmd: c.DeleteVolume, ctx: RequestContext) -> None:
    async def work(uow: UnitOfWork) -> None:
        volume = await load_volume(uow, cmd.volume_id, ctx)
        async with deps.pool.acquire() as conn:
            snapshots = await volume_queries.snapshot_count(conn, volume.id)
        volume.delete(snapshots, now())
        await uow.commit(ctx.metadata())

    await deps.retrying(work, key=cmd.volume_id)


async def create_snapshot(deps: Deps, cmd: c.CreateVolumeSnapshot, ctx: RequestContext
                          ) -> str:
    async def work(uow: UnitOfWork) -> str:
        volume = await load_volume(uow, cmd.volume_id, ctx)
        volume.check_snapshot(cmd.force)
        snapshot_id = uuid.uuid4()
        uow.add(VolumeSnapshot.create(
            snapshot_id, now(), project_id=ctx.project_id, user_id=ctx.user_id,
            volume_id=str(volume.id), size=volume.size, display_name=cmd.display_name,
            display_description=cmd.display_description))
        await uow.commit(ctx.metadata())
        return str(snapshot_id)

    return await deps.retrying(work, key=cmd.volume_id)


async def delete_snapshot(deps: Deps, cmd: c.DeleteVolumeSnapshot, ctx: RequestContext
                          ) -> None:
    async def work(uow: UnitOfWork) -> None:
        (await load_snapshot(uow, cmd.snapshot_id, ctx)).delete(now())
        await uow.commit(ctx.metadata())

    await deps.retrying(work, key=cmd.snapshot_id)


# -- attachments -------------------------------------------------------------------------


async def attach(deps: Deps, cmd: c.AttachVolume, ctx: RequestContext) -> str:
    """Reserve a device on the server and the volume for it; returns the device."""

    async def work(uow: UnitOfWork) -> str:
        server = await load_visible(uow, cmd.server_id, ctx)
        server.check_lock(ctx.is_admin)
        server_volumes.check_attach(server)
        volume = await load_volume(uow, cmd.volume_id, ctx)
        volume.check_attachable()
        stamp = now()
        device = server_volumes.request_attach(server, str(volume.id), cmd.device,
                                               cmd.disk_bus, cmd.device_type, stamp)
        volume.reserve(cmd.server_id, device, stamp)
        await uow.commit(ctx.metadata())
        return device

    return await deps.retrying(work, key=cmd.server_id)


async def detach(deps: Deps, cmd: c.DetachVolume, ctx: RequestContext) -> None:
    async def work(uow: UnitOfWork) -> None:
        server = await load_visible(uow, cmd.server_id, ctx)
        volume = await load_volume(uow, cmd.volume_id, ctx)
        server_volumes.attached_device(server, str(volume.id))
        server.check_lock(ctx.is_admin)
        stamp = now()
        server_volumes.request_detach(server, str(volume.id), stamp)
        volume.begin_detaching(cmd.server_id, stamp)
        await uow.commit(ctx.metadata())

    await deps.retrying(work, key=cmd.server_id)


async def swap(deps: Deps, cmd: c.SwapVolume, ctx: RequestContext) -> None:
    """Nova's checks, in Nova's order: the old volume (404), the new one (400), then
    the server's lock and state, then both volumes' states."""

    async def work(uow: UnitOfWork) -> None:
        server = await load_visible(uow, cmd.server_id, ctx)
        old = await load_volume(uow, cmd.old_volume_id, ctx)
        new = await load_volume(uow, cmd.new_volume_id, ctx, missing=BadRequest)
        server.check_lock(ctx.is_admin)
        if old.server_id != cmd.server_id:
            server_volumes.attached_device(server, str(old.id))  # not ours at all: 404
            raise BadRequest("Invalid volume: Old volume is attached to a different "
                             "instance.")
        server._check("swap_volume", server_volumes.SWAP_STATES)
        if new.server_id is not None:
            raise BadRequest("Invalid volume: New volume must be detached in order to swap.")
        if new.size < old.size:
            raise BadRequest("Invalid volume: New volume must be the same size or larger.")
        stamp = now()
        old.begin_detaching(cmd.server_id, stamp)
        new.check_attachable()
        device = server_volumes.request_swap(server, str(old.id), str(new.id), stamp)
        new.reserve(cmd.server_id, device, stamp)
        await uow.commit(ctx.metadata())

    await deps.retrying(work, key=cmd.server_id)


async def finish(deps: Deps, cmd: c.FinishVolumeOperation, ctx: RequestContext) -> None:
    async def work(uow: UnitOfWork) -> None:
        server = await uow.get(Server, uuid.UUID(cmd.server_id))
        stamp = now()
        if server is None or not server_volumes.finish(
                server, cmd.operation, cmd.volume_id, cmd.new_volume_id, cmd.started_at,
                cmd.message, cmd.details, stamp):
            return  # reported before (seen again after a restart), or the server is gone
        ok = not cmd.message
        volume = await uow.get(Volume, uuid.UUID(cmd.volume_id))
        if volume is not None and cmd.operation == "attach":
            volume.finish_attach(cmd.server_id, ok, stamp)
        elif volume is not None:
            volume.finish_detach(cmd.server_id, ok, stamp)
        if cmd.operation == "swap":
            new = await uow.get(Volume, uuid.UUID(cmd.new_volume_id))
            if new is not None:
                new.finish_attach(cmd.server_id, ok, stamp)
        await uow.commit(ctx.metadata(host=cmd.host))

    await deps.retrying(work, key=cmd.server_id)


async def release(deps: Deps, cmd: c.ReleaseServerVolumes, ctx: RequestContext) -> None:
    """A deleted server's volumes (attached, or still attaching or detaching) are free."""

    async def work(uow: UnitOfWork) -> None:
        server = await uow.get(Server, uuid.UUID(cmd.server_id))
        if server is None or not server.deleted:
            return
        stamp = now()
        ids = server_volumes.release_all(server, stamp)
        if not ids:
            return
        volumes = await uow.get_many(Volume, [uuid.UUID(i) for i in ids])
        for volume in volumes.values():
            volume.release(cmd.server_id, stamp)
        await uow.commit(ctx.metadata())

    await deps.retrying(work, key=cmd.server_id)
