"""Volumes over HTTP with the fake driver: os-volumes, os-volume-types, os-snapshots,
os-volume_attachments (attach, detach, swap), the reference's attach action, and what a
server shows and does about its volumes."""

from __future__ import annotations

import asyncio
from typing import Any

from control_plane.bootstrap import System
from drivers.fake import FakeDriver
from tests.conftest import Api, assert_error
from tests.test_projections import _dump

UNKNOWN = "0d7c6b1e-1f2a-4b3c-8d4e-5f6a7b8c9d0e"


async def _volume(api: Api, size: int = 1, **extra: Any) -> dict[str, Any]:
    r = await api.post("/os-volumes", {"volume": {"size": size, **extra}})
    assert r.status_code == 200, r.text
    volume: dict[str, Any] = r.json()["volume"]
    return volume


async def _active(api: Api, name: str = "with-volumes") -> str:
    server = await api.create_server(name)
    await api.wait_status(server["id"], "ACTIVE")
    sid: str = server["id"]
    return sid


async def _wait_volume(api: Api, vid: str, status: str) -> dict[str, Any]:
    for _ in range(500):
        r = await api.get(f"/os-volumes/{vid}")
        assert r.status_code == 200, r.text
        volume: dict[str, Any] = r.json()["volume"]
        if volume["status"] == status:
            return volume
        await asyncio.sleep(0.02)
    raise AssertionError(f"volume {vid} never became {status}: {volume}")


async def _attach(api: Api, sid: str, vid: str, device: str | None = None
                  ) -> dict[str, Any]:
    body: dict[str, Any] = {"volumeId": vid}
    if device:
        body["device"] = device
    r = await api.post(f"/servers/{sid}/os-volume_attachments", {"volumeAttachment": body})
    assert r.status_code == 200, r.text
    attachment: dict[str, Any] = r.json()["volumeAttachment"]
    return attachment


async def _actions(api: Api, admin: Api, sid: str) -> list[tuple[str, list[Any]]]:
    """(action, [(event, result)]) of the server's instance actions, newest first."""
    listed = (await api.get(f"/servers/{sid}/os-instance-actions")).json()["instanceActions"]
    out = []
    for action in listed:
        detail = (await admin.get(f"/servers/{sid}/os-instance-actions/"
                                  f"{action['request_id']}")).json()["instanceAction"]
        out.append((action["action"],
                    [(e["event"], e["result"]) for e in detail.get("events", [])]))
    return out


async def test_create_list_show_delete_volume(api: Api) -> None:
    r = await api.post("/os-volumes", {"volume": {
        "size": "2", "display_name": "data", "display_description": "my data",
        "metadata": {"purpose": "test"}}})
    assert r.status_code == 200, r.text
    volume = r.json()["volume"]
    vid = volume["id"]
    assert r.headers["Location"].endswith(f"/os-volumes/{vid}")
    assert volume == {
        "id": vid, "status": "available", "size": 2, "availabilityZone": "nova",
        "createdAt": volume["createdAt"], "attachments": [{}], "displayName": "data",
        "displayDescription": "my data", "volumeType": "__DEFAULT__", "snapshotId": None,
        "metadata": {"purpose": "test"}}
    assert "T" in volume["createdAt"] and not volume["createdAt"].endswith("Z")
    other = await _volume(api)
    for path in ("/os-volumes", "/os-volumes/detail"):
        listed = (await api.get(path)).json()["volumes"]
        assert [v["id"] for v in listed] == [other["id"], vid]
    assert [v["id"] for v in (await api.get("/os-volumes?limit=1&offset=1")).json()[
        "volumes"]] == [vid]
    assert (await api.get(f"/os-volumes/{vid}")).json()["volume"] == volume
    r = await api.delete(f"/os-volumes/{vid}")
    assert r.status_code == 202 and r.content == b""
    assert_error(await api.get(f"/os-volumes/{vid}"), 404, "itemNotFound",
                 f"Volume {vid} could not be found.")
    assert_error(await api.delete(f"/os-volumes/{vid}"), 404, "itemNotFound")
    assert [v["id"] for v in (await api.get("/os-volumes")).json()["volumes"]] == [other["id"]]


