"""Server actions over HTTP: every action, its states, refused transitions, history."""

from __future__ import annotations

import asyncio

from control_plane.bootstrap import System
from drivers.fake import FakeDriver
from tests.conftest import Api, assert_error


async def _active(api: Api, name: str = "acting") -> str:
    server = await api.create_server(name)
    await api.wait_status(server["id"], "ACTIVE")
    sid: str = server["id"]
    return sid


async def _idle(api: Api, sid: str) -> None:
    """Wait until the server has no task (a snapshot keeps the status ACTIVE)."""
    for _ in range(300):
        body = (await api.get(f"/servers/{sid}")).json()["server"]
        if body["OS-EXT-STS:task_state"] is None:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{sid} stayed busy")


async def test_stop_then_start(api: Api, admin: Api, driver: FakeDriver) -> None:
    sid = await _active(api)
    r = await api.post(f"/servers/{sid}/action", {"os-stop": None})
    assert r.status_code == 202 and r.content == b""
    body = await api.wait_status(sid, "SHUTOFF")
    assert body["OS-EXT-STS:vm_state"] == "stopped"
    assert body["OS-EXT-STS:power_state"] == 4 and body["OS-EXT-STS:task_state"] is None
    # stopping again is refused, as Nova refuses it
    r = await api.post(f"/servers/{sid}/action", {"os-stop": None})
    assert_error(r, 409, "conflictingRequest",
                 f"Cannot 'stop' instance {sid} while it is in vm_state stopped")
    assert (await api.post(f"/servers/{sid}/action", {"os-start": None})).status_code == 202
    body = await api.wait_status(sid, "ACTIVE")
    assert body["OS-EXT-STS:power_state"] == 1
    r = await api.post(f"/servers/{sid}/action", {"os-start": None})
    assert_error(r, 409, "conflictingRequest",
                 f"Cannot 'start' instance {sid} while it is in vm_state active")
    assert driver.calls["power_off"] == 1 and driver.calls["power_on"] == 1
    actions = (await api.get(f"/servers/{sid}/os-instance-actions")).json()["instanceActions"]
    assert [a["action"] for a in actions] == ["start", "stop", "create"]
    stop = actions[1]
    detail = (await admin.get(f"/servers/{sid}/os-instance-actions/{stop['request_id']}")
              ).json()["instanceAction"]
    assert [(e["event"], e["result"]) for e in detail["events"]] == [
        ("compute_stop_instance", "Success")]


async def test_reboot_soft_and_hard(system: System, api: Api, driver: FakeDriver) -> None:
    sid = await _active(api)
    assert (await api.post(f"/servers/{sid}/action", {"reboot": {"type": "SOFT"}})
            ).status_code == 202
    await api.wait_status(sid, "ACTIVE")
    assert (await api.post(f"/servers/{sid}/action", {"reboot": {"type": "hard"}})
            ).status_code == 202
    await api.wait_status(sid, "ACTIVE")
    assert driver.calls["reboot"] == 2
    kinds = [e.data.get("reboot_type") for e in await system.store.read_stream(sid)
             if e.event_type == "ServerRebootRequested"]
    assert kinds == ["SOFT", "HARD"]
    # a stopped server can be hard- but not soft-rebooted
    await api.post(f"/servers/{sid}/action", {"os-stop": None})
    await api.wait_status(sid, "SHUTOFF")
    r = await api.post(f"/servers/{sid}/action", {"reboot": {"type": "SOFT"}})
    assert_error(r, 409, "conflictingRequest",
                 f"Cannot 'reboot' instance {sid} while it is in vm_state stopped")
    assert (await api.post(f"/servers/{sid}/action", {"reboot": {"type": "HARD"}})
            ).status_code == 202
    await api.wait_status(sid, "ACTIVE")
    events = [e.event_type for e in await system.store.read_stream(sid)]
    assert events[-2:] == ["ServerRebootRequested", "ServerRebooted"]


