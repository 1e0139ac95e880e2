"""/images over HTTP: the image proxy's list/detail/show, filters, paging, metadata, delete."""

from __future__ import annotations

import re
import uuid
from typing import Any

from control_plane.bootstrap import System
from control_plane.context import SYSTEM
from control_plane.domain.images import commands as c
from tests.conftest import IMAGE, IMAGE_ALT, Api, assert_error

DEBIAN = "a2459075-d96c-40d5-893e-577ff92e721c"
NEWEST_FIRST = [DEBIAN, IMAGE_ALT, IMAGE]
DETAIL_KEYS = {"id", "name", "minRam", "minDisk", "metadata", "created", "updated", "status",
               "progress", "links", "OS-EXT-IMG-SIZE:size"}
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def ids(body: dict[str, Any]) -> list[str]:
    return [i["id"] for i in body["images"]]




async def register(system: System, owner: str, visibility: str = "private",
                   metadata: dict[str, str] | None = None, **extra: Any) -> str:
    image_id = str(uuid.uuid4())
    await system.bus.handle(c.RegisterImage(
        image_id=image_id, name=extra.pop("name", f"img-{owner}"), owner=owner,
        visibility=visibility, metadata=metadata or {}, **extra), SYSTEM)
    return image_id


# -- list, detail, show -------------------------------------------------------------------------


async def test_brief_list(api: Api) -> None:
    r = await api.get("/images")
    assert r.status_code == 200
    body = r.json()
    assert list(body) == ["images"]
    assert ids(body) == NEWEST_FIRST
    for image in body["images"]:
        assert set(image) == {"id", "name", "links"}
        assert len(image["links"]) == 3
    assert body["images"][2]["name"] == "cirros-0.6.2-x86_64-disk"


async def test_show_fields(api: Api) -> None:
    r = await api.get(f"/images/{IMAGE}")
    assert r.status_code == 200
    image = r.json()["image"]
    assert set(image) == DETAIL_KEYS
    assert image["id"] == IMAGE and image["name"] == "cirros-0.6.2-x86_64-disk"
    assert image["status"] == "ACTIVE" and image["progress"] == 100
    assert image["minRam"] == 0 and image["minDisk"] == 0
    assert image["OS-EXT-IMG-SIZE:size"] == 21430272
    assert isinstance(image["OS-EXT-IMG-SIZE:size"], int)
    assert image["metadata"] == {"architecture": "x86_64", "os_distro": "cirros",
                                 "hw_disk_bus": "virtio"}
    assert ISO.fullmatch(image["created"]) and ISO.fullmatch(image["updated"])
    self_link, bookmark, alternate = image["links"]
    assert self_link == {"rel": "self", "href": f"http://testserver/v2.1/images/{IMAGE}"}
    assert bookmark == {"rel": "bookmark", "href": f"http://testserver/images/{IMAGE}"}
    assert set(alternate) == {"rel", "type", "href"}
    assert alternate["rel"] == "alternate"
    assert alternate["type"] == "application/vnd.openstack.image"
    # <glance endpoint>/images/<id>: no API version in the path
    assert re.fullmatch(rf"https?://[^/]+/images/{IMAGE}", alternate["href"])


async def test_detail_matches_show(api: Api) -> None:
    r = await api.get("/images/detail")
    assert r.status_code == 200
    images = r.json()["images"]
    assert [i["id"] for i in images] == NEWEST_FIRST
    for image in images:
        assert set(image) == DETAIL_KEYS
        assert image == (await api.get(f"/images/{image['id']}")).json()["image"]
    debian = images[0]
    assert (debian["minRam"], debian["minDisk"]) == (256, 2)
    assert debian["OS-EXT-IMG-SIZE:size"] == 335544320


async def test_unknown_image_404(api: Api) -> None:
    for image_id in (str(uuid.uuid4()), "not-a-uuid"):
        assert_error(await api.get(f"/images/{image_id}"), 404, "itemNotFound",
                     "Image not found.")
        assert_error(await api.delete(f"/images/{image_id}"), 404, "itemNotFound",
                     "Image not found.")
        assert_error(await api.get(f"/images/{image_id}/metadata"), 404, "itemNotFound",
                     "Image not found.")


