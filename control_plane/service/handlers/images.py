"""Image catalog commands: register, metadata, delete."""

from __future__ import annotations

import uuid

from control_plane.api.faults import NotFound, QuotaExceeded
from control_plane.context import RequestContext, now
from control_plane.domain.images import commands as c
from control_plane.domain.images.aggregate import Image
from control_plane.service.deps import Deps
from control_plane.service.uow import UnitOfWork


async def register_image(deps: Deps, cmd: c.RegisterImage, ctx: RequestContext) -> bool:
    """Register an image; False if one with that id already exists (idempotent seeding)."""

    async def work(uow: UnitOfWork) -> bool:
        image_id = uuid.UUID(cmd.image_id)
        if await uow.get(Image, image_id) is not None:
            return False
        uow.add(Image.register_image(
            image_id, now(), name=cmd.name, status=cmd.status, disk_format=cmd.disk_format,
            container_format=cmd.container_format, size=cmd.size, min_ram=cmd.min_ram,
            min_disk=cmd.min_disk, visibility=cmd.visibility, owner=cmd.owner,
            metadata=dict(cmd.metadata), server_id=cmd.server_id,
        ))
        await uow.commit(ctx.metadata())
        return True

    return await deps.retrying(work)


async def _image(uow: UnitOfWork, image_id: str) -> Image:
    try:
        iid = uuid.UUID(image_id)
    except ValueError:
        raise NotFound("Image not found.") from None
    image = await uow.get(Image, iid)
    if image is None or image.deleted:
        raise NotFound("Image not found.")
    return image


async def set_metadata(deps: Deps, cmd: c.SetImageMetadata, ctx: RequestContext
                       ) -> dict[str, str]:
    async def work(uow: UnitOfWork) -> dict[str, str]:
        image = await _image(uow, cmd.image_id)
        merged = dict(cmd.metadata) if cmd.replace else {**image.metadata, **cmd.metadata}
        limit = deps.settings.quotas["metadata_items"]
        if 0 <= limit < len(merged):
            raise QuotaExceeded("Image metadata limit exceeded")
        image.set_metadata(dict(cmd.metadata), cmd.replace, now())
        await uow.commit(ctx.metadata())
        return dict(image.metadata)

    return await deps.retrying(work)


async def delete_metadata_item(deps: Deps, cmd: c.DeleteImageMetadataItem,
                               ctx: RequestContext) -> None:
    async def work(uow: UnitOfWork) -> None:
        (await _image(uow, cmd.image_id)).delete_metadata_item(cmd.key, now())
        await uow.commit(ctx.metadata())

    await deps.retrying(work)


async def delete_image(deps: Deps, cmd: c.DeleteImage, ctx: RequestContext) -> None:
    async def work(uow: UnitOfWork) -> None:
        (await _image(uow, cmd.image_id)).delete(now())
        await uow.commit(ctx.metadata())

    await deps.retrying(work)