async def test_intermediate_state_is_visible(system: System, api: Api,
                                             driver: FakeDriver) -> None:
    driver.latency = 0.3
    sid = await _active(api)
    await api.post(f"/servers/{sid}/action", {"reboot": {"type": "HARD"}})
    body = (await api.get(f"/servers/{sid}")).json()["server"]
    assert body["status"] == "HARD_REBOOT"
    assert body["OS-EXT-STS:task_state"] == "rebooting_hard"
    r = await api.post(f"/servers/{sid}/action", {"os-stop": None})
    assert_error(r, 409, "conflictingRequest",
                 f"Cannot 'stop' instance {sid} while it is in task_state rebooting_hard")
    await api.wait_status(sid, "ACTIVE")
    await api.post(f"/servers/{sid}/action", {"os-stop": None})
    assert (await api.get(f"/servers/{sid}")).json()["server"]["OS-EXT-STS:task_state"] == \
        "powering-off"
    await api.wait_status(sid, "SHUTOFF")


async def test_bad_action_bodies(api: Api, other: Api) -> None:
    sid = await _active(api)
    r = await api.post(f"/servers/{sid}/action", {"levitate": None})
    assert_error(r, 400, "badRequest", "There is no such action: levitate")
    r = await api.post(f"/servers/{sid}/action", {"os-stop": None, "os-start": None})
    assert_error(r, 400, "badRequest", "Malformed request body")
    for bad in ({"reboot": {}}, {"reboot": {"type": "GENTLE"}}, {"reboot": None},
                {"os-stop": 5}, {"os-start": "now"}):
        r = await api.post(f"/servers/{sid}/action", bad)
        assert r.status_code == 400, (bad, r.text)
    r = await other.post(f"/servers/{sid}/action", {"os-stop": None})
    assert_error(r, 404, "itemNotFound", f"Instance {sid} could not be found.")


async def test_lock_unlock(system: System, api: Api, admin: Api) -> None:
    sid = await _active(api)
    assert (await api.at("2.9").get(f"/servers/{sid}")).json()["server"]["locked"] is False
    assert (await api.post(f"/servers/{sid}/action", {"lock": None})).status_code == 202
    assert (await api.at("2.9").get(f"/servers/{sid}")).json()["server"]["locked"] is True
    for body in ({"os-stop": None}, {"reboot": {"type": "HARD"}}):
        r = await api.post(f"/servers/{sid}/action", body)
        assert_error(r, 409, "conflictingRequest", f"Instance {sid} is locked")
    assert_error(await api.delete(f"/servers/{sid}"), 409, "conflictingRequest",
                 f"Instance {sid} is locked")
    # an admin is not held back by the lock
    assert (await admin.post(f"/servers/{sid}/action", {"reboot": {"type": "HARD"}})
            ).status_code == 202
    await api.wait_status(sid, "ACTIVE")
    assert (await api.post(f"/servers/{sid}/action", {"unlock": None})).status_code == 202
    assert (await api.post(f"/servers/{sid}/action", {"os-stop": None})).status_code == 202
    await api.wait_status(sid, "SHUTOFF")
    # a lock set by an admin can only be lifted by an admin
    assert (await admin.post(f"/servers/{sid}/action", {"lock": {}})).status_code == 202
    r = await api.post(f"/servers/{sid}/action", {"unlock": None})
    assert_error(r, 403, "forbidden", "Policy doesn't allow "
                 "os_compute_api:os-lock-server:unlock:unlock_override to be performed.")
    assert (await admin.post(f"/servers/{sid}/action", {"unlock": None})).status_code == 202
    types = [e.event_type for e in await system.store.read_stream(sid)]
    assert types.count("ServerLocked") == 2 and types.count("ServerUnlocked") == 2


async def test_pause_unpause_suspend_resume(system: System, api: Api, admin: Api,
                                            driver: FakeDriver) -> None:
    sid = await _active(api)
    steps = [("pause", "PAUSED", "paused", 3), ("unpause", "ACTIVE", "active", 1),
             ("suspend", "SUSPENDED", "suspended", 4), ("resume", "ACTIVE", "active", 1)]
    for action, status, vm_state, power in steps:
        assert (await api.post(f"/servers/{sid}/action", {action: None})).status_code == 202
        body = await api.wait_status(sid, status)
        assert (body["OS-EXT-STS:vm_state"], body["OS-EXT-STS:power_state"]) == (vm_state,
                                                                                  power)
        assert driver.calls[action] == 1
    # refused transitions, with Nova's messages
    r = await api.post(f"/servers/{sid}/action", {"unpause": None})
    assert_error(r, 409, "conflictingRequest",
                 f"Cannot 'unpause' instance {sid} while it is in vm_state active")
    r = await api.post(f"/servers/{sid}/action", {"resume": None})
    assert_error(r, 409, "conflictingRequest",
                 f"Cannot 'resume' instance {sid} while it is in vm_state active")
    await api.post(f"/servers/{sid}/action", {"pause": None})
    await api.wait_status(sid, "PAUSED")
    r = await api.post(f"/servers/{sid}/action", {"suspend": None})
    assert_error(r, 409, "conflictingRequest",
                 f"Cannot 'suspend' instance {sid} while it is in vm_state paused")
    actions = (await api.get(f"/servers/{sid}/os-instance-actions")).json()["instanceActions"]
    assert [a["action"] for a in actions] == ["pause", "resume", "suspend", "unpause", "pause",
                                              "create"]
    detail = (await admin.get(f"/servers/{sid}/os-instance-actions/"
                              f"{actions[1]['request_id']}")).json()["instanceAction"]
    assert [(e["event"], e["result"]) for e in detail["events"]] == [
        ("compute_resume_instance", "Success")]
    types = [e.event_type for e in await system.store.read_stream(sid)]
    assert types[-2:] == ["ServerPauseRequested", "ServerPaused"]