# -- filters and paging -------------------------------------------------------------------------


async def test_filters(api: Api) -> None:
    r = await api.get("/images", params={"name": "debian-12-genericcloud-amd64"})
    assert ids(r.json()) == [DEBIAN]
    r = await api.get("/images/detail", params={"name": "debian"})  # exact match only
    assert r.json() == {"images": []}
    r = await api.get("/images", params={"status": "ACTIVE"})
    assert ids(r.json()) == NEWEST_FIRST
    r = await api.get("/images", params={"status": "active"})
    assert ids(r.json()) == NEWEST_FIRST
    r = await api.get("/images", params={"status": "SAVING"})
    assert r.json() == {"images": []}
    r = await api.get("/images/detail", params={"minRam": "128"})
    assert ids(r.json()) == [DEBIAN]
    r = await api.get("/images", params={"minDisk": "3"})
    assert r.json() == {"images": []}
    r = await api.get("/images", params={"minRam": "0", "name": "cirros-0.6.2-x86_64-disk"})
    assert ids(r.json()) == [IMAGE]
    r = await api.get("/images", params={"colour": "blue"})  # unknown filters are ignored
    assert ids(r.json()) == NEWEST_FIRST


async def test_limit_and_marker(api: Api) -> None:
    r = await api.get("/images", params={"limit": "2"})
    body = r.json()
    assert ids(body) == NEWEST_FIRST[:2]
    assert body["images_links"] == [{
        "rel": "next",
        "href": f"http://testserver/v2.1/images?limit=2&marker={IMAGE_ALT}"}]
    r = await api.get("/images", params={"limit": "2", "marker": IMAGE_ALT})
    assert ids(r.json()) == [IMAGE]
    assert "images_links" not in r.json()
    r = await api.get("/images/detail", params={"limit": "1", "marker": DEBIAN})
    body = r.json()
    assert ids(body) == [IMAGE_ALT]
    assert body["images_links"][0]["href"] == \
        f"http://testserver/v2.1/images/detail?limit=1&marker={IMAGE_ALT}"
    r = await api.get("/images", params={"marker": str(uuid.uuid4())})
    assert_error(r, 400, "badRequest")
    for bad in ("x", "-1"):
        assert_error(await api.get("/images", params={"limit": bad}), 400, "badRequest")


# -- visibility ---------------------------------------------------------------------------------


async def test_private_image_visible_to_owner_only(api: Api, other: Api, admin: Api,
                                                  system: System) -> None:
    mine = await register(system, "project-a", name="alices-snapshot")
    assert mine in ids((await api.get("/images")).json())
    assert (await api.get(f"/images/{mine}")).json()["image"]["name"] == "alices-snapshot"
    assert mine not in ids((await other.get("/images/detail")).json())
    assert_error(await other.get(f"/images/{mine}"), 404, "itemNotFound", "Image not found.")
    assert_error(await other.get(f"/images/{mine}/metadata"), 404, "itemNotFound")
    assert_error(await other.delete(f"/images/{mine}"), 404, "itemNotFound")
    assert (await admin.get(f"/images/{mine}")).status_code == 200


# -- metadata -----------------------------------------------------------------------------------


async def test_metadata_index_and_show(api: Api) -> None:
    r = await api.get(f"/images/{IMAGE}/metadata")
    assert r.status_code == 200
    assert r.json() == {"metadata": {"architecture": "x86_64", "os_distro": "cirros",
                                     "hw_disk_bus": "virtio"}}
    r = await api.get(f"/images/{IMAGE}/metadata/os_distro")
    assert r.status_code == 200 and r.json() == {"meta": {"os_distro": "cirros"}}
    r = await api.get(f"/images/{IMAGE}/metadata/missing")
    assert_error(r, 404, "itemNotFound", "The resource could not be found.")


