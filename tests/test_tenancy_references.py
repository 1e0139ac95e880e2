"""No cross-project references: images, volumes, snapshots, ports and networks named in a
request are looked up as the caller (control_plane.service.handlers.references); another
project's answer exactly as one that does not exist."""

from __future__ import annotations

import uuid
from typing import Any

from control_plane.bootstrap import System
from control_plane.context import RequestContext
from control_plane.domain.images import commands as c
from control_plane.domain.networks.aggregate import DEFAULT_NETWORK_ID
from tests.conftest import IMAGE, Api, assert_error

SYSTEM = RequestContext(user_id="system", project_id="admin", roles=("admin",))
NET = str(DEFAULT_NETWORK_ID)
NOT_FOUND = "Can not find requested image"


async def _image(system: System, owner: str, visibility: str) -> str:
    image_id = str(uuid.uuid4())
    await system.bus.handle(c.RegisterImage(image_id=image_id, name=f"{owner}-{visibility}",
                                            owner=owner, visibility=visibility), SYSTEM)
    return image_id


def _create(api: Api, image: str = IMAGE, **extra: Any) -> Any:
    return api.post("/servers", {"server": {"name": "t", "flavorRef": "1", "imageRef": image,
                                            **extra}})


async def test_boot_from_another_projects_private_image(system: System, api: Api,
                                                        other: Api, admin: Api) -> None:
    private = await _image(system, "project-b", "private")
    shared = await _image(system, "project-b", "shared")
    assert (await api.get(f"/images/{private}")).status_code == 404
    for image in (private, shared):
        assert_error(await _create(api, image), 400, "badRequest", NOT_FOUND)
        # nor as the boot volume's source
        r = await api.post("/servers", {"server": {
            "name": "t", "flavorRef": "1", "block_device_mapping_v2": [
                {"source_type": "image", "uuid": image, "boot_index": 0,
                 "destination_type": "local"}]}})
        assert_error(r, 400, "badRequest", NOT_FOUND)
        # nor as another mapping beside a visible boot image
        r = await _create(api, block_device_mapping_v2=[
            {"source_type": "image", "uuid": image, "boot_index": 1,
             "destination_type": "volume", "volume_size": 1}])
        assert_error(r, 400, "badRequest", NOT_FOUND)
    assert (await api.get("/servers")).json()["servers"] == []
    # the owner, an admin, and anyone for public and community images
    assert (await _create(other, private)).status_code == 202
    assert (await _create(other, shared)).status_code == 202
    assert (await _create(admin, private)).status_code == 202
    for visibility in ("public", "community"):
        assert (await _create(api, await _image(system, "project-b", visibility))
                ).status_code == 202


async def test_rebuild_and_rescue_with_another_projects_image(system: System,
                                                              api: Api) -> None:
    private = await _image(system, "project-b", "private")
    sid = (await api.create_server("r"))["id"]
    await api.wait_status(sid, "ACTIVE")
    r = await api.post(f"/servers/{sid}/action", {"rebuild": {"imageRef": private}})
    assert_error(r, 400, "badRequest", "Cannot find image for rebuild")
    r = await api.post(f"/servers/{sid}/action", {"rescue": {"rescue_image_ref": private}})
    assert_error(r, 400, "badRequest", f"Image {private} could not be found.")
    mine = await _image(system, "project-a", "private")
    assert (await api.post(f"/servers/{sid}/action", {"rebuild": {"imageRef": mine}})
            ).status_code == 202
    body = await api.wait_status(sid, "ACTIVE")
    assert body["image"]["id"] == mine


async def test_rebuild_of_a_server_not_visible_is_404_first(system: System, api: Api,
                                                           other: Api) -> None:
    sid = (await api.create_server("r"))["id"]
    r = await other.post(f"/servers/{sid}/action",
                         {"rebuild": {"imageRef": str(uuid.uuid4())}})
    assert_error(r, 404, "itemNotFound", f"Instance {sid} could not be found.")


async def _volume(api: Api) -> str:
    r = await api.post("/os-volumes", {"volume": {"size": 1}})
    assert r.status_code == 200, r.text
    vid: str = r.json()["volume"]["id"]
    return vid


async def test_boot_with_another_projects_volume_or_snapshot(system: System, api: Api,
                                                             other: Api) -> None:
    theirs = await _volume(other)
    r = await other.post("/os-snapshots", {"snapshot": {"volume_id": theirs}})
    snap = r.json()["snapshot"]["id"]
    r = await _create(api, block_device_mapping_v2=[
        {"source_type": "volume", "uuid": theirs, "destination_type": "volume",
         "boot_index": 1}])
    assert_error(r, 400, "badRequest", f"Volume {theirs} could not be found.")
    r = await _create(api, block_device_mapping_v2=[
        {"source_type": "snapshot", "uuid": snap, "destination_type": "volume",
         "boot_index": 1}])
    assert_error(r, 400, "badRequest",
                 f"Block Device Mapping is Invalid: failed to get snapshot {snap}.")
    # nor a volume made from their snapshot
    r = await api.post("/os-volumes", {"volume": {"size": 1, "snapshot_id": snap}})
    assert_error(r, 404, "itemNotFound", f"Snapshot {snap} could not be found.")
    mine = await _volume(api)
    r = await _create(api, block_device_mapping_v2=[
        {"source_type": "volume", "uuid": mine, "destination_type": "volume",
         "boot_index": 1}])
    assert r.status_code == 202, r.text


async def _port(api: Api, sid: str) -> str:
    r = await api.get(f"/servers/{sid}/os-interface")
    port: str = r.json()["interfaceAttachments"][0]["port_id"]
    return port


async def test_ports_and_networks_of_a_create(system: System, api: Api, other: Api) -> None:
    theirs = (await other.create_server("theirs"))["id"]
    await other.wait_status(theirs, "ACTIVE")
    their_port = await _port(other, theirs)
    unknown = str(uuid.uuid4())
    r = await _create(api, networks=[{"port": their_port}])
    assert_error(r, 400, "badRequest", f"Port id {their_port} could not be found.")
    r = await _create(api, networks=[{"port": unknown}])
    assert_error(r, 400, "badRequest", f"Port id {unknown} could not be found.")
    r = await _create(api, networks=[{"uuid": unknown}])
    assert_error(r, 400, "badRequest", f"Network {unknown} could not be found.")
    # the caller's own port is bound to its server already
    mine = (await api.create_server("mine"))["id"]
    await api.wait_status(mine, "ACTIVE")
    my_port = await _port(api, mine)
    r = await _create(api, networks=[{"port": my_port}])
    assert_error(r, 409, "conflictingRequest", f"Port {my_port} is still in use.")
    assert (await _create(api, networks=[{"uuid": NET}])).status_code == 202


async def test_interface_attach_with_another_projects_port(system: System, api: Api,
                                                           other: Api) -> None:
    theirs = (await other.create_server("theirs"))["id"]
    mine = (await api.create_server("mine"))["id"]
    await other.wait_status(theirs, "ACTIVE")
    await api.wait_status(mine, "ACTIVE")
    their_port = await _port(other, theirs)
    r = await api.post(f"/servers/{mine}/os-interface",
                       {"interfaceAttachment": {"port_id": their_port}})
    assert_error(r, 404, "itemNotFound", f"Port id {their_port} could not be found.")