async def test_rebuild(system: System, api: Api, admin: Api, driver: FakeDriver) -> None:
    from tests.conftest import IMAGE_ALT

    sid = await _active(api)
    r = await api.at("2.9").post(f"/servers/{sid}/action", {"rebuild": {
        "imageRef": IMAGE_ALT, "name": "reborn", "metadata": {"v": "2"},
        "adminPass": "n3w", "accessIPv4": "192.0.2.7"}})
    assert r.status_code == 202, r.text
    body = r.json()["server"]
    assert body["adminPass"] == "n3w" and body["status"] == "REBUILD"
    assert body["image"]["id"] == IMAGE_ALT and body["name"] == "reborn"
    assert body["metadata"] == {"v": "2"} and body["locked"] is False
    body = await api.wait_status(sid, "ACTIVE")
    assert (body["image"]["id"], body["accessIPv4"]) == (IMAGE_ALT, "192.0.2.7")
    assert driver.calls["rebuild"] == 1
    # a stopped server is rebuilt and stays stopped
    await api.post(f"/servers/{sid}/action", {"os-stop": None})
    await api.wait_status(sid, "SHUTOFF")
    r = await api.post(f"/servers/{sid}/action", {"rebuild": {"imageRef": IMAGE_ALT}})
    assert r.status_code == 202
    await api.wait_status(sid, "SHUTOFF")
    assert driver.calls["rebuild"] == 2
    # refused: unknown image, bad body, wrong state
    r = await api.post(f"/servers/{sid}/action", {"rebuild": {"imageRef": "nope"}})
    assert_error(r, 400, "badRequest", "Invalid imageRef provided.")
    r = await api.post(f"/servers/{sid}/action", {"rebuild": {"name": "x"}})
    assert r.status_code == 400
    await api.post(f"/servers/{sid}/action", {"os-start": None})
    await api.wait_status(sid, "ACTIVE")
    await api.post(f"/servers/{sid}/action", {"pause": None})
    await api.wait_status(sid, "PAUSED")
    r = await api.post(f"/servers/{sid}/action", {"rebuild": {"imageRef": IMAGE_ALT}})
    assert_error(r, 409, "conflictingRequest",
                 f"Cannot 'rebuild' instance {sid} while it is in vm_state paused")
    actions = (await api.get(f"/servers/{sid}/os-instance-actions")).json()["instanceActions"]
    assert [a["action"] for a in actions].count("rebuild") == 2


async def test_add_remove_security_group(system: System, api: Api) -> None:
    sid = await _active(api)
    r = await api.post(f"/servers/{sid}/action", {"removeSecurityGroup": {"name": "default"}})
    assert r.status_code == 202
    body = (await api.get(f"/servers/{sid}")).json()["server"]
    assert "security_groups" not in body
    r = await api.post(f"/servers/{sid}/action", {"removeSecurityGroup": {"name": "default"}})
    assert_error(r, 400, "badRequest",
                 f"Security group default not associated with the instance {sid}")
    r = await api.post(f"/servers/{sid}/action", {"addSecurityGroup": {"name": "web"}})
    assert_error(r, 404, "itemNotFound", "Security group web not found for project project-a.")
    assert (await api.post(f"/servers/{sid}/action",
                           {"addSecurityGroup": {"name": "default"}})).status_code == 202
    body = (await api.get(f"/servers/{sid}")).json()["server"]
    assert body["security_groups"] == [{"name": "default"}]
    types = [e.event_type for e in await system.store.read_stream(sid)]
    assert types[-2:] == ["ServerSecurityGroupRemoved", "ServerSecurityGroupAdded"]


