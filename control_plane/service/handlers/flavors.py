"""Flavor commands: manage (create, delete), extra specs, access lists."""

from __future__ import annotations

import uuid

from control_plane.api.faults import Conflict, NotFound
from control_plane.context import RequestContext, now
from control_plane.domain.flavors import commands as c
from control_plane.domain.flavors.aggregate import Flavor
from control_plane.domain.reservations.aggregate import Reservation, reservation_id
from control_plane.service.deps import Deps
from control_plane.service.uow import UnitOfWork


async def _reserve(uow: UnitOfWork, kind: str, key: str, holder: str) -> bool:
    res = await uow.get(Reservation, reservation_id(kind, key))
    if res is None:
        res = Reservation.open(kind, [key], now())
        uow.add(res)
    return res.claim(holder, now())


async def _release(uow: UnitOfWork, kind: str, key: str, holder: str) -> None:
    res = await uow.get(Reservation, reservation_id(kind, key))
    if res is not None:
        res.release(holder, now())


async def _flavor(uow: UnitOfWork, flavorid: str) -> Flavor:
    res = await uow.get(Reservation, reservation_id("flavor-id", flavorid))
    if res is None or res.holder is None:
        raise NotFound(f"Flavor {flavorid} could not be found.")
    flavor = await uow.get(Flavor, uuid.UUID(res.holder))
    if flavor is None or flavor.deleted:
        raise NotFound(f"Flavor {flavorid} could not be found.")
    return flavor


async def create_flavor(deps: Deps, cmd: c.CreateFlavor, ctx: RequestContext) -> str:
    flavorid = cmd.flavorid or str(uuid.uuid4())

    async def work(uow: UnitOfWork) -> str:
        stream = uuid.uuid4()
        if not await _reserve(uow, "flavor-id", flavorid, str(stream)):
            raise Conflict(f"Flavor with ID {flavorid} already exists.")
        if not await _reserve(uow, "flavor-name", cmd.name, str(stream)):
            raise Conflict(f"Flavor with name {cmd.name} already exists.")
        uow.add(Flavor.create(
            stream, now(), flavorid=flavorid, name=cmd.name, ram=cmd.ram, vcpus=cmd.vcpus,
            disk=cmd.disk, ephemeral=cmd.ephemeral, swap=cmd.swap,
            rxtx_factor=cmd.rxtx_factor, is_public=cmd.is_public, disabled=False,
            description=cmd.description,
        ))
        await uow.commit(ctx.metadata())
        return flavorid

    return await deps.retrying(work)


async def delete_flavor(deps: Deps, cmd: c.DeleteFlavor, ctx: RequestContext) -> None:
    async def work(uow: UnitOfWork) -> None:
        flavor = await _flavor(uow, cmd.flavorid)
        flavor.delete(now())
        await _release(uow, "flavor-id", cmd.flavorid, str(flavor.id))
        await _release(uow, "flavor-name", flavor.name, str(flavor.id))
        await uow.commit(ctx.metadata())

    await deps.retrying(work)


async def set_extra_specs(deps: Deps, cmd: c.SetFlavorExtraSpecs, ctx: RequestContext) -> None:
    async def work(uow: UnitOfWork) -> None:
        (await _flavor(uow, cmd.flavorid)).set_extra_specs(cmd.specs, now())
        await uow.commit(ctx.metadata())

    await deps.retrying(work)


async def delete_extra_spec(deps: Deps, cmd: c.DeleteFlavorExtraSpec, ctx: RequestContext
                            ) -> None:
    async def work(uow: UnitOfWork) -> None:
        (await _flavor(uow, cmd.flavorid)).delete_extra_spec(cmd.key, now())
        await uow.commit(ctx.metadata())

    await deps.retrying(work)


async def add_access(deps: Deps, cmd: c.AddFlavorAccess, ctx: RequestContext) -> None:
    async def work(uow: UnitOfWork) -> None:
        (await _flavor(uow, cmd.flavorid)).add_access(cmd.project_id, now(),
                                                      public_allowed=cmd.public_allowed)
        await uow.commit(ctx.metadata())

    await deps.retrying(work)


async def remove_access(deps: Deps, cmd: c.RemoveFlavorAccess, ctx: RequestContext) -> None:
    async def work(uow: UnitOfWork) -> None:
        (await _flavor(uow, cmd.flavorid)).remove_access(cmd.project_id, now())
        await uow.commit(ctx.metadata())

    await deps.retrying(work)