async def test_metadata_update_merges(admin: Api, api: Api) -> None:
    r = await admin.post(f"/images/{IMAGE}/metadata",
                         {"metadata": {"os_distro": "cirros2", "Label": "UpdatedImage"}})
    assert r.status_code == 200
    expected = {"architecture": "x86_64", "os_distro": "cirros2", "hw_disk_bus": "virtio",
                "Label": "UpdatedImage"}
    assert r.json() == {"metadata": expected}
    assert (await api.get(f"/images/{IMAGE}/metadata")).json() == {"metadata": expected}
    assert (await api.get(f"/images/{IMAGE}")).json()["image"]["metadata"] == expected


async def test_metadata_replace(admin: Api, api: Api) -> None:
    r = await admin.put(f"/images/{IMAGE}/metadata",
                        {"metadata": {"auto_disk_config": "True", "Label": "Changed"}})
    assert r.status_code == 200
    assert r.json() == {"metadata": {"auto_disk_config": "True", "Label": "Changed"}}
    assert (await api.get(f"/images/{IMAGE}/metadata")).json() == \
        {"metadata": {"auto_disk_config": "True", "Label": "Changed"}}
    r = await admin.put(f"/images/{IMAGE}/metadata", {"metadata": {}})
    assert r.status_code == 200 and r.json() == {"metadata": {}}
    assert (await api.get(f"/images/{IMAGE}/metadata")).json() == {"metadata": {}}


async def test_metadata_set_and_delete_item(admin: Api, api: Api) -> None:
    r = await admin.put(f"/images/{IMAGE}/metadata/os_distro", {"meta": {"os_distro": "alpine"}})
    assert r.status_code == 200 and r.json() == {"meta": {"os_distro": "alpine"}}
    r = await admin.put(f"/images/{IMAGE}/metadata/new key", {"meta": {"new key": "v"}})
    assert r.status_code == 200
    assert (await api.get(f"/images/{IMAGE}/metadata")).json()["metadata"] == {
        "architecture": "x86_64", "os_distro": "alpine", "hw_disk_bus": "virtio",
        "new key": "v"}
    r = await admin.delete(f"/images/{IMAGE}/metadata/hw_disk_bus")
    assert r.status_code == 204 and r.content == b""
    assert_error(await api.get(f"/images/{IMAGE}/metadata/hw_disk_bus"), 404, "itemNotFound")
    r = await admin.delete(f"/images/{IMAGE}/metadata/hw_disk_bus")
    assert_error(r, 404, "itemNotFound", "Invalid metadata key")


async def test_metadata_bad_bodies_400(admin: Api) -> None:
    bodies: list[Any] = [
        {}, {"metadata": "x"}, {"metadata": {"k": 1}}, {"metadata": {"k": None}},
        {"metadata": {"bad/key": "v"}}, {"metadata": {"k": "v" * 256}},
        {"metadata": {}, "extra": 1}, {"meta": {"k": "v"}},
    ]
    for body in bodies:
        assert_error(await admin.post(f"/images/{IMAGE}/metadata", body), 400, "badRequest")
        assert_error(await admin.put(f"/images/{IMAGE}/metadata", body), 400, "badRequest")
    item_bodies: list[Any] = [
        {}, {"meta": {}}, {"meta": {"k": 1}}, {"meta": "v"},
        {"meta": {"k": "v", "j": "w"}}, {"metadata": {"k": "v"}},
    ]
    for body in item_bodies:
        assert_error(await admin.put(f"/images/{IMAGE}/metadata/k", body), 400, "badRequest")
    r = await admin.put(f"/images/{IMAGE}/metadata/k", {"meta": {"j": "v"}})
    assert_error(r, 400, "badRequest", "Request body and URI mismatch")
    r = await admin.post(f"/images/{IMAGE}/metadata", content=b"{not json",
                         headers={"Content-Type": "application/json"})
    assert_error(r, 400, "badRequest", "Malformed request body")
    # nothing changed
    assert len((await admin.get(f"/images/{IMAGE}/metadata")).json()["metadata"]) == 3


