"""What a request names must be visible to the caller's project.

Images, volumes, snapshots, ports and networks named in a request (server create
and its block device mappings, rebuild, rescue, volume attach and swap, interface
attach, volume create from a snapshot) are looked up as the caller: one that
exists but belongs to another project answers exactly as one that does not exist,
with the fault Nova gives for that request. An admin sees everything.

Image visibility follows the image API's show (control_plane.api.image.resources): public
and community images are everyone's, a private or shared image its owner's (image
members are not modelled, so a shared image is visible to its owner only).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import asyncpg

from control_plane.api.faults import BadRequest, Conflict, NotFound
from control_plane.context import RequestContext
from control_plane.domain import errors
from control_plane.domain.networks.aggregate import DEFAULT_NETWORK_ID, Network
from control_plane.domain.servers.aggregate import Server
from control_plane.domain.volumes.aggregate import Volume, VolumeSnapshot
from control_plane.service.uow import UnitOfWork
from projections.images import queries as image_queries

# Nova's answer to a create naming an image it cannot get (ImageNotFound)
IMAGE_NOT_FOUND = "Can not find requested image"


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


async def visible_image(conn: asyncpg.Connection, image_id: uuid.UUID, ctx: RequestContext
                        ) -> asyncpg.Record | None:
    return await image_queries.glance_visible(
        conn, image_id, None if ctx.is_admin else ctx.project_id)


async def check_image(conn: asyncpg.Connection, image_ref: str, flavor: dict[str, Any],
                      ctx: RequestContext, missing: str = IMAGE_NOT_FOUND) -> str:
    """The id of an active image the caller may see and the flavor can hold (400s)."""
    ref = image_ref.rstrip("/").rsplit("/", 1)[-1]
    image_id = _uuid(ref)
    if image_id is None:
        raise BadRequest("Invalid imageRef provided.")
    row = await visible_image(conn, image_id, ctx)
    if row is None:
        raise BadRequest(missing.format(id=ref))
    if row["status"] != "active":
        raise BadRequest(f"Image {ref} is not active.")
    if flavor["ram"] < row["min_ram"]:
        raise BadRequest("Flavor's memory is too small for requested image.")
    if flavor["disk"] and flavor["disk"] < row["min_disk"]:
        raise BadRequest("Flavor's disk is too small for requested image.")
    return ref


def _mine(ctx: RequestContext, project_id: str) -> bool:
    return ctx.is_admin or project_id == ctx.project_id


async def load_volume(uow: UnitOfWork, volume_id: str, ctx: RequestContext,
                      missing: type[BadRequest] | type[NotFound] = NotFound) -> Volume:
    """The volume, if the caller may see it (its project's, or any for an admin)."""
    vid = _uuid(volume_id)
    volume = await uow.get(Volume, vid) if vid else None
    if volume is None or volume.deleted or not _mine(ctx, volume.project_id):
        raise missing(f"Volume {volume_id} could not be found.")
    return volume


async def load_snapshot(uow: UnitOfWork, snapshot_id: str, ctx: RequestContext
                        ) -> VolumeSnapshot:
    sid = _uuid(snapshot_id)
    snapshot = await uow.get(VolumeSnapshot, sid) if sid else None
    if snapshot is None or snapshot.deleted or not _mine(ctx, snapshot.project_id):
        raise NotFound(f"Snapshot {snapshot_id} could not be found.")
    return snapshot


async def check_port(uow: UnitOfWork, port_id: str, ctx: RequestContext,
                     missing: type[BadRequest] | type[NotFound]) -> None:
    """A port named to be used by a server: another project's port is not found (as
    Neutron hides it); one of the caller's is bound to its server already (409)."""
    net = await uow.get(Network, DEFAULT_NETWORK_ID)
    port = net.ports.get(port_id) if net is not None else None
    server = await uow.get(Server, uuid.UUID(port["server_id"])) if port else None
    if port is None or server is None or not _mine(ctx, server.project_id):
        raise missing(f"Port id {port_id} could not be found.")
    raise Conflict(f"Port {port_id} is still in use.")  # every port is bound


async def check_block_devices(uow: UnitOfWork, mappings: Iterable[dict[str, Any]],
                              ctx: RequestContext) -> None:
    """Every image, volume and snapshot a create's block device mappings name (400s,
    with Nova's messages: ImageNotFound, VolumeNotFound, InvalidBDMSnapshot)."""
    for bdm in mappings:
        source, ref = bdm.get("source_type"), str(bdm.get("uuid") or "")
        if source == "image":
            image_id = _uuid(ref)
            row = None
            if image_id is not None:
                async with uow.store.pool.acquire() as conn:
                    row = await visible_image(conn, image_id, ctx)
            if row is None:
                raise BadRequest(IMAGE_NOT_FOUND)
        elif source == "volume":
            await load_volume(uow, ref, ctx, missing=BadRequest)
        elif source == "snapshot":
            try:
                await load_snapshot(uow, ref, ctx)
            except (NotFound, errors.NotFound):
                raise BadRequest(f"Block Device Mapping is Invalid: failed to get snapshot "
                                 f"{ref}.") from None


async def check_requested_networks(uow: UnitOfWork, networks: Any, ctx: RequestContext
                                   ) -> None:
    """A create's ``networks``: each network must exist (the default network is shared
    by every project), each port must be the caller's and free (400 / 409 as Nova)."""
    if not isinstance(networks, list):
        return  # "auto" / "none" (later microversions)
    for item in networks:
        if item.get("port"):
            await check_port(uow, str(item["port"]), ctx, BadRequest)
        elif item.get("uuid") and _uuid(item["uuid"]) != DEFAULT_NETWORK_ID:
            raise BadRequest(f"Network {item['uuid']} could not be found.")