async def test_volume_create_is_validated(api: Api) -> None:
    r = await api.post("/os-volumes", {"volume": {"size": 0}})
    assert_error(r, 400, "badRequest")
    # minimum applies to a numeric string too (as Nova's validator): the schema refuses it
    r = await api.post("/os-volumes", {"volume": {"size": "0"}})
    assert_error(r, 400, "badRequest", "Invalid input for field/attribute size. Value: 0. "
                                      "0 is less than the minimum of 1")
    assert_error(await api.post("/os-volumes", {"volume": {}}), 400, "badRequest")
    assert_error(await api.post("/os-volumes", {"volume": {"size": 1, "bogus": 1}}), 400,
                 "badRequest")
    r = await api.post("/os-volumes", {"volume": {"size": 1, "availability_zone": "mars"}})
    assert_error(r, 400, "badRequest",
                 "Invalid input received: Availability zone 'mars' is invalid.")
    r = await api.post("/os-volumes", {"volume": {"size": 1, "volume_type": "gold"}})
    assert_error(r, 404, "itemNotFound", "Volume type gold could not be found.")
    r = await api.post("/os-volumes", {"volume": {"size": 1, "snapshot_id": UNKNOWN}})
    assert_error(r, 404, "itemNotFound", f"Snapshot {UNKNOWN} could not be found.")


async def test_volume_types(api: Api) -> None:
    types = (await api.get("/os-volume-types")).json()["volume_types"]
    assert [t["name"] for t in types] == ["__DEFAULT__"]
    (default,) = types
    assert default["extra_specs"] == {}
    for ref in (default["id"], "__DEFAULT__"):
        r = await api.get(f"/os-volume-types/{ref}")
        assert r.status_code == 200 and r.json() == {"volume_type": default}
    assert_error(await api.get("/os-volume-types/gold"), 404, "itemNotFound",
                 "Volume type gold could not be found.")
    volume = await _volume(api, volume_type=default["id"])
    assert volume["volumeType"] == "__DEFAULT__"


async def test_snapshots(api: Api) -> None:
    volume = await _volume(api, size=3)
    r = await api.post("/os-snapshots", {"snapshot": {
        "volume_id": volume["id"], "display_name": "snap", "display_description": "d"}})
    assert r.status_code == 200, r.text
    snap = r.json()["snapshot"]
    assert snap == {"id": snap["id"], "volumeId": volume["id"], "status": "available",
                    "size": 3, "createdAt": snap["createdAt"], "displayName": "snap",
                    "displayDescription": "d"}
    for path in ("/os-snapshots", "/os-snapshots/detail"):
        assert (await api.get(path)).json()["snapshots"] == [snap]
    assert (await api.get(f"/os-snapshots/{snap['id']}")).json()["snapshot"] == snap
    # a volume from the snapshot: at least as big as it
    r = await api.post("/os-volumes", {"volume": {"size": 2, "snapshot_id": snap["id"]}})
    assert_error(r, 400, "badRequest")
    restored = await _volume(api, size=3, snapshot_id=snap["id"])
    assert restored["snapshotId"] == snap["id"]
    # a volume with snapshots cannot be deleted
    assert_error(await api.delete(f"/os-volumes/{volume['id']}"), 400, "badRequest")
    r = await api.delete(f"/os-snapshots/{snap['id']}")
    assert r.status_code == 202 and r.content == b""
    assert_error(await api.get(f"/os-snapshots/{snap['id']}"), 404, "itemNotFound",
                 f"Snapshot {snap['id']} could not be found.")
    assert (await api.get("/os-snapshots")).json()["snapshots"] == []
    assert (await api.delete(f"/os-volumes/{volume['id']}")).status_code == 202
    r = await api.post("/os-snapshots", {"snapshot": {"volume_id": UNKNOWN}})
    assert_error(r, 404, "itemNotFound", f"Volume {UNKNOWN} could not be found.")