async def test_metadata_unknown_image_404(admin: Api) -> None:
    missing = str(uuid.uuid4())
    cases = [("POST", f"/images/{missing}/metadata", {"metadata": {"a": "b"}}),
             ("PUT", f"/images/{missing}/metadata", {"metadata": {"a": "b"}}),
             ("GET", f"/images/{missing}/metadata/a", None),
             ("PUT", f"/images/{missing}/metadata/a", {"meta": {"a": "b"}}),
             ("DELETE", f"/images/{missing}/metadata/a", None)]
    for method, path, body in cases:
        r = await admin.request(method, path, json=body)
        assert_error(r, 404, "itemNotFound", "Image not found.")


async def test_metadata_quota_403(admin: Api, system: System) -> None:
    system.settings.quotas["metadata_items"] = 4
    # merge: 3 existing + 1 new fits, + 2 new does not
    r = await admin.post(f"/images/{IMAGE}/metadata", {"metadata": {"a": "1", "b": "2"}})
    assert_error(r, 403, "forbidden", "Image metadata limit exceeded")
    r = await admin.post(f"/images/{IMAGE}/metadata", {"metadata": {"a": "1"}})
    assert r.status_code == 200
    r = await admin.put(f"/images/{IMAGE}/metadata/b", {"meta": {"b": "2"}})
    assert_error(r, 403, "forbidden", "Image metadata limit exceeded")
    # replacing an existing key does not add one
    r = await admin.put(f"/images/{IMAGE}/metadata/a", {"meta": {"a": "9"}})
    assert r.status_code == 200
    # replace counts only the new set
    r = await admin.put(f"/images/{IMAGE}/metadata",
                        {"metadata": {str(i): "v" for i in range(5)}})
    assert_error(r, 403, "forbidden", "Image metadata limit exceeded")
    r = await admin.put(f"/images/{IMAGE}/metadata",
                        {"metadata": {str(i): "v" for i in range(4)}})
    assert r.status_code == 200
    assert len((await admin.get(f"/images/{IMAGE}/metadata")).json()["metadata"]) == 4


async def test_metadata_writes_need_ownership(api: Api, system: System) -> None:
    denied = f"Not authorized for image {IMAGE}."
    r = await api.post(f"/images/{IMAGE}/metadata", {"metadata": {"a": "b"}})
    assert_error(r, 403, "forbidden", denied)
    r = await api.put(f"/images/{IMAGE}/metadata", {"metadata": {}})
    assert_error(r, 403, "forbidden", denied)
    r = await api.put(f"/images/{IMAGE}/metadata/a", {"meta": {"a": "b"}})
    assert_error(r, 403, "forbidden", denied)
    r = await api.delete(f"/images/{IMAGE}/metadata/os_distro")
    assert_error(r, 403, "forbidden", denied)
    # the owner may change its own image
    mine = await register(system, "project-a", metadata={"k": "v"})
    r = await api.post(f"/images/{mine}/metadata", {"metadata": {"a": "b"}})
    assert r.status_code == 200 and r.json() == {"metadata": {"k": "v", "a": "b"}}
    assert (await api.delete(f"/images/{mine}/metadata/k")).status_code == 204


# -- delete -------------------------------------------------------------------------------------


async def test_delete_204_then_404(api: Api, other: Api, system: System) -> None:
    mine = await register(system, "project-a", visibility="public")
    r = await other.delete(f"/images/{mine}")
    assert_error(r, 403, "forbidden", "You are not allowed to delete the image.")
    r = await api.delete(f"/images/{mine}")
    assert r.status_code == 204 and r.content == b""
    assert_error(await api.get(f"/images/{mine}"), 404, "itemNotFound", "Image not found.")
    assert_error(await api.delete(f"/images/{mine}"), 404, "itemNotFound", "Image not found.")
    assert mine not in ids((await api.get("/images")).json())


async def test_delete_public_image(api: Api, admin: Api) -> None:
    r = await api.delete(f"/images/{IMAGE_ALT}")
    assert_error(r, 403, "forbidden", "You are not allowed to delete the image.")
    r = await admin.delete(f"/images/{IMAGE_ALT}")
    assert r.status_code == 204
    assert ids((await api.get("/images")).json()) == [DEBIAN, IMAGE]
