"""/servers over HTTP: bodies as Nova shows them, filters, paging, multiple create, errors."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import uuid

from control_plane.bootstrap import System
from tests.conftest import IMAGE, IMAGE_ALT, Api

DETAIL_KEYS_21 = {
    "id", "name", "status", "tenant_id", "user_id", "metadata", "hostId", "image", "flavor",
    "created", "updated", "addresses", "accessIPv4", "accessIPv6", "links",
    "OS-DCF:diskConfig", "key_name", "config_drive", "security_groups",
    "OS-EXT-AZ:availability_zone", "OS-EXT-STS:task_state", "OS-EXT-STS:vm_state",
    "OS-EXT-STS:power_state", "OS-SRV-USG:launched_at", "OS-SRV-USG:terminated_at",
    "os-extended-volumes:volumes_attached", "progress",
}
ADMIN_KEYS_21 = {"OS-EXT-SRV-ATTR:host", "OS-EXT-SRV-ATTR:hypervisor_hostname",
                 "OS-EXT-SRV-ATTR:instance_name"}
ADMIN_KEYS_23 = {"OS-EXT-SRV-ATTR:reservation_id", "OS-EXT-SRV-ATTR:launch_index",
                 "OS-EXT-SRV-ATTR:hostname", "OS-EXT-SRV-ATTR:kernel_id",
                 "OS-EXT-SRV-ATTR:ramdisk_id", "OS-EXT-SRV-ATTR:root_device_name",
                 "OS-EXT-SRV-ATTR:user_data"}


async def test_create_response_and_location(api: Api) -> None:
    r = await api.post("/servers", {"server": {"name": "web", "flavorRef": "1",
                                               "imageRef": IMAGE, "adminPass": "s3cret"}})
    assert r.status_code == 202
    body = r.json()["server"]
    assert set(body) == {"id", "links", "OS-DCF:diskConfig", "security_groups", "adminPass"}
    assert body["adminPass"] == "s3cret"
    assert body["security_groups"] == [{"name": "default"}]
    assert r.headers["location"] == body["links"][0]["href"]
    assert body["links"][0]["href"].endswith(f"/v2.1/servers/{body['id']}")
    assert body["links"][1]["rel"] == "bookmark"
    generated = await api.create_server("other")
    assert len(generated["adminPass"]) == 12


async def test_show_detail_fields_as_nova(api: Api, admin: Api) -> None:
    created = await api.create_server("shown", metadata={"role": "db"}, key_name=None) \
        if False else await api.create_server("shown", metadata={"role": "db"})
    body = await api.wait_status(created["id"], "ACTIVE")
    assert set(body) == DETAIL_KEYS_21
    assert body["tenant_id"] == "project-a" and body["user_id"] == "alice"
    assert body["metadata"] == {"role": "db"}
    assert body["image"]["id"] == IMAGE and body["flavor"]["id"] == "1"
    assert body["hostId"] == hashlib.sha224(
        ("project-a" + (await admin.get(f"/servers/{created['id']}")).json()["server"][
            "OS-EXT-SRV-ATTR:host"]).encode()).hexdigest()
    assert body["created"].endswith("Z") and len(body["created"]) == 20
    assert body["OS-SRV-USG:launched_at"] is not None
    assert not body["OS-SRV-USG:launched_at"].endswith("Z")
    assert body["OS-EXT-STS:power_state"] == 1 and body["progress"] == 100
    assert body["config_drive"] == ""
    addr = body["addresses"]["private"][0]
    assert set(addr) == {"version", "addr", "OS-EXT-IPS:type", "OS-EXT-IPS-MAC:mac_addr"}
    admin_body = (await admin.get(f"/servers/{created['id']}")).json()["server"]
    assert set(admin_body) == DETAIL_KEYS_21 | ADMIN_KEYS_21
    at23 = (await admin.at("2.3").get(f"/servers/{created['id']}")).json()["server"]
    assert set(at23) == DETAIL_KEYS_21 | ADMIN_KEYS_21 | ADMIN_KEYS_23
    at29 = (await api.at("2.9").get(f"/servers/{created['id']}")).json()["server"]
    assert at29["locked"] is False and "locked" not in body
    listed = (await api.get("/servers/detail")).json()["servers"]
    assert [s["id"] for s in listed] == [created["id"]]
    assert set(listed[0]) == DETAIL_KEYS_21


async def test_list_brief_and_empty(api: Api, other: Api) -> None:
    assert (await api.get("/servers")).json() == {"servers": []}
    server = await api.create_server("brief")
    body = (await api.get("/servers")).json()
    assert body["servers"][0].keys() == {"id", "name", "links"}
    assert body["servers"][0]["id"] == server["id"]
    assert (await other.get("/servers")).json() == {"servers": []}


async def test_tenant_isolation(api: Api, other: Api, admin: Api) -> None:
    mine = await api.create_server("mine")
    sid = mine["id"]
    for method, path, body in (
        ("GET", f"/servers/{sid}", None),
        ("PUT", f"/servers/{sid}", {"server": {"name": "stolen"}}),
        ("DELETE", f"/servers/{sid}", None),
        ("GET", f"/servers/{sid}/os-instance-actions", None),
    ):
        r = await other.request(method, path, json=body)
        assert r.status_code == 404, (method, path, r.text)
        assert r.json()["itemNotFound"]["message"] == f"Instance {sid} could not be found."
    r = await other.get("/servers/detail?all_tenants=1")
    assert r.status_code == 403
    assert r.json()["forbidden"]["message"] == (
        "Policy doesn't allow os_compute_api:servers:detail:get_all_tenants to be performed.")
    theirs = await other.create_server("theirs")
    everyone = (await admin.get("/servers?all_tenants=1")).json()["servers"]
    assert {s["id"] for s in everyone} >= {sid, theirs["id"]}
    assert (await admin.get("/servers")).json()["servers"] == []  # admin's own project
    only_b = (await admin.get("/servers?all_tenants=1&tenant_id=project-b")).json()["servers"]
    assert [s["id"] for s in only_b] == [theirs["id"]]
    assert (await api.get(f"/servers/{sid}")).status_code == 200


async def test_filters(api: Api, admin: Api) -> None:
    a = await api.create_server("alpha-1")
    b = await api.create_server("alpha-2", flavor="2", image=IMAGE_ALT)
    c = await api.create_server("beta")
    for s in (a, b, c):
        await api.wait_status(s["id"], "ACTIVE")

    async def names(query: str, who: Api = api) -> set[str]:
        r = await who.get(f"/servers?{query}")
        assert r.status_code == 200, r.text
        return {s["name"] for s in r.json()["servers"]}

    assert await names("name=alpha") == {"alpha-1", "alpha-2"}
    assert await names("name=^al.*1$") == {"alpha-1"}
    assert await names(f"image={IMAGE_ALT}") == {"alpha-2"}
    assert await names("flavor=2") == {"alpha-2"}
    assert await names("flavor=999") == set()
    assert await names("status=ACTIVE") == {"alpha-1", "alpha-2", "beta"}
    assert await names("status=active") == {"alpha-1", "alpha-2", "beta"}
    assert await names("status=BUILD") == set()
    assert await names("status=NOT_A_STATUS") == set()
    host = (await admin.get(f"/servers/{c['id']}")).json()["server"]["OS-EXT-SRV-ATTR:host"]
    assert "beta" in await names(f"all_tenants=1&host={host}", admin)
    assert await names("host=nowhere") == {"alpha-1", "alpha-2", "beta"}  # ignored: not admin
    assert await names("unknown_filter=1") == {"alpha-1", "alpha-2", "beta"}
    r = await api.get("/servers?status=DELETED")
    assert r.status_code == 403
    bad = await api.get("/servers?name=(")
    assert bad.status_code == 400


async def test_changes_since_includes_deleted(api: Api) -> None:
    s = await api.create_server("gone")
    await api.wait_status(s["id"], "ACTIVE")
    r = await api.get("/servers?changes-since=2000-01-01T00:00:00Z")
    before = r.json()["servers"]
    assert [x["id"] for x in before] == [s["id"]]
    await api.delete(f"/servers/{s['id']}")
    await api.wait_status(s["id"], "DELETED")
    assert (await api.get("/servers")).json()["servers"] == []
    detail = (await api.get("/servers/detail?changes-since=2000-01-01T00:00:00Z")).json()
    assert [(x["id"], x["status"]) for x in detail["servers"]] == [(s["id"], "DELETED")]
    assert (await api.get("/servers?changes-since=2999-01-01T00:00:00Z")).json()["servers"] == []
    bad = await api.get("/servers?changes-since=yesterday")
    assert bad.status_code == 400
    assert bad.json()["badRequest"]["message"] == "Invalid changes-since value"


async def test_paging_with_limit_and_marker(api: Api) -> None:
    r = await api.post("/servers", {"server": {"name": "page", "flavorRef": "42",
                                               "imageRef": IMAGE, "max_count": 5}})
    assert r.status_code == 202
    everything = (await api.get("/servers")).json()["servers"]
    assert len(everything) == 5
    first = (await api.get("/servers?limit=2")).json()
    assert [s["id"] for s in first["servers"]] == [s["id"] for s in everything[:2]]
    (link,) = first["servers_links"]
    assert link["rel"] == "next" and f"marker={everything[1]['id']}" in link["href"]
    assert "limit=2" in link["href"]
    second = (await api.get(f"/servers?limit=2&marker={everything[1]['id']}")).json()
    assert [s["id"] for s in second["servers"]] == [s["id"] for s in everything[2:4]]
    last = (await api.get(f"/servers?limit=2&marker={everything[3]['id']}")).json()
    assert [s["id"] for s in last["servers"]] == [everything[4]["id"]]
    assert "servers_links" not in last
    missing = str(uuid.uuid4())
    r = await api.get(f"/servers?marker={missing}")
    assert r.status_code == 400
    assert r.json()["badRequest"]["message"] == f"marker [{missing}] not found"
    for bad in ("-1", "x"):
        assert (await api.get(f"/servers?limit={bad}")).status_code == 400
    asc = (await api.get("/servers/detail?sort_key=display_name&sort_dir=asc")).json()
    assert [s["name"] for s in asc["servers"]] == [f"page-{i}" for i in range(1, 6)]
    assert (await api.get("/servers?sort_key=bogus")).status_code == 400
    assert (await api.get("/servers?sort_dir=sideways")).status_code == 400


async def test_multiple_create(api: Api) -> None:
    r = await api.post("/servers", {"server": {"name": "many", "flavorRef": "1",
                                               "imageRef": IMAGE, "min_count": 2,
                                               "max_count": 3, "return_reservation_id": True}})
    assert r.status_code == 202
    reservation = r.json()["reservation_id"]
    assert reservation.startswith("r-") and set(r.json()) == {"reservation_id"}
    listed = (await api.get(f"/servers?reservation_id={reservation}")).json()["servers"]
    assert sorted(s["name"] for s in listed) == ["many-1", "many-2", "many-3"]
    r = await api.post("/servers", {"server": {"name": "x", "flavorRef": "1",
                                               "imageRef": IMAGE, "min_count": 3,
                                               "max_count": 2}})
    assert r.status_code == 400
    assert r.json()["badRequest"]["message"] == "min_count must be <= max_count"
    # quota: 10 instances by default; 3 used; asking for at least 8 is refused
    r = await api.post("/servers", {"server": {"name": "x", "flavorRef": "1",
                                               "imageRef": IMAGE, "min_count": 8}})
    assert r.status_code == 403
    assert r.json()["forbidden"]["message"] == (
        "Quota exceeded for instances: Requested 8, but already used 3 of 10 instances")
    # between min and max: as many as fit are built
    r = await api.post("/servers", {"server": {"name": "fill", "flavorRef": "1",
                                               "imageRef": IMAGE, "min_count": 1,
                                               "max_count": 50}})
    assert r.status_code == 202
    assert len((await api.get("/servers?name=^fill")).json()["servers"]) == 7
    for value in (0, "0", -1, "x"):
        r = await api.post("/servers", {"server": {"name": "x", "flavorRef": "1",
                                                   "imageRef": IMAGE, "min_count": value}})
        assert r.status_code == 400, value


async def test_update(api: Api) -> None:
    s = await api.create_server("before")
    await api.wait_status(s["id"], "ACTIVE")
    r = await api.put(f"/servers/{s['id']}", {"server": {
        "name": "after", "accessIPv4": "192.0.2.10", "accessIPv6": "2001:db8::1",
        "OS-DCF:diskConfig": "AUTO"}})
    assert r.status_code == 200, r.text
    body = r.json()["server"]
    assert body["name"] == "after" and body["accessIPv4"] == "192.0.2.10"
    assert body["accessIPv6"] == "2001:db8::1" and body["OS-DCF:diskConfig"] == "AUTO"
    assert "key_name" not in body and "OS-EXT-STS:vm_state" not in body
    assert set(body["addresses"]["private"][0]) == {"version", "addr"}
    shown = (await api.get(f"/servers/{s['id']}")).json()["server"]
    assert shown["name"] == "after" and shown["updated"] >= shown["created"]
    for bad in ({"server": {"name": ""}}, {"server": {"name": " lead"}},
                {"server": {"accessIPv4": "not-an-ip"}}, {"server": {"bogus": 1}},
                {"server": {"OS-DCF:diskConfig": "SOMETIMES"}}, {"nope": {}}):
        r = await api.put(f"/servers/{s['id']}", bad)
        assert r.status_code == 400, (bad, r.text)
    assert (await api.put(f"/servers/{uuid.uuid4()}", {"server": {"name": "x"}})
            ).status_code == 404


async def test_bad_create_input(api: Api) -> None:
    async def create(server: object) -> tuple[int, str]:
        r = await api.post("/servers", {"server": server})
        return r.status_code, next(iter(r.json().values()))["message"]

    base = {"name": "bad", "flavorRef": "1", "imageRef": IMAGE}
    assert await create({**base, "flavorRef": "999"}) == (400, "Invalid flavorRef provided.")
    assert await create({**base, "imageRef": str(uuid.uuid4())}) == (
        400, "Can not find requested image")
    assert await create({**base, "imageRef": "not-a-uuid"}) == (
        400, "Invalid imageRef provided.")
    assert await create({**base, "key_name": "nokey"}) == (400, "Invalid key_name provided.")
    code, msg = await create({"flavorRef": "1", "imageRef": IMAGE})
    assert code == 400 and "'name' is a required property" in msg
    code, msg = await create({**base, "name": 5})
    assert code == 400 and msg.startswith("Invalid input for field/attribute name. Value: 5.")
    assert (await create({**base, "name": "x" * 256}))[0] == 400
    assert (await create({**base, "bogus": True}))[0] == 400
    assert (await create({**base, "metadata": {"k": 1}}))[0] == 400
    assert (await create({**base, "accessIPv4": "300.1.1.1"}))[0] == 400
    assert (await create({**base, "user_data": "!!not base64!!"}))[0] == 400
    assert (await create({**base, "config_drive": "maybe"})) == (
        400, "Invalid config_drive provided.")
    code, msg = await create({**base, "metadata": {f"k{i}": "v" for i in range(129)}})
    assert (code, msg) == (403, "Maximum number of metadata items exceeds 128")
    r = await api.post("/servers", {"server": base, "extra": 1})
    assert r.status_code == 400
    r = await api.http.post("/v2.1/servers", content=b"{not json",
                            headers=api.headers({"Content-Type": "application/json"}))
    assert r.status_code == 400
    assert r.json() == {"badRequest": {"code": 400, "message": "Malformed request body"}}
    r = await api.http.post("/v2.1/servers", content=b"[1, 2]",
                            headers=api.headers({"Content-Type": "application/json"}))
    assert r.status_code == 400
    r = await api.http.post("/v2.1/servers", content=b'{"server": {"name": "' + b"x" * 120000
                            + b'"}}', headers=api.headers({"Content-Type": "application/json"}))
    assert r.status_code == 413 and "overLimit" in r.json()
    for bad_id in ("not-a-uuid", str(uuid.uuid4())):
        r = await api.get(f"/servers/{bad_id}")
        assert r.status_code == 404
        assert r.json()["itemNotFound"]["message"] == f"Instance {bad_id} could not be found."
        assert (await api.delete(f"/servers/{bad_id}")).status_code == 404
    # nothing above left a half-written server behind
    assert (await api.get("/servers")).json()["servers"] == []


async def test_user_data_and_boot_from_block_device_mapping(api: Api, admin: Api) -> None:
    data = base64.b64encode(b"#!/bin/sh\necho hi\n").decode()
    r = await api.post("/servers", {"server": {
        "name": "bdm", "flavorRef": "1", "imageRef": "", "user_data": data,
        "config_drive": True,
        "block_device_mapping_v2": [{"uuid": IMAGE, "boot_index": "0", "source_type": "image",
                                     "destination_type": "local",
                                     "delete_on_termination": True}]}})
    assert r.status_code == 202, r.text
    sid = r.json()["server"]["id"]
    body = (await admin.at("2.3").get(f"/servers/{sid}")).json()["server"]
    assert body["image"]["id"] == IMAGE
    assert body["OS-EXT-SRV-ATTR:user_data"] == data
    assert body["config_drive"] == "True"
    r = await api.post("/servers", {"server": {"name": "noimg", "flavorRef": "1"}})
    assert r.status_code == 400
    assert r.json()["badRequest"]["message"] == "Missing imageRef attribute"


async def test_hundred_concurrent_updates_keep_a_consistent_history(
    system: System, api: Api
) -> None:
    s = await api.create_server("busy")
    await api.wait_status(s["id"], "ACTIVE")
    results = await asyncio.gather(*(
        api.put(f"/servers/{s['id']}", {"server": {"name": f"n{i}"}}) for i in range(100)))
    assert all(r.status_code == 200 for r in results), [r.text for r in results
                                                         if r.status_code != 200][:3]
    events = await system.store.read_stream(s["id"])
    updates = [e for e in events if e.event_type == "ServerUpdated"]
    assert len(updates) == 100
    assert sorted(e.data["changes"]["name"] for e in updates) == sorted(
        f"n{i}" for i in range(100))
    assert [e.stream_version for e in events] == list(range(1, len(events) + 1))
    final = (await api.get(f"/servers/{s['id']}")).json()["server"]["name"]
    assert final == updates[-1].data["changes"]["name"]


async def test_racing_deletes_delete_once(system: System, api: Api) -> None:
    s = await api.create_server("racy")
    await api.wait_status(s["id"], "ACTIVE")
    results = await asyncio.gather(*(api.delete(f"/servers/{s['id']}") for _ in range(10)))
    assert {r.status_code for r in results} <= {204, 404}
    assert any(r.status_code == 204 for r in results)
    await api.wait_status(s["id"], "DELETED")
    events = [e.event_type for e in await system.store.read_stream(s["id"])]
    assert events.count("ServerDeleted") == 1


async def test_instance_actions(api: Api, admin: Api) -> None:
    s = await api.create_server("acted")
    await api.wait_status(s["id"], "ACTIVE")
    actions = (await api.get(f"/servers/{s['id']}/os-instance-actions")).json()
    (create,) = actions["instanceActions"]
    assert set(create) == {"action", "instance_uuid", "message", "project_id", "request_id",
                           "start_time", "user_id"}
    assert create["action"] == "create" and create["user_id"] == "alice"
    assert create["request_id"].startswith("req-")
    shown = (await admin.get(f"/servers/{s['id']}/os-instance-actions/"
                             f"{create['request_id']}")).json()["instanceAction"]
    assert {e["event"] for e in shown["events"]} == {
        "conductor_schedule_and_build_instances", "compute__do_build_and_run_instance"}
    assert all(e["result"] == "Success" for e in shown["events"])
    r = await api.get(f"/servers/{s['id']}/os-instance-actions/req-nope")
    assert r.status_code == 404
    assert r.json()["itemNotFound"]["message"] == "Action req-nope not found"


async def test_access_ips_are_canonical_and_unknown_collections_404(api: Api) -> None:
    s = await api.create_server("ips", accessIPv6="0000:0000:0000:0000:0000:babe:220.12.22.2")
    body = (await api.get(f"/servers/{s['id']}")).json()["server"]
    assert body["accessIPv6"] == "::babe:dc0c:1602"
    for path in ("/os-no-such-thing", "/os-hosts-bogus", "/servers-x/y"):
        r = await api.get(path)
        assert r.status_code == 404 and "itemNotFound" in r.json(), path
    # a project id in the path still serves the version document
    assert (await api.get("/project-a")).json()["version"]["id"] == "v2.1"