async def _host(admin: Api, sid: str) -> str:
    host: str = (await admin.get(f"/servers/{sid}")).json()["server"]["OS-EXT-SRV-ATTR:host"]
    return host


async def test_resize_confirm_and_revert(system: System, api: Api, admin: Api,
                                         driver: FakeDriver) -> None:
    sid = await _active(api)
    source = await _host(admin, sid)
    r = await api.post(f"/servers/{sid}/action", {"resize": {"flavorRef": "1"}})
    assert_error(r, 400, "badRequest", "When resizing, instances must change flavor!")
    assert (await api.post(f"/servers/{sid}/action", {"resize": {"flavorRef": "2"}})
            ).status_code == 202
    body = await api.wait_status(sid, "VERIFY_RESIZE")
    assert body["flavor"]["id"] == "2" and body["OS-EXT-STS:vm_state"] == "resized"
    target = await _host(admin, sid)
    assert target != source and sid in driver._hosts[target].instances
    async with system.pool.acquire() as conn:
        claims = await conn.fetch("SELECT h.host FROM v_host_claims c JOIN v_hosts h"
                                  " ON h.stream_id = c.stream_id WHERE server_id = $1", sid)
    assert sorted(r["host"] for r in claims) == sorted([source, target])  # both held
    r = await api.post(f"/servers/{sid}/action", {"os-stop": None})
    assert r.status_code == 409
    assert (await api.post(f"/servers/{sid}/action", {"confirmResize": None})
            ).status_code == 204
    body = await api.wait_status(sid, "ACTIVE")
    assert body["flavor"]["id"] == "2" and await _host(admin, sid) == target
    r = await api.post(f"/servers/{sid}/action", {"confirmResize": None})
    assert_error(r, 409, "conflictingRequest",
                 f"Cannot 'confirmResize' instance {sid} while it is in vm_state active")
    # resize again, then revert: back to the old flavor on the old host
    assert (await api.post(f"/servers/{sid}/action", {"resize": {"flavorRef": "3"}})
            ).status_code == 202
    await api.wait_status(sid, "VERIFY_RESIZE")
    assert (await api.post(f"/servers/{sid}/action", {"revertResize": None})
            ).status_code == 202
    body = await api.wait_status(sid, "ACTIVE")
    assert body["flavor"]["id"] == "2" and await _host(admin, sid) == target
    async with system.pool.acquire() as conn:
        claims = await conn.fetch("SELECT h.host FROM v_host_claims c JOIN v_hosts h"
                                  " ON h.stream_id = c.stream_id WHERE server_id = $1", sid)
    assert [r["host"] for r in claims] == [target]
    assert driver.instance_ids() == {sid}
    actions = (await api.get(f"/servers/{sid}/os-instance-actions")).json()["instanceActions"]
    assert [a["action"] for a in actions] == ["revertResize", "resize", "confirmResize",
                                              "resize", "create"]
    resize_id = actions[3]["request_id"]
    detail = (await admin.get(f"/servers/{sid}/os-instance-actions/{resize_id}")
              ).json()["instanceAction"]
    assert {e["event"] for e in detail["events"]} == {"conductor_migrate_server",
                                                      "compute_finish_resize"}


async def test_reset_state_is_for_admins(system: System, api: Api, admin: Api,
                                         driver: FakeDriver) -> None:
    driver.fail_next_spawns(1)
    sid = (await api.create_server("broken"))["id"]
    await api.wait_status(sid, "ERROR")
    r = await api.post(f"/servers/{sid}/action", {"os-resetState": {"state": "active"}})
    assert_error(r, 403, "forbidden", "Policy doesn't allow "
                 "os_compute_api:os-admin-actions:reset_state to be performed.")
    r = await admin.post(f"/servers/{sid}/action", {"os-resetState": {"state": "wobbly"}})
    assert r.status_code == 400
    r = await admin.post(f"/servers/{sid}/action", {"os-resetState": {"state": "active"}})
    assert r.status_code == 202
    body = (await api.get(f"/servers/{sid}")).json()["server"]
    assert body["status"] == "ACTIVE" and body["OS-EXT-STS:task_state"] is None
    types = [e.event_type for e in await system.store.read_stream(sid)]
    assert types[-1] == "ServerStateReset"