async def test_other_projects_volumes_are_not_found(api: Api, other: Api) -> None:
    volume = await _volume(api)
    vid = volume["id"]
    r = await api.post("/os-snapshots", {"snapshot": {"volume_id": vid}})
    snap = r.json()["snapshot"]
    assert (await other.get("/os-volumes")).json()["volumes"] == []
    assert (await other.get("/os-snapshots/detail")).json()["snapshots"] == []
    for r in (await other.get(f"/os-volumes/{vid}"), await other.delete(f"/os-volumes/{vid}")):
        assert_error(r, 404, "itemNotFound", f"Volume {vid} could not be found.")
    for r in (await other.get(f"/os-snapshots/{snap['id']}"),
              await other.delete(f"/os-snapshots/{snap['id']}")):
        assert_error(r, 404, "itemNotFound", f"Snapshot {snap['id']} could not be found.")
    r = await other.post("/os-snapshots", {"snapshot": {"volume_id": vid}})
    assert_error(r, 404, "itemNotFound", f"Volume {vid} could not be found.")
    # nor can it be attached to their server
    theirs = await _active(other, "theirs")
    r = await other.post(f"/servers/{theirs}/os-volume_attachments",
                         {"volumeAttachment": {"volumeId": vid}})
    assert_error(r, 404, "itemNotFound", f"Volume {vid} could not be found.")
    # and their server is not found from here
    r = await api.post(f"/servers/{theirs}/os-volume_attachments",
                       {"volumeAttachment": {"volumeId": vid}})
    assert_error(r, 404, "itemNotFound", f"Instance {theirs} could not be found.")
    assert (await api.get(f"/os-volumes/{vid}")).json()["volume"]["status"] == "available"


async def test_attach_and_detach(api: Api, admin: Api, driver: FakeDriver) -> None:
    sid = await _active(api)
    volume = await _volume(api)
    vid = volume["id"]
    attachment = await _attach(api, sid, vid)
    assert attachment == {"id": vid, "serverId": sid, "volumeId": vid, "device": "/dev/vdb"}
    shown = await _wait_volume(api, vid, "in-use")
    assert shown["attachments"] == [{"id": vid, "volumeId": vid, "serverId": sid,
                                     "device": "/dev/vdb"}]
    assert driver.volumes[sid] == {"/dev/vdb": vid}
    assert driver.calls["attach_volume"] == 1
    listed = (await api.get(f"/servers/{sid}/os-volume_attachments")).json()
    assert listed == {"volumeAttachments": [attachment]}
    r = await api.get(f"/servers/{sid}/os-volume_attachments/{vid}")
    assert r.status_code == 200 and r.json() == {"volumeAttachment": attachment}
    server = (await api.get(f"/servers/{sid}")).json()["server"]
    assert server["os-extended-volumes:volumes_attached"] == [{"id": vid}]
    server = (await api.at("2.3").get(f"/servers/{sid}")).json()["server"]
    assert server["os-extended-volumes:volumes_attached"] == [
        {"id": vid, "delete_on_termination": False}]
    detail = (await api.get("/servers/detail")).json()["servers"]
    assert detail[0]["os-extended-volumes:volumes_attached"] == [{"id": vid}]
    # the next volume takes the next device; a named device is honoured
    second = await _volume(api)
    assert (await _attach(api, sid, second["id"]))["device"] == "/dev/vdc"
    third = await _volume(api)
    assert (await _attach(api, sid, third["id"], "/dev/vdf"))["device"] == "/dev/vdf"
    await _wait_volume(api, third["id"], "in-use")
    await _wait_volume(api, second["id"], "in-use")
    assert driver.volumes[sid] == {"/dev/vdb": vid, "/dev/vdc": second["id"],
                                   "/dev/vdf": third["id"]}
    # detach
    r = await api.delete(f"/servers/{sid}/os-volume_attachments/{vid}")
    assert r.status_code == 202 and r.content == b""
    shown = await _wait_volume(api, vid, "available")
    assert shown["attachments"] == [{}]
    assert vid not in driver.volumes[sid].values()
    listed = (await api.get(f"/servers/{sid}/os-volume_attachments")).json()
    assert [a["volumeId"] for a in listed["volumeAttachments"]] == [second["id"], third["id"]]
    server = (await api.get(f"/servers/{sid}")).json()["server"]
    assert server["os-extended-volumes:volumes_attached"] == [{"id": second["id"]},
                                                              {"id": third["id"]}]
    r = await api.get(f"/servers/{sid}/os-volume_attachments/{vid}")
    assert_error(r, 404, "itemNotFound", f"Instance {sid} is not attached to volume {vid}")
    # the freed device is used again
    assert (await _attach(api, sid, vid))["device"] == "/dev/vdb"
    await _wait_volume(api, vid, "in-use")
    actions = await _actions(api, admin, sid)
    assert actions[:2] == [("attach_volume", [("compute_attach_volume", "Success")]),
                           ("detach_volume", [("compute_detach_volume", "Success")])]
    assert [a for a, _ in actions].count("attach_volume") == 4


