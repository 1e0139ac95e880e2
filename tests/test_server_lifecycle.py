"""Soft delete, restore, force delete, reclaim; rescue; passwords; migrate, live migrate,
evacuate and migration records; the periodic resize auto-confirm and shelved offload.
All through HTTP on the fake driver."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from control_plane.api.metadata.resources import sign
from control_plane.bootstrap import System, open_system
from control_plane.config import parse_networks
from control_plane.domain.servers import states
from control_plane.domain.servers.aggregate import Server
from control_plane.service.uow import UnitOfWork
from drivers.base import HostSpec
from drivers.fake import FakeDriver
from projections import all_projections
from tests.conftest import IMAGE, NOAUTH, Api, assert_error, wait_hosts


async def _active(api: Api, name: str = "lc") -> str:
    server = await api.create_server(name)
    await api.wait_status(server["id"], "ACTIVE")
    sid: str = server["id"]
    return sid


async def _act(api: Api, sid: str, body: dict[str, Any]) -> httpx.Response:
    return await api.post(f"/servers/{sid}/action", body)


async def _actions(api: Api, admin: Api, sid: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """[(action, [(event, result), ...]), ...] newest first."""
    listed = (await api.get(f"/servers/{sid}/os-instance-actions")).json()["instanceActions"]
    out = []
    for a in listed:
        detail = (await admin.get(f"/servers/{sid}/os-instance-actions/{a['request_id']}")
                  ).json()["instanceAction"]
        out.append((a["action"], [(e["event"], e["result"]) for e in detail["events"]]))
    return out


async def _until(check: Any, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition never met")
        await asyncio.sleep(0.02)


# -- soft delete, restore, force delete, reclaim -------------------------------------------


async def test_soft_delete_restore_and_force_delete(system: System, api: Api, admin: Api,
                                                    driver: FakeDriver) -> None:
    system.settings.reclaim_instance_interval = 3600
    sid = await _active(api)
    r = await _act(api, sid, {"restore": None})
    assert_error(r, 409, "conflictingRequest",
                 f"Cannot 'restore' instance {sid} while it is in vm_state active")
    assert (await api.delete(f"/servers/{sid}")).status_code == 204
    body = await api.wait_status(sid, "SOFT_DELETED")
    assert body["OS-EXT-STS:vm_state"] == "soft-delete"
    assert body["OS-EXT-STS:power_state"] == states.SHUTDOWN
    assert driver.calls["power_off"] == 1 and sid in driver.instance_ids()
    # still listed, as Nova lists soft-deleted servers
    listed = (await api.get("/servers?status=SOFT_DELETED")).json()["servers"]
    assert [s["id"] for s in listed] == [sid]
    assert (await _act(api, sid, {"restore": None})).status_code == 202
    body = await api.wait_status(sid, "ACTIVE")
    assert body["OS-EXT-STS:power_state"] == states.RUNNING and driver.calls["power_on"] == 1
    history = await _actions(api, admin, sid)
    assert [a for a, _ in history] == ["restore", "delete", "create"]
    assert history[0][1] == [("compute_restore_instance", "Success")]
    assert history[1][1] == [("compute_soft_delete_instance", "Success")]
    # soft-delete again, then force the delete: the guest is destroyed at once
    await api.delete(f"/servers/{sid}")
    await api.wait_status(sid, "SOFT_DELETED")
    assert (await _act(api, sid, {"forceDelete": None})).status_code == 202
    await api.wait_status(sid, "DELETED")
    await _until(lambda: _gone(driver, sid))
    r = await _act(api, sid, {"restore": None})
    assert r.status_code == 404


async def _gone(driver: FakeDriver, sid: str) -> bool:
    return sid not in driver.instance_ids()


async def test_reclaim_after_interval(system: System, api: Api, driver: FakeDriver
                                      ) -> None:
    system.settings.reclaim_instance_interval = 1
    sid = await _active(api)
    await api.delete(f"/servers/{sid}")
    await api.wait_status(sid, "SOFT_DELETED")
    await api.wait_status(sid, "DELETED", timeout=10)
    await _until(lambda: _gone(driver, sid))
    # (the release of its network follows the deletion, when the network worker gets to it)
    stream = [e for e in await system.store.read_stream(sid)
              if e.event_type != "ServerNetworkReleased"]
    assert [e.event_type for e in stream[-4:]] == [
        "ServerSoftDeleteRequested", "ServerSoftDeleted", "ServerDeleteRequested",
        "ServerDeleted"]
    reclaim = stream[-2]
    assert reclaim.metadata["actor"] == "compute:fake"


async def test_without_interval_delete_is_immediate(system: System, api: Api) -> None:
    sid = await _active(api)
    await api.delete(f"/servers/{sid}")
    await api.wait_status(sid, "DELETED")
    events = [e.event_type for e in await system.store.read_stream(sid)]
    assert "ServerSoftDeleteRequested" not in events


async def test_force_delete_refused_for_others_and_when_locked(api: Api, admin: Api) -> None:
    sid = await _active(api)
    other = Api(api.http, "bob", "project-b")
    assert (await _act(other, sid, {"forceDelete": None})).status_code == 404
    await _act(admin, sid, {"lock": None})
    r = await _act(api, sid, {"forceDelete": None})
    assert_error(r, 409, "conflictingRequest", f"Instance {sid} is locked")


# -- rescue, unrescue, changePassword, os-server-password ------------------------------


async def test_rescue_and_unrescue(system: System, api: Api, admin: Api,
                                   driver: FakeDriver) -> None:
    sid = await _active(api)
    r = await _act(api, sid, {"rescue": {"adminPass": "S3cret-rescue"}})
    assert r.status_code == 200 and r.json() == {"adminPass": "S3cret-rescue"}
    body = await api.wait_status(sid, "RESCUE")
    assert body["OS-EXT-STS:vm_state"] == "rescued"
    assert driver.passwords[sid] == "S3cret-rescue"
    r = await _act(api, sid, {"rescue": None})
    assert_error(r, 409, "conflictingRequest",
                 f"Cannot 'rescue' instance {sid} while it is in vm_state rescued")
    assert (await _act(api, sid, {"unrescue": None})).status_code == 202
    await api.wait_status(sid, "ACTIVE")
    r = await _act(api, sid, {"unrescue": None})
    assert_error(r, 409, "conflictingRequest",
                 f"Cannot 'unrescue' instance {sid} while it is in vm_state active")
    # a generated password when none is given; a stopped server can be rescued
    await _act(api, sid, {"os-stop": None})
    await api.wait_status(sid, "SHUTOFF")
    r = await _act(api, sid, {"rescue": {}})
    generated = r.json()["adminPass"]
    assert r.status_code == 200 and len(generated) == 12
    await api.wait_status(sid, "RESCUE")
    assert driver.passwords[sid] == generated
    # the password never enters the log in clear
    async with system.pool.acquire() as conn:
        hits = await conn.fetchval(
            "SELECT count(*) FROM events WHERE data::text LIKE '%' || $1 || '%'"
            " OR data::text LIKE '%S3cret-rescue%'", generated)
    assert hits == 0
    history = await _actions(api, admin, sid)
    assert [a for a, _ in history][:2] == ["rescue", "stop"]
    assert history[0][1] == [("compute_rescue_instance", "Success")]
    r = await _act(api, sid, {"rescue": {"rescue_image_ref": "not-a-uuid"}})
    assert r.status_code == 400


async def test_change_password(system: System, api: Api, admin: Api,
                               driver: FakeDriver) -> None:
    sid = await _active(api)
    r = await _act(api, sid, {"changePassword": {"adminPass": "n3w-pass"}})
    assert r.status_code == 202 and r.content == b""
    await _until(lambda: _password_is(driver, sid, "n3w-pass"))
    await api.wait_status(sid, "ACTIVE")
    assert driver.calls["set_admin_password"] == 1
    history = await _actions(api, admin, sid)
    assert history[0] == ("changePassword", [("compute_set_admin_password", "Success")])
    r = await _act(api, sid, {"changePassword": {}})
    assert r.status_code == 400
    await _act(api, sid, {"os-stop": None})
    await api.wait_status(sid, "SHUTOFF")
    r = await _act(api, sid, {"changePassword": {"adminPass": "x"}})
    assert_error(r, 409, "conflictingRequest",
                 f"Cannot 'changePassword' instance {sid} while it is in vm_state stopped")


async def _password_is(driver: FakeDriver, sid: str, password: str) -> bool:
    return driver.passwords.get(sid) == password


async def test_server_password_from_the_metadata_service(system: System, api: Api
                                                          ) -> None:
    sid = await _active(api)
    r = await api.get(f"/servers/{sid}/os-server-password")
    assert r.status_code == 200 and r.json() == {"password": ""}
    body = (await api.get(f"/servers/{sid}")).json()["server"]
    address = body["addresses"]["private"][0]["addr"]
    # the guest calls from its fixed address, in a network the operator trusts
    system.settings.metadata_trusted_sources = parse_networks(f"{address}/16")
    http = httpx.AsyncClient(transport=httpx.ASGITransport(
        app=system.app(), client=(address, 40000)), base_url="http://169.254.169.254")
    r = await http.get("/openstack/latest/meta_data.json")
    assert r.status_code == 200 and r.json()["uuid"] == sid and r.json()["name"] == "lc"
    # an X-Forwarded-For never names a guest
    assert (await api.http.get("/openstack/latest/meta_data.json",
                               headers={"X-Forwarded-For": address})).status_code == 404
    r = await http.post("/openstack/2013-04-04/password", content=b"x" * 257)
    assert r.status_code == 400
    r = await http.post("/openstack/2013-04-04/password", content=b"ZW5jcnlwdGVk")
    assert r.status_code == 200
    assert (await http.post("/openstack/latest/password", content=b"again")).status_code == 409
    assert (await http.get("/openstack/latest/password")).text == "ZW5jcnlwdGVk"
    assert (await api.get(f"/servers/{sid}/os-server-password")).json() == {
        "password": "ZW5jcnlwdGVk"}
    other = Api(api.http, "bob", "project-b")
    assert (await other.get(f"/servers/{sid}/os-server-password")).status_code == 404
    assert (await api.delete(f"/servers/{sid}/os-server-password")).status_code == 204
    assert (await api.get(f"/servers/{sid}/os-server-password")).json() == {"password": ""}
    # behind a metadata proxy: signed instance-id headers, and only with the secret
    await http.aclose()
    http = api.http
    unsigned = {"X-Instance-ID": sid, "X-Instance-ID-Signature": "0" * 64,
                "X-Tenant-ID": body["tenant_id"]}
    assert (await http.get("/openstack/latest/password", headers=unsigned)).status_code == 404
    system.settings.metadata_secret = "proxy-secret"
    assert (await http.get("/openstack/latest/password", headers=unsigned)).status_code == 403
    signed = {"X-Instance-ID": sid, "X-Instance-ID-Signature": sign("proxy-secret", sid),
              "X-Tenant-ID": body["tenant_id"]}
    assert (await http.post("/openstack/latest/password", content=b"bmV3",
                            headers=signed)).status_code == 200
    assert (await api.get(f"/servers/{sid}/os-server-password")).json() == {"password": "bmV3"}
    history = [e.metadata.get("actor") for e in await system.store.read_stream(sid)
               if e.event_type == "ServerPasswordSet"]
    assert history == ["metadata-service", "metadata-service"]


# -- migrate, live migrate, evacuate, os-migrations -------------------------------------


async def test_cold_migrate_and_confirm(system: System, api: Api, admin: Api,
                                        driver: FakeDriver) -> None:
    sid = await _active(api)
    source = (await admin.get(f"/servers/{sid}")).json()["server"]["OS-EXT-SRV-ATTR:host"]
    r = await _act(api, sid, {"migrate": None})
    assert r.status_code == 403  # a project manager's or admin's action by default
    assert (await _act(admin, sid, {"migrate": None})).status_code == 202
    body = await admin.wait_status(sid, "VERIFY_RESIZE")
    target = body["OS-EXT-SRV-ATTR:host"]
    assert target != source and body["flavor"]["id"] == "1"
    assert (await _act(admin, sid, {"confirmResize": None})).status_code == 204
    await admin.wait_status(sid, "ACTIVE")
    migrations = (await admin.get("/os-migrations")).json()["migrations"]
    assert len(migrations) == 1
    m = migrations[0]
    assert (m["instance_uuid"], m["status"], m["source_compute"], m["dest_compute"]) == (
        sid, "confirmed", source, target)
    assert m["old_instance_type_id"] == m["new_instance_type_id"] == 1
    assert set(m) == {"created_at", "dest_compute", "dest_host", "dest_node", "id",
                      "instance_uuid", "new_instance_type_id", "old_instance_type_id",
                      "source_compute", "source_node", "status", "updated_at"}
    history = await _actions(api, admin, sid)
    assert [a for a, _ in history][:2] == ["confirmResize", "migrate"]
    await _act(admin, sid, {"pause": None})
    await admin.wait_status(sid, "PAUSED")
    r = await _act(admin, sid, {"migrate": None})
    assert_error(r, 409, "conflictingRequest",
                 f"Cannot 'migrate' instance {sid} while it is in vm_state paused")
    # members see no migrations of the cloud; filters narrow the admin's list
    assert (await api.get("/os-migrations")).status_code == 403
    assert (await admin.get("/os-migrations?status=error")).json() == {"migrations": []}
    assert len((await admin.get(f"/os-migrations?instance_uuid={sid}")).json()[
        "migrations"]) == 1


async def test_live_migrate(system: System, api: Api, admin: Api,
                            driver: FakeDriver) -> None:
    sid = await _active(api)
    source = (await admin.get(f"/servers/{sid}")).json()["server"]["OS-EXT-SRV-ATTR:host"]
    target = "host2" if source == "host1" else "host1"
    body = {"os-migrateLive": {"host": source, "block_migration": False,
                               "disk_over_commit": False}}
    r = await _act(admin, sid, body)
    assert_error(r, 400, "badRequest",
                 f"Unable to migrate instance ({sid}) to current host ({source}).")
    body["os-migrateLive"]["host"] = "nowhere"
    assert_error(await _act(admin, sid, body), 400, "badRequest",
                 "Compute host nowhere could not be found.")
    assert (await _act(admin, sid, {"os-migrateLive": {"host": None}})).status_code == 400
    body["os-migrateLive"] = {"host": None, "block_migration": "auto",
                              "disk_over_commit": False}
    assert (await _act(admin, sid, body)).status_code == 400  # 'auto' only from 2.25
    body["os-migrateLive"] = {"host": None, "block_migration": "false",
                              "disk_over_commit": False}
    assert (await _act(admin, sid, body)).status_code == 202
    after = await admin.wait_status(sid, "ACTIVE")
    await _until(lambda: _on_host(admin, sid, target))
    after = (await admin.get(f"/servers/{sid}")).json()["server"]
    assert after["OS-EXT-SRV-ATTR:host"] == target and driver.calls["live_migrate"] == 1
    assert sid in await driver.list_instances(target)
    assert sid not in await driver.list_instances(source)
    m = (await admin.get("/os-migrations")).json()["migrations"][0]
    assert (m["status"], m["source_compute"], m["dest_compute"]) == ("completed", source,
                                                                     target)
    history = await _actions(api, admin, sid)
    assert history[0] == ("live-migration", [("compute_live_migration", "Success")])
    # the claim moved with the guest
    async with system.pool.acquire() as conn:
        claims = await conn.fetch(
            "SELECT h.host FROM v_host_claims c JOIN v_hosts h USING (stream_id)"
            " WHERE c.server_id = $1", sid)
    assert [r["host"] for r in claims] == [target]
    await _act(admin, sid, {"os-stop": None})
    await admin.wait_status(sid, "SHUTOFF")
    body["os-migrateLive"]["host"] = None
    assert_error(await _act(admin, sid, body), 409, "conflictingRequest",
                 f"Cannot 'os-migrateLive' instance {sid} while it is in vm_state stopped")


async def _on_host(api: Api, sid: str, host: str) -> bool:
    body = (await api.get(f"/servers/{sid}")).json()["server"]
    return bool(body["OS-EXT-SRV-ATTR:host"] == host and body["status"] == "ACTIVE")


async def test_evacuate_from_a_failed_host(fresh_dsn: str) -> None:
    """Two workers, one host each; the first one stops (its host is down), its server is
    rebuilt on the other; when the first comes back it removes the old guest."""
    system = await open_system(fresh_dsn, NOAUTH(), pool_size=10)
    one = FakeDriver([HostSpec("host1", 64, 262144, 4000)])
    two = FakeDriver([HostSpec("host2", 8, 16384, 100)])  # less free RAM: host1 is chosen
    stop_one = asyncio.Event()
    try:
        system.start_scheduler()
        system.start_compute(one, "one", stop_one)
        system.start_compute(two, "two")
        await wait_hosts(system, 2)
        transport = httpx.ASGITransport(app=system.app())
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            api, admin = Api(http, "alice", "project-a"), Api(http, "admin", "admin")
            sid = await _active(api)
            assert (await admin.get(f"/servers/{sid}")).json()["server"][
                "OS-EXT-SRV-ATTR:host"] == "host1"
            r = await _act(admin, sid, {"evacuate": {"onSharedStorage": False}})
            assert_error(r, 400, "badRequest", "Compute service of host1 is still in use.")
            assert (await _act(api, sid, {"evacuate": {"onSharedStorage": False}})
                    ).status_code == 403
            stop_one.set()  # host1's worker goes away
            await _until(lambda: _host_down(system, "host1"))
            r = await _act(admin, sid, {"evacuate": {}})
            assert r.status_code == 400  # onSharedStorage is required before 2.14
            r = await _act(admin, sid, {"evacuate": {"host": "host1", "onSharedStorage": False}})
            assert_error(r, 400, "badRequest", "The target host can't be the same one.")
            r = await _act(admin, sid, {"evacuate": {"host": "nowhere", "onSharedStorage": False}})
            assert_error(r, 404, "itemNotFound", "Compute host nowhere not found.")
            r = await _act(admin, sid, {"evacuate": {"onSharedStorage": False,
                                                    "adminPass": "MySecretPass"}})
            assert r.status_code == 200 and r.json() == {"adminPass": "MySecretPass"}
            await _until(lambda: _on_host(admin, sid, "host2"))
            assert sid in two.instance_ids()
            m = (await admin.get("/os-migrations")).json()["migrations"][0]
            assert (m["status"], m["source_compute"], m["dest_compute"]) == (
                "done", "host1", "host2")
            history = await _actions(api, admin, sid)
            assert history[0] == ("evacuate", [("compute_rebuild_instance", "Success")])
            # at 2.14 there is no onSharedStorage and no body
            r = await _act(admin.at("2.14"), sid, {"evacuate": {"onSharedStorage": False}})
            assert r.status_code == 400
            assert sid in one.instance_ids()  # the old copy is still on the dead host
            system.start_compute(one, "one")  # host1 comes back and cleans up
            await _until(lambda: _gone(one, sid))
            assert sid in two.instance_ids()
    finally:
        await system.close()


async def _host_down(system: System, host: str) -> bool:
    from control_plane.service.handlers.hosts import host_is_up

    async with system.pool.acquire() as conn:
        return not await host_is_up(conn, host)


# -- periodic: resize auto-confirm, shelved offload ---------------------------------------


async def test_resize_is_confirmed_after_the_window(system: System, api: Api,
                                                    admin: Api) -> None:
    system.settings.resize_confirm_window = 1
    sid = await _active(api)
    await _act(api, sid, {"resize": {"flavorRef": "2"}})
    await api.wait_status(sid, "VERIFY_RESIZE")
    body = await api.wait_status(sid, "ACTIVE", timeout=10)
    assert body["flavor"]["id"] == "2"
    history = await _actions(api, admin, sid)
    assert history[0] == ("confirmResize", [("compute_confirm_resize", "Success")])


async def test_shelved_server_is_offloaded_after_the_time(system: System, api: Api,
                                                          admin: Api) -> None:
    system.settings.shelved_offload_time = 1
    sid = await _active(api)
    await _act(api, sid, {"shelve": None})
    body = await admin.wait_status(sid, "SHELVED")
    assert body["OS-EXT-SRV-ATTR:host"]
    body = await admin.wait_status(sid, "SHELVED_OFFLOADED", timeout=10)
    assert body["OS-EXT-SRV-ATTR:host"] is None


# -- history: a rebuild from zero gives the same views -----------------------------------


async def test_views_rebuild_identically(system: System, api: Api, admin: Api) -> None:
    system.settings.reclaim_instance_interval = 3600
    a, b = await _active(api, "a"), await _active(api, "b")
    await _act(admin, a, {"migrate": None})
    await admin.wait_status(a, "VERIFY_RESIZE")
    await _act(admin, a, {"revertResize": None})
    await admin.wait_status(a, "ACTIVE")
    await _act(api, b, {"rescue": None})
    await api.wait_status(b, "RESCUE")
    await api.delete(f"/servers/{a}")
    await api.wait_status(a, "SOFT_DELETED")
    tables = ("v_servers", "v_migrations", "v_instance_actions", "v_instance_action_events")

    async def dump() -> dict[str, list[Any]]:
        async with system.pool.acquire() as conn:
            return {t: [dict(r) for r in await conn.fetch(f"SELECT * FROM {t} ORDER BY 1, 2")]
                    for t in tables}

    before = await dump()
    assert before["v_migrations"][0]["status"] == "reverted"
    for p in all_projections():
        await system.runner.rebuild(p.name)
    assert await dump() == before
    uow = UnitOfWork(system.store)
    server = await uow.get(Server, uuid.UUID(a))
    assert server is not None and server.vm_state == "soft-delete"


async def test_resize_up_beyond_quota_is_forbidden(system: System, api: Api) -> None:
    sid = await _active(api)
    system.settings.quotas["ram"] = 1024
    r = await _act(api, sid, {"resize": {"flavorRef": "2"}})
    assert_error(r, 403, "forbidden",
                 "Quota exceeded for ram: Requested 1536, but already used 512 of 1024 ram")
    system.settings.quotas["ram"] = -1
    assert (await _act(api, sid, {"resize": {"flavorRef": "2"}})).status_code == 202


async def test_admin_password_and_personality_reach_the_guest(system: System, api: Api,
                                                              driver: FakeDriver) -> None:
    files = [{"path": "/etc/motd", "contents": "aGVsbG8="}]
    r = await api.post("/servers", {"server": {
        "name": "p", "flavorRef": "1", "imageRef": IMAGE, "adminPass": "first-Pass",
        "personality": files}})
    assert r.status_code == 202 and r.json()["server"]["adminPass"] == "first-Pass"
    sid = r.json()["server"]["id"]
    await api.wait_status(sid, "ACTIVE")
    assert driver.passwords[sid] == "first-Pass"
    assert driver.files[sid] == {"/etc/motd": b"hello"}
    r = await _act(api, sid, {"rebuild": {"imageRef": IMAGE, "personality": [
        {"path": "/etc/issue", "contents": "d29ybGQ="}]}})
    generated = r.json()["server"]["adminPass"]
    await api.wait_status(sid, "ACTIVE")
    await _until(lambda: _password_is(driver, sid, generated))
    assert driver.files[sid] == {"/etc/issue": b"world"}
    async with system.pool.acquire() as conn:
        leaked = await conn.fetchval("SELECT count(*) FROM events WHERE data::text LIKE"
                                     " '%first-Pass%' OR data::text LIKE '%' || $1 || '%'",
                                     generated)
    assert leaked == 0
    # Nova's limits on injected files: 403 beyond the quotas, 400 for bad base64
    too_many = [{"path": f"/f{i}", "contents": ""} for i in range(6)]
    r = await api.post("/servers", {"server": {"name": "q", "flavorRef": "1",
                                                "imageRef": IMAGE, "personality": too_many}})
    assert_error(r, 403, "forbidden", "Personality file limit exceeded")
    r = await _act(api, sid, {"rebuild": {"imageRef": IMAGE, "personality": [
        {"path": "/x", "contents": "!!"}]}})
    # the schema's base64 format, as Nova's personality item schema
    assert_error(r, 400, "badRequest",
                 "Invalid input for field/attribute contents. Value: !!. '!!' is not a 'base64'")
    big = [{"path": "/x", "contents": "QUFB" * 4000}]
    r = await _act(api, sid, {"rebuild": {"imageRef": IMAGE, "personality": big}})
    assert_error(r, 403, "forbidden", "Personality file content exceeds maximum 10240")


async def test_events_before_v2_replay(system: System, api: Api) -> None:
    """ServerCreated and ServerRebuildRequested v1 (no password, no files) still replay:
    the upcasters fill in what v2 added."""
    sid = await _active(api)
    async with system.pool.acquire() as conn:
        await conn.execute(
            "UPDATE events SET data = data - 'admin_pass' - 'files', schema_version = 1"
            " WHERE stream_id = $1 AND event_type = 'ServerCreated'", sid)
    server = await UnitOfWork(system.store).get(Server, uuid.UUID(sid))
    assert server is not None and server.admin_pass == "" and server.files == []
    assert server.vm_state == "active"