async def test_create_image_and_rotated_backups(system: System, api: Api, other: Api,
                                                driver: FakeDriver) -> None:
    sid = await _active(api)
    r = await api.post(f"/servers/{sid}/action",
                       {"createImage": {"name": "snap", "metadata": {"why": "test"}}})
    assert r.status_code == 202 and r.content == b""
    image_id = r.headers["location"].rsplit("/", 1)[-1]
    assert r.headers["location"].endswith(f"/v2.1/images/{image_id}")
    for _ in range(200):
        image = (await api.get(f"/images/{image_id}")).json()["image"]
        if image["status"] == "ACTIVE":
            break
        await asyncio.sleep(0.02)
    assert image["status"] == "ACTIVE" and image["name"] == "snap"
    assert image["metadata"]["why"] == "test" and image["metadata"]["image_type"] == "snapshot"
    assert image["metadata"]["instance_uuid"] == sid and image["server"]["id"] == sid
    assert image["OS-EXT-IMG-SIZE:size"] > 0
    assert (await other.get(f"/images/{image_id}")).status_code == 404  # private
    await _idle(api, sid)
    # backups: only the newest `rotation` of a type survive
    made = []
    for i in range(3):
        r = await api.post(f"/servers/{sid}/action", {"createBackup": {
            "name": f"b{i}", "backup_type": "daily", "rotation": 2}})
        assert r.status_code == 202
        made.append(r.headers["location"].rsplit("/", 1)[-1])
        await _idle(api, sid)
    await asyncio.sleep(0.1)
    listed = {i["id"] for i in (await api.get("/images?type=backup")).json()["images"]}
    assert listed == set(made[1:])
    assert driver.calls["snapshot"] == 4
    # refused while a task runs, and for a bad body
    r = await api.post(f"/servers/{sid}/action", {"createBackup": {"name": "x"}})
    assert r.status_code == 400


async def test_shelve_offload_unshelve(system: System, api: Api, admin: Api,
                                       driver: FakeDriver) -> None:
    sid = await _active(api)
    assert (await api.post(f"/servers/{sid}/action", {"shelve": None})).status_code == 202
    body = await admin.wait_status(sid, "SHELVED_OFFLOADED")  # offloaded at once by default
    assert body["OS-EXT-SRV-ATTR:host"] is None and sid not in driver.instance_ids()
    async with system.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM v_host_claims WHERE server_id = $1",
                                   sid) == 0
        image = await conn.fetchrow("SELECT * FROM v_images WHERE server_id = $1", sid)
    assert image["name"] == "acting-shelved" and image["status"] == "active"
    r = await api.post(f"/servers/{sid}/action", {"shelve": None})
    assert_error(r, 409, "conflictingRequest",
                 f"Cannot 'shelve' instance {sid} while it is in vm_state shelved_offloaded")
    assert (await api.post(f"/servers/{sid}/action", {"unshelve": None})).status_code == 202
    body = await admin.wait_status(sid, "ACTIVE")
    assert body["OS-EXT-SRV-ATTR:host"] and sid in driver.instance_ids()
    async with system.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM v_images WHERE server_id = $1",
                                   sid) == 0  # the shelved snapshot is gone
    actions = (await api.get(f"/servers/{sid}/os-instance-actions")).json()["instanceActions"]
    assert [a["action"] for a in actions][:2] == ["unshelve", "shelve"]


async def test_shelve_without_offload(system: System, api: Api, admin: Api,
                                      driver: FakeDriver) -> None:
    system.settings.shelved_offload_time = -1
    sid = await _active(api)
    await api.post(f"/servers/{sid}/action", {"shelve": None})
    body = await admin.wait_status(sid, "SHELVED")
    assert body["OS-EXT-STS:power_state"] == 4 and body["OS-EXT-SRV-ATTR:host"]
    r = await api.post(f"/servers/{sid}/action", {"shelveOffload": None})
    assert r.status_code == 403  # admin only by Nova's default policy
    assert (await admin.post(f"/servers/{sid}/action", {"shelveOffload": None})
            ).status_code == 202
    await admin.wait_status(sid, "SHELVED_OFFLOADED")
    await api.post(f"/servers/{sid}/action", {"unshelve": None})
    await admin.wait_status(sid, "ACTIVE")