async def test_attach_refusals(api: Api, admin: Api, other: Api) -> None:
    sid = await _active(api)
    volume = await _volume(api)
    vid = volume["id"]
    base = f"/servers/{sid}/os-volume_attachments"
    r = await api.post(base, {"volumeAttachment": {"volumeId": UNKNOWN}})
    assert_error(r, 404, "itemNotFound", f"Volume {UNKNOWN} could not be found.")
    r = await api.post(base, {"volumeAttachment": {"volumeId": "not-a-uuid"}})
    assert_error(r, 400, "badRequest")
    r = await api.post(base, {"volumeAttachment": {"volumeId": vid, "device": "vdb"}})
    assert_error(r, 400, "badRequest")
    await _attach(api, sid, vid)
    # the same volume again: already attached (to this server, or to any other)
    r = await api.post(base, {"volumeAttachment": {"volumeId": vid}})
    assert_error(r, 400, "badRequest",
                 f"Invalid volume: volume {vid} is already attached to instances: {sid}")
    second_server = await _active(api, "second")
    r = await api.post(f"/servers/{second_server}/os-volume_attachments",
                       {"volumeAttachment": {"volumeId": vid}})
    assert_error(r, 400, "badRequest")
    # a device in use
    spare = await _volume(api)
    r = await api.post(base, {"volumeAttachment": {"volumeId": spare["id"],
                                                   "device": "/dev/vdb"}})
    assert_error(r, 409, "conflictingRequest", "The supplied device path (/dev/vdb) is in use.")
    r = await api.post(base, {"volumeAttachment": {"volumeId": spare["id"],
                                                   "device": "/dev/vda"}})
    assert_error(r, 409, "conflictingRequest", "The supplied device path (/dev/vda) is in use.")
    await _wait_volume(api, vid, "in-use")
    # an in-use volume cannot be deleted, nor snapshotted without force
    r = await api.delete(f"/os-volumes/{vid}")
    assert_error(r, 400, "badRequest")
    r = await api.post("/os-snapshots", {"snapshot": {"volume_id": vid}})
    assert_error(r, 400, "badRequest", f"Invalid input received: Invalid volume: Volume {vid} "
                                       "status must be available, but current status is: "
                                       "in-use.")
    r = await api.post("/os-snapshots", {"snapshot": {"volume_id": vid, "force": "true"}})
    assert r.status_code == 200, r.text
    # detaching what is not attached here
    r = await api.delete(f"{base}/{spare['id']}")
    assert_error(r, 404, "itemNotFound",
                 f"Instance {sid} is not attached to volume {spare['id']}")
    r = await api.delete(f"{base}/{UNKNOWN}")
    assert_error(r, 404, "itemNotFound", f"Volume {UNKNOWN} could not be found.")
    # a server in a state Nova refuses
    r = await admin.post(f"/servers/{second_server}/action",
                         {"os-resetState": {"state": "error"}})
    assert r.status_code == 202
    r = await api.post(f"/servers/{second_server}/os-volume_attachments",
                       {"volumeAttachment": {"volumeId": spare["id"]}})
    assert_error(r, 409, "conflictingRequest", f"Cannot 'attach_volume' instance "
                                               f"{second_server} while it is in vm_state error")
    # a locked server refuses its owner
    assert (await admin.post(f"/servers/{sid}/action", {"lock": None})).status_code == 202
    r = await api.delete(f"{base}/{vid}")
    assert_error(r, 409, "conflictingRequest", f"Instance {sid} is locked")
    r = await api.post(base, {"volumeAttachment": {"volumeId": spare["id"]}})
    assert_error(r, 409, "conflictingRequest", f"Instance {sid} is locked")
    assert (await admin.post(f"/servers/{sid}/action", {"unlock": None})).status_code == 202
    # a reader may look but not attach
    reader = Api(api.http, "rita", "project-a", roles="reader")
    assert (await reader.get(base)).status_code == 200
    r = await reader.post(base, {"volumeAttachment": {"volumeId": spare["id"]}})
    assert_error(r, 403, "forbidden")
    # another project's member: the server is not found
    r = await other.get(base)
    assert_error(r, 404, "itemNotFound", f"Instance {sid} could not be found.")
    # still attached, and the spare volume untouched
    assert (await api.get(f"/os-volumes/{vid}")).json()["volume"]["status"] == "in-use"
    assert (await api.get(f"/os-volumes/{spare['id']}")).json()["volume"]["status"] == \
        "available"


