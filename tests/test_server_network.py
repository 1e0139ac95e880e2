"""Server networking over HTTP with the fake driver: the default network's allocations,
port interfaces (os-interface), virtual interfaces, fixed and floating IP actions,
injectNetworkInfo / resetNetwork, release on delete, and rebuilds from zero."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from control_plane.bootstrap import System
from control_plane.context import RequestContext
from control_plane.domain.networks import commands as c
from control_plane.domain.networks.aggregate import DEFAULT_NETWORK_ID, Network
from control_plane.service.uow import UnitOfWork
from drivers.fake import FakeDriver
from tests.conftest import Api, assert_error

NET = str(DEFAULT_NETWORK_ID)


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition never became true")
        await asyncio.sleep(0.02)


async def active(api: Api, name: str = "net") -> str:
    sid: str = (await api.create_server(name))["id"]
    await api.wait_status(sid, "ACTIVE")
    return sid


async def addresses(api: Api, sid: str) -> list[dict[str, Any]]:
    body = (await api.get(f"/servers/{sid}")).json()["server"]
    found: list[dict[str, Any]] = body["addresses"].get("private", [])
    return found


async def interfaces(api: Api, sid: str) -> list[dict[str, Any]]:
    r = await api.get(f"/servers/{sid}/os-interface")
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["interfaceAttachments"]
    return found


async def action(api: Api, sid: str, body: dict[str, Any]) -> httpx.Response:
    return await api.post(f"/servers/{sid}/action", body)


async def events_of(admin: Api, sid: str, name: str) -> list[dict[str, Any]]:
    actions = (await admin.get(f"/servers/{sid}/os-instance-actions")).json()
    found = [a for a in actions["instanceActions"] if a["action"] == name]
    assert found, actions
    detail = (await admin.get(f"/servers/{sid}/os-instance-actions/"
                              f"{found[0]['request_id']}")).json()["instanceAction"]
    events: list[dict[str, Any]] = detail["events"]
    return events


async def test_boot_port_comes_from_the_network_allocation(api: Api, driver: FakeDriver
                                                           ) -> None:
    first, second = await active(api, "a"), await active(api, "b")
    (addr,) = await addresses(api, first)
    assert addr["OS-EXT-IPS:type"] == "fixed" and addr["version"] == 4
    assert ipaddress.ip_address(addr["addr"]) in ipaddress.ip_network("10.0.0.0/16")
    assert addr["addr"] != "10.0.0.1"  # the gateway
    assert addr["addr"] != (await addresses(api, second))[0]["addr"]
    (port,) = await interfaces(api, first)
    assert port["port_state"] == "ACTIVE" and port["net_id"] == NET
    assert port["mac_addr"] == addr["OS-EXT-IPS-MAC:mac_addr"]
    assert [ip["ip_address"] for ip in port["fixed_ips"]] == [addr["addr"]]
    # the driver plugged exactly the allocated port
    assert list(driver.interfaces[first]) == [port["port_id"]]
    r = await api.get(f"/servers/{first}/os-interface/{port['port_id']}")
    assert r.json() == {"interfaceAttachment": port}
    # os-virtual-interfaces: the same port; the network from 2.12
    vifs = (await api.get(f"/servers/{first}/os-virtual-interfaces")).json()
    assert vifs == {"virtual_interfaces": [{"id": port["port_id"],
                                            "mac_address": port["mac_addr"]}]}
    vifs = (await api.at("2.12").get(f"/servers/{first}/os-virtual-interfaces")).json()
    assert vifs["virtual_interfaces"][0]["net_id"] == NET
    # another server's port is not this server's
    (other_port,) = await interfaces(api, second)
    r = await api.get(f"/servers/{first}/os-interface/{other_port['port_id']}")
    assert_error(r, 404, "itemNotFound",
                 f"Instance {first} does not have a port with id {other_port['port_id']}")


async def test_attach_and_detach_interface(api: Api, admin: Api, driver: FakeDriver) -> None:
    sid = await active(api)
    r = await api.post(f"/servers/{sid}/os-interface",
                       {"interfaceAttachment": {"net_id": NET,
                                                "fixed_ips": [{"ip_address": "10.0.7.7"}]}})
    assert r.status_code == 200, r.text
    new = r.json()["interfaceAttachment"]
    assert set(new) == {"fixed_ips", "mac_addr", "net_id", "port_id", "port_state"}
    assert new["fixed_ips"][0]["ip_address"] == "10.0.7.7" and new["net_id"] == NET

    async def plugged() -> bool:
        return any(p["port_id"] == new["port_id"] and p["port_state"] == "ACTIVE"
                   for p in await interfaces(api, sid))
    await eventually(plugged)
    assert driver.calls["attach_interface"] == 1
    assert new["port_id"] in driver.interfaces[sid]
    shown = await addresses(api, sid)
    assert [a["addr"] for a in shown][1:] == ["10.0.7.7"]
    assert shown[1]["OS-EXT-IPS-MAC:mac_addr"] == new["mac_addr"]
    ips = (await api.get(f"/servers/{sid}/ips")).json()["addresses"]["private"]
    assert [a["addr"] for a in ips] == [a["addr"] for a in shown]
    events = await events_of(admin, sid, "attach_interface")
    assert [(e["event"], e["result"]) for e in events] == \
        [("compute_attach_interface", "Success")]
    # without a body: a port on the default network, next free address
    r = await api.post(f"/servers/{sid}/os-interface", None)
    assert r.status_code == 200, r.text
    third = r.json()["interfaceAttachment"]
    assert third["port_state"] == "DOWN" and third["fixed_ips"][0]["ip_address"] != "10.0.7.7"

    # detach
    r = await api.delete(f"/servers/{sid}/os-interface/{new['port_id']}")
    assert r.status_code == 202, r.text

    async def unplugged() -> bool:
        return all(p["port_id"] != new["port_id"] for p in await interfaces(api, sid))
    await eventually(unplugged)
    assert driver.calls["detach_interface"] == 1
    assert new["port_id"] not in driver.interfaces[sid]
    assert "10.0.7.7" not in [a["addr"] for a in await addresses(api, sid)]
    events = await events_of(admin, sid, "detach_interface")
    assert [(e["event"], e["result"]) for e in events] == \
        [("compute_detach_interface", "Success")]
    # the address is free again
    r = await api.post(f"/servers/{sid}/os-interface",
                       {"interfaceAttachment": {"net_id": NET,
                                                "fixed_ips": [{"ip_address": "10.0.7.7"}]}})
    assert r.status_code == 200, r.text


async def test_interface_requests_refused(api: Api, admin: Api, other: Api) -> None:
    sid = await active(api)
    base = f"/servers/{sid}/os-interface"
    (boot,) = await interfaces(api, sid)
    boot_ip = boot["fixed_ips"][0]["ip_address"]
    unknown = "5d4f0b6e-1c2d-4e3f-9a8b-7c6d5e4f3a2b"
    r = await api.post(base, {"interfaceAttachment": {"net_id": unknown}})
    assert_error(r, 404, "itemNotFound", f"Network {unknown} could not be found.")
    r = await api.post(base, {"interfaceAttachment": {"port_id": unknown}})
    assert_error(r, 404, "itemNotFound", f"Port id {unknown} could not be found.")
    r = await api.post(base, {"interfaceAttachment": {"port_id": boot["port_id"]}})
    assert_error(r, 409, "conflictingRequest", f"Port {boot['port_id']} is still in use.")
    r = await api.post(base, {"interfaceAttachment": {"net_id": NET, "port_id": unknown}})
    assert_error(r, 400, "badRequest", "Must not input both network_id and port_id")
    r = await api.post(base, {"interfaceAttachment": {"fixed_ips": [{"ip_address": boot_ip}]}})
    assert_error(r, 400, "badRequest", "Must input network_id when request IP address")
    r = await api.post(base, {"interfaceAttachment": {
        "net_id": NET, "fixed_ips": [{"ip_address": "192.168.9.9"}]}})
    assert_error(r, 400, "badRequest", f"IP 192.168.9.9 is not a valid IP for network {NET}.")
    r = await api.post(base, {"interfaceAttachment": {
        "net_id": NET, "fixed_ips": [{"ip_address": boot_ip}]}})
    assert_error(r, 409, "conflictingRequest",
                 f"Fixed IP address {boot_ip} is already in use on instance {sid}.")
    r = await api.post(base, {"interfaceAttachment": {"net_id": "not-a-uuid"}})
    assert r.status_code == 400
    r = await api.delete(f"{base}/{unknown}")
    assert_error(r, 404, "itemNotFound", f"Port id {unknown} could not be found.")
    assert (await other.get(base)).status_code == 404
    # a server in the wrong state
    assert (await action(admin, sid, {"os-resetState": {"state": "error"}})).status_code == 202
    r = await api.post(base, {"interfaceAttachment": {}})
    assert_error(r, 409, "conflictingRequest",
                 f"Cannot 'attach_interface' instance {sid} while it is in vm_state error")
    r = await api.delete(f"{base}/{boot['port_id']}")
    assert_error(r, 409, "conflictingRequest",
                 f"Cannot 'detach_interface' instance {sid} while it is in vm_state error")
    assert len(await interfaces(api, sid)) == 1  # nothing was allocated by the refusals


async def test_failed_hot_plug_releases_the_port(api: Api, admin: Api, driver: FakeDriver
                                                 ) -> None:
    sid = await active(api)
    driver.fail_next_interface_operations(1)
    r = await api.post(f"/servers/{sid}/os-interface", {"interfaceAttachment": {}})
    assert r.status_code == 200
    port_id = r.json()["interfaceAttachment"]["port_id"]

    async def gone() -> bool:
        return all(p["port_id"] != port_id for p in await interfaces(api, sid))
    await eventually(gone)
    events = await events_of(admin, sid, "attach_interface")
    assert [(e["event"], e["result"]) for e in events] == \
        [("compute_attach_interface", "Error")]
    assert "injected interface failure" in events[0]["traceback"]
    assert len(await addresses(api, sid)) == 1


async def test_add_and_remove_fixed_ip(api: Api, driver: FakeDriver) -> None:
    sid = await active(api)
    (boot,) = await addresses(api, sid)
    r = await action(api, sid, {"addFixedIp": {"networkId": NET}})
    assert r.status_code == 202, r.text
    shown = await addresses(api, sid)
    assert len(shown) == 2 and shown[0] == boot
    added = shown[1]["addr"]
    # the same port (one interface), now with two addresses
    (port,) = await interfaces(api, sid)
    assert [ip["ip_address"] for ip in port["fixed_ips"]] == [boot["addr"], added]
    assert shown[1]["OS-EXT-IPS-MAC:mac_addr"] == boot["OS-EXT-IPS-MAC:mac_addr"]

    async def injected(n: int) -> bool:
        return driver.calls.get("inject_network_info", 0) == n
    await eventually(lambda: injected(1))
    assert driver.network_info[sid][0]["ips"] == [boot["addr"], added]
    r = await action(api, sid, {"removeFixedIp": {"address": added}})
    assert r.status_code == 202, r.text
    assert await addresses(api, sid) == [boot]
    await eventually(lambda: injected(2))
    # refused
    unknown = "a3c1e5f7-0b2d-4f6a-8c9e-1d3b5f7a9c0e"
    r = await action(api, sid, {"addFixedIp": {"networkId": unknown}})
    assert_error(r, 404, "itemNotFound", f"Network {unknown} could not be found.")
    r = await action(api, sid, {"removeFixedIp": {"address": added}})
    assert_error(r, 400, "badRequest", f"Instance {sid} does not have fixed IP '{added}'.")
    r = await action(api, sid, {"removeFixedIp": {"address": "not-an-ip"}})
    assert r.status_code == 400
    r = await action(api, sid, {"addFixedIp": {}})
    assert r.status_code == 400


async def test_floating_ips(api: Api, admin: Api, other: Api) -> None:
    sid, sid2 = await active(api, "a"), await active(api, "b")
    (boot,) = await addresses(api, sid)
    r = await action(api, sid, {"addFloatingIp": {"address": "172.24.4.10"}})
    assert r.status_code == 202, r.text
    shown = await addresses(api, sid)
    assert shown == [boot, {"version": 4, "addr": "172.24.4.10", "OS-EXT-IPS:type": "floating",
                            "OS-EXT-IPS-MAC:mac_addr": boot["OS-EXT-IPS-MAC:mac_addr"]}]
    # again, to the same fixed address: nothing changes
    r = await action(api, sid, {"addFloatingIp": {"address": "172.24.4.10",
                                                  "fixed_address": boot["addr"]}})
    assert r.status_code == 202
    assert await addresses(api, sid) == shown
    # refused
    r = await action(api, sid2, {"addFloatingIp": {"address": "172.24.4.10"}})
    assert_error(r, 400, "badRequest", "floating IP is already associated")
    r = await action(api, sid2, {"addFloatingIp": {"address": "198.51.100.7"}})
    assert_error(r, 404, "itemNotFound", "floating IP not found")
    r = await action(api, sid2, {"addFloatingIp": {"address": "172.24.4.11",
                                                   "fixed_address": boot["addr"]}})
    assert_error(r, 400, "badRequest", "Specified fixed address not assigned to instance")
    foreign = await active(other, "theirs")
    r = await action(other, foreign, {"addFloatingIp": {"address": "172.24.4.10"}})
    assert_error(r, 403, "forbidden")
    r = await action(api, sid2, {"removeFloatingIp": {"address": "172.24.4.10"}})
    assert_error(r, 409, "conflictingRequest",
                 f"Floating IP 172.24.4.10 is not associated with instance {sid2}.")
    r = await action(api, sid2, {"removeFloatingIp": {"address": "198.51.100.7"}})
    assert_error(r, 404, "itemNotFound", "Floating IP not found for address 198.51.100.7.")
    r = await action(api, sid2, {"addFloatingIp": {}})
    assert r.status_code == 400
    # a server that never got a network (no valid host) has nothing to bind to
    r = await admin.post("/flavors", {"flavor": {"name": "huge", "ram": 512, "vcpus": 1,
                                                 "disk": 90000, "id": "huge"}})
    assert r.status_code == 200
    lost = (await admin.create_server("lost", flavor="huge"))["id"]
    await admin.wait_status(lost, "ERROR")
    r = await action(admin, lost, {"addFloatingIp": {"address": "172.24.4.12"}})
    assert_error(r, 400, "badRequest", "Instance network is not ready yet")
    # removed, then free for the other server
    r = await action(api, sid, {"removeFloatingIp": {"address": "172.24.4.10"}})
    assert r.status_code == 202, r.text
    assert await addresses(api, sid) == [boot]
    r = await action(api, sid, {"removeFloatingIp": {"address": "172.24.4.10"}})
    assert r.status_code == 409
    assert (await action(api, sid2, {"addFloatingIp": {"address": "172.24.4.10"}})
            ).status_code == 202
    assert (await addresses(api, sid2))[1]["addr"] == "172.24.4.10"
    # no instance actions are recorded for these (as in Nova)
    actions = (await api.get(f"/servers/{sid}/os-instance-actions")).json()
    assert [a["action"] for a in actions["instanceActions"]] == ["create"]


async def test_inject_network_info_and_reset_network(api: Api, admin: Api,
                                                     driver: FakeDriver) -> None:
    sid = await active(api)
    for key in ("injectNetworkInfo", "resetNetwork"):
        r = await action(api, sid, {key: None})
        assert_error(r, 403, "forbidden")
    assert (await action(admin, sid, {"injectNetworkInfo": None})).status_code == 202
    assert (await action(admin, sid, {"resetNetwork": None})).status_code == 202

    async def called() -> bool:
        return driver.calls.get("inject_network_info") == 1 and \
            driver.calls.get("reset_network") == 1
    await eventually(called)
    (port,) = await interfaces(api, sid)
    assert [v["port_id"] for v in driver.network_info[sid]] == [port["port_id"]]
    actions = (await api.get(f"/servers/{sid}/os-instance-actions")).json()
    assert [a["action"] for a in actions["instanceActions"]] == ["create"]
    # a server without a host cannot have its network injected
    await action(api, sid, {"shelve": None})  # offloaded at once (shelved_offload_time 0)
    await api.wait_status(sid, "SHELVED_OFFLOADED")
    r = await action(admin, sid, {"injectNetworkInfo": None})
    assert_error(r, 409, "conflictingRequest")


async def test_delete_releases_ports_and_floating_ips(system: System, api: Api) -> None:
    sid = await active(api)
    assert (await action(api, sid, {"addFixedIp": {"networkId": NET}})).status_code == 202
    assert (await action(api, sid, {"addFloatingIp": {"address": "172.24.4.20"}})
            ).status_code == 202
    fixed = [a["addr"] for a in await addresses(api, sid)
             if a["OS-EXT-IPS:type"] == "fixed"]
    assert (await api.delete(f"/servers/{sid}")).status_code == 204
    await api.wait_status(sid, "DELETED")

    async def released() -> bool:
        async with system.pool.acquire() as conn:
            return not await conn.fetchval(
                "SELECT count(*) FROM v_ports WHERE server_id = $1", sid) and \
                not await conn.fetchval("SELECT count(*) FROM v_floating_ips")
    await eventually(released)
    net = await UnitOfWork(system.store).get(Network, DEFAULT_NETWORK_ID)
    assert net is not None and not any(ip in net.used for ip in fixed)
    other = await active(api, "next")
    assert (await action(api, other, {"addFloatingIp": {"address": "172.24.4.20"}})
            ).status_code == 202


async def test_concurrent_allocations_never_share_an_address(system: System, api: Api
                                                             ) -> None:
    # several multi-server requests at once (the scheduler wires each in one append);
    # 12 servers are beyond the default quota of 10 instances
    system.settings.quotas["instances"] = 12
    rs = await asyncio.gather(*(api.post("/servers", {"server": {
        "name": f"batch{i}", "flavorRef": "1",
        "imageRef": "70a599e0-31e7-49b7-b260-868f441e862b",
        "min_count": 3, "max_count": 3}}) for i in range(4)))
    assert all(r.status_code == 202 for r in rs)
    servers = (await api.get("/servers")).json()["servers"]
    ids = [s["id"] for s in servers]
    assert len(ids) == 12
    for sid in ids:
        await api.wait_status(sid, "ACTIVE")
    # and, racing with each other, extra fixed IPs and interfaces through the bus
    ctx = RequestContext(user_id="alice", project_id="project-a", roles=("member",))
    await asyncio.gather(*(system.bus.handle(c.AddFixedIp(sid, NET), ctx) for sid in ids),
                         *(system.bus.handle(c.AttachInterface(sid), ctx) for sid in ids))
    net = await UnitOfWork(system.store).get(Network, DEFAULT_NETWORK_ID)
    assert net is not None
    held = [ip for port in net.ports.values() for ip in port["ips"]]
    assert len(held) == len(set(held)) == 12 * 3
    macs = [port["mac"] for port in net.ports.values()]
    assert len(macs) == len(set(macs)) == 12 * 2
    shown = [a["addr"] for sid in ids for a in await addresses(api, sid)]
    assert len(shown) == len(set(shown)) >= 12 * 2


async def test_rebuilt_views_show_the_same_addresses(system: System, api: Api) -> None:
    sid, sid2 = await active(api, "a"), await active(api, "b")
    await action(api, sid, {"addFixedIp": {"networkId": NET}})
    await action(api, sid, {"addFloatingIp": {"address": "172.24.4.30"}})
    r = await api.post(f"/servers/{sid2}/os-interface", {"interfaceAttachment": {}})
    port_id = r.json()["interfaceAttachment"]["port_id"]

    async def plugged() -> bool:
        return all(p["port_state"] == "ACTIVE" for p in await interfaces(api, sid2))
    await eventually(plugged)
    await api.delete(f"/servers/{sid2}/os-interface/{port_id}")

    async def unplugged() -> bool:
        return len(await interfaces(api, sid2)) == 1
    await eventually(unplugged)
    await action(api, sid2, {"addFloatingIp": {"address": "172.24.4.31"}})

    async def snapshot() -> list[Any]:
        async with system.pool.acquire() as conn:
            return [
                [dict(r) for r in await conn.fetch(
                    "SELECT id, addresses FROM v_servers ORDER BY id")],
                [dict(r) for r in await conn.fetch("SELECT * FROM v_ports ORDER BY id")],
                [dict(r) for r in await conn.fetch(
                    "SELECT * FROM v_floating_ips ORDER BY address")],
            ]
    before = await snapshot()
    assert len(before[1]) == 2 and len(before[2]) == 2
    for name in ("servers", "networks"):
        await system.runner.rebuild(name)
    assert await snapshot() == before