async def test_shelved_server_refuses_attach_before_2_20(api: Api) -> None:
    sid = await _active(api)
    volume = await _volume(api)
    assert (await api.post(f"/servers/{sid}/action", {"shelve": None})).status_code == 202
    body = await api.wait_status(sid, "SHELVED_OFFLOADED", "SHELVED")
    r = await api.post(f"/servers/{sid}/os-volume_attachments",
                       {"volumeAttachment": {"volumeId": volume["id"]}})
    assert_error(r, 409, "conflictingRequest",
                 f"Cannot 'attach_volume' instance {sid} while it is in vm_state "
                 f"{body['OS-EXT-STS:vm_state']}")


async def test_attach_action_of_the_reference(api: Api, driver: FakeDriver) -> None:
    sid = await _active(api)
    volume = await _volume(api)
    r = await api.post(f"/servers/{sid}/action", {"attach": {
        "volume_id": volume["id"], "device": "/dev/vdb", "disk_bus": "ide",
        "device_type": "cdrom"}})
    assert r.status_code == 202 and r.content == b"", r.text
    await _wait_volume(api, volume["id"], "in-use")
    assert driver.volumes[sid] == {"/dev/vdb": volume["id"]}
    listed = (await api.get(f"/servers/{sid}/os-volume_attachments")).json()
    assert listed["volumeAttachments"][0]["device"] == "/dev/vdb"
    # the same checks as the attachments API
    r = await api.post(f"/servers/{sid}/action", {"attach": {"volume_id": volume["id"]}})
    assert_error(r, 400, "badRequest")
    r = await api.post(f"/servers/{sid}/action", {"attach": {"volume_id": UNKNOWN}})
    assert_error(r, 404, "itemNotFound", f"Volume {UNKNOWN} could not be found.")
    r = await api.post(f"/servers/{sid}/action", {"attach": {"device": "/dev/vdc"}})
    assert_error(r, 400, "badRequest")


async def test_failed_attach_frees_the_volume(api: Api, admin: Api, driver: FakeDriver
                                              ) -> None:
    sid = await _active(api)
    volume = await _volume(api)
    driver.fail_next_volume_operations(1)
    await _attach(api, sid, volume["id"])
    await _wait_volume(api, volume["id"], "available")
    assert (await api.get(f"/servers/{sid}/os-volume_attachments")).json() == {
        "volumeAttachments": []}
    server = (await api.get(f"/servers/{sid}")).json()["server"]
    assert server["os-extended-volumes:volumes_attached"] == []
    actions = await _actions(api, admin, sid)
    assert actions[0] == ("attach_volume", [("compute_attach_volume", "Error")])
    # a failed detach leaves it attached
    await _attach(api, sid, volume["id"])
    await _wait_volume(api, volume["id"], "in-use")
    driver.fail_next_volume_operations(1)
    r = await api.delete(f"/servers/{sid}/os-volume_attachments/{volume['id']}")
    assert r.status_code == 202
    await _wait_volume(api, volume["id"], "in-use")
    for _ in range(100):
        actions = await _actions(api, admin, sid)
        if actions[0][1]:
            break
        await asyncio.sleep(0.02)
    assert actions[0] == ("detach_volume", [("compute_detach_volume", "Error")])
    assert driver.volumes[sid] == {"/dev/vdb": volume["id"]}


async def test_swap_volume_is_for_admins(api: Api, admin: Api, driver: FakeDriver) -> None:
    sid = await _active(api)
    old, new = await _volume(api, size=2), await _volume(api, size=2)
    small = await _volume(api, size=1)
    await _attach(api, sid, old["id"])
    await _wait_volume(api, old["id"], "in-use")
    path = f"/servers/{sid}/os-volume_attachments/{old['id']}"
    r = await api.put(path, {"volumeAttachment": {"volumeId": new["id"]}})
    assert_error(r, 403, "forbidden")
    r = await admin.put(path, {"volumeAttachment": {"volumeId": small["id"]}})
    assert_error(r, 400, "badRequest",
                 "Invalid volume: New volume must be the same size or larger.")
    r = await admin.put(path, {"volumeAttachment": {"volumeId": UNKNOWN}})
    assert_error(r, 400, "badRequest", f"Volume {UNKNOWN} could not be found.")
    r = await admin.put(f"/servers/{sid}/os-volume_attachments/{UNKNOWN}",
                        {"volumeAttachment": {"volumeId": new["id"]}})
    assert_error(r, 404, "itemNotFound", f"Volume {UNKNOWN} could not be found.")
    r = await admin.put(f"/servers/{sid}/os-volume_attachments/{small['id']}",
                        {"volumeAttachment": {"volumeId": new["id"]}})
    assert_error(r, 404, "itemNotFound",
                 f"Instance {sid} is not attached to volume {small['id']}")
    r = await admin.put(path, {"volumeAttachment": {"volumeId": new["id"]}})
    assert r.status_code == 202 and r.content == b"", r.text
    await _wait_volume(api, old["id"], "available")
    shown = await _wait_volume(api, new["id"], "in-use")
    assert shown["attachments"][0]["device"] == "/dev/vdb"
    assert driver.volumes[sid] == {"/dev/vdb": new["id"]}
    server = (await api.get(f"/servers/{sid}")).json()["server"]
    assert server["os-extended-volumes:volumes_attached"] == [{"id": new["id"]}]
    actions = await _actions(api, admin, sid)
    assert actions[0] == ("swap_volume", [("compute_swap_volume", "Success")])


async def test_deleting_a_server_frees_its_volumes(api: Api, driver: FakeDriver) -> None:
    sid = await _active(api)
    first, second = await _volume(api), await _volume(api)
    await _attach(api, sid, first["id"])
    await _attach(api, sid, second["id"])
    await _wait_volume(api, first["id"], "in-use")
    await _wait_volume(api, second["id"], "in-use")
    assert (await api.delete(f"/servers/{sid}")).status_code == 204
    await api.wait_status(sid, "DELETED")
    for v in (first, second):
        shown = await _wait_volume(api, v["id"], "available")
        assert shown["attachments"] == [{}]
    assert sid not in driver.volumes
    # and they can be deleted now
    assert (await api.delete(f"/os-volumes/{first['id']}")).status_code == 202


async def test_projections_rebuilt_from_zero_are_equal(system: System, api: Api, admin: Api,
                                                       driver: FakeDriver) -> None:
    sid = await _active(api)
    volumes = [await _volume(api, size=2) for _ in range(4)]
    for v in volumes[:3]:
        await _attach(api, sid, v["id"])
    for v in volumes[:3]:
        await _wait_volume(api, v["id"], "in-use")
    await api.delete(f"/servers/{sid}/os-volume_attachments/{volumes[0]['id']}")
    await admin.put(f"/servers/{sid}/os-volume_attachments/{volumes[1]['id']}",
                    {"volumeAttachment": {"volumeId": volumes[3]["id"]}})
    await _wait_volume(api, volumes[0]["id"], "available")
    await _wait_volume(api, volumes[3]["id"], "in-use")
    snap = (await api.post("/os-snapshots", {"snapshot": {"volume_id": volumes[0]["id"]}})
            ).json()["snapshot"]
    await api.post("/os-snapshots", {"snapshot": {"volume_id": volumes[1]["id"]}})
    await api.delete(f"/os-snapshots/{snap['id']}")
    await api.delete(f"/os-volumes/{volumes[0]['id']}")
    await asyncio.sleep(0.2)
    before = await _dump(system)
    assert before["v_volumes"] and before["v_volume_snapshots"]
    for p in system.runner.projections:
        await system.runner.rebuild(p.name)
    assert await _dump(system) == before
