"""Scheduler and compute worker: placement, failures, restarts without repeated work."""

from __future__ import annotations

import asyncio

import httpx

from control_plane.bootstrap import System
from drivers.fake import FakeDriver
from tests.conftest import IMAGE, Api, fake_driver, wait_hosts


async def test_servers_spread_and_claims_follow_lifecycle(system: System, api: Api,
                                                          admin: Api) -> None:
    ids = [(await api.create_server(f"s{i}"))["id"] for i in range(4)]
    hosts = set()
    for sid in ids:
        body = await admin.wait_status(sid, "ACTIVE")
        hosts.add(body["OS-EXT-SRV-ATTR:host"])
    assert hosts == {"host1", "host2"}  # spread by free RAM
    async with system.pool.acquire() as conn:
        used = await conn.fetchval("SELECT sum(running_vms) FROM v_hosts")
    assert used == 4
    for sid in ids:
        await api.delete(f"/servers/{sid}")
    for sid in ids:
        await api.wait_status(sid, "DELETED")
    async with system.pool.acquire() as conn:
        assert await conn.fetchval("SELECT sum(running_vms) FROM v_hosts") == 0


async def test_no_valid_host_puts_server_in_error(api: Api, admin: Api) -> None:
    r = await admin.post("/flavors", {"flavor": {"name": "huge", "ram": 512, "vcpus": 1,
                                                 "disk": 5000, "id": "huge"}})
    assert r.status_code == 200
    server = await admin.create_server("big", flavor="huge")
    body = await admin.wait_status(server["id"], "ERROR")
    assert body["fault"]["code"] == 500
    assert body["fault"]["message"].startswith("No valid host was found.")
    assert body["OS-EXT-SRV-ATTR:host"] is None
    # deleting a server that never got a host needs no compute worker
    assert (await admin.delete(f"/servers/{server['id']}")).status_code == 204
    assert (await admin.get(f"/servers/{server['id']}")).status_code == 404


async def test_injected_spawn_failure_reports_fault_and_action_event(
    driver: FakeDriver, api: Api, admin: Api
) -> None:
    driver.fail_next_spawns(1, "Fake driver: injected spawn failure")
    server = await api.create_server("doomed")
    body = await api.wait_status(server["id"], "ERROR")
    assert body["fault"]["message"] == "Fake driver: injected spawn failure"
    assert "details" not in body["fault"]  # a 500 fault's details are for admins only
    admin_view = (await admin.get(f"/servers/{server['id']}")).json()["server"]
    assert "DriverError" in admin_view["fault"]["details"]
    actions = (await api.get(f"/servers/{server['id']}/os-instance-actions")).json()
    (create,) = actions["instanceActions"]
    assert create["action"] == "create" and create["message"] == "Error"
    detail = (await admin.get(f"/servers/{server['id']}/os-instance-actions/"
                              f"{create['request_id']}")).json()["instanceAction"]
    results = {e["event"]: e["result"] for e in detail["events"]}
    assert results == {"conductor_schedule_and_build_instances": "Success",
                       "compute__do_build_and_run_instance": "Error"}
    build = next(e for e in detail["events"] if e["event"].startswith("compute_"))
    assert detail["events"][0] is not None and detail["events"][0]["event"] == build["event"]
    assert "injected spawn failure" in build["traceback"]
    # non-admins see the action but not its events (Nova's default policy)
    mine = (await api.get(f"/servers/{server['id']}/os-instance-actions/"
                          f"{create['request_id']}")).json()["instanceAction"]
    assert "events" not in mine and mine["action"] == "create"
    # the next server builds fine: exactly one failure was injected
    ok = await api.create_server("fine")
    await api.wait_status(ok["id"], "ACTIVE")


async def test_restarted_worker_neither_repeats_nor_skips(bare_system: System) -> None:
    system = bare_system
    driver = fake_driver()
    system.start_scheduler()
    system.start_compute(driver, "fake")
    await wait_hosts(system, 2)
    transport = httpx.ASGITransport(app=system.app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        api = Api(http, "carol", "project-c")
        first = [(await api.create_server(f"a{i}"))["id"] for i in range(5)]
        for sid in first:
            await api.wait_status(sid, "ACTIVE")
        await system.stop_tasks()  # the worker (and scheduler) go away
        second = [(await api.create_server(f"b{i}"))["id"] for i in range(5)]
        await api.delete(f"/servers/{first[0]}")
        await asyncio.sleep(0.2)
        for sid in second:
            assert (await api.get(f"/servers/{sid}")).json()["server"]["status"] == "BUILD"
        system.start_scheduler()
        system.start_compute(driver, "fake")  # same hypervisors, new worker
        for sid in second:
            await api.wait_status(sid, "ACTIVE")
        await api.wait_status(first[0], "DELETED")
        # one more restart with nothing new to do: no operation repeats
        await system.stop_tasks()
        system.start_scheduler()
        system.start_compute(driver, "fake")
        await asyncio.sleep(0.3)
    assert driver.calls == {"spawn": 10, "destroy": 1}
    assert driver.instance_ids() == set(first[1:] + second)


async def test_host_snapshots_match_full_replay(bare_system: System) -> None:
    from control_plane.domain.hosts.aggregate import ComputeHost, host_stream_id
    from control_plane.service.uow import UnitOfWork
    from control_plane.store.event_codec import replay

    system = bare_system
    system.settings.quotas.update(instances=-1, cores=-1, ram=-1)
    system.start_scheduler()
    system.start_compute(fake_driver(hosts=1, vcpus=128), "fake")
    await wait_hosts(system, 1)
    transport = httpx.ASGITransport(app=system.app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        api = Api(http, "dave", "project-d")
        r = await api.post("/servers", {"server": {"name": "n", "flavorRef": "42",
                                                   "imageRef": IMAGE, "max_count": 60}})
        assert r.status_code == 202
        # one request: the scheduler claims all 60 in one append (host version 1 -> 61)
        for s in (await api.get("/servers")).json()["servers"]:
            await api.wait_status(s["id"], "ACTIVE")
        later = [(await api.create_server(f"later{i}", flavor="42"))["id"] for i in range(5)]
        for sid in later:
            await api.wait_status(sid, "ACTIVE")
    stream = host_stream_id("host1")
    async with system.pool.acquire() as conn:
        snap_version = await conn.fetchval(
            "SELECT stream_version FROM snapshots WHERE stream_id = $1", str(stream))
    assert snap_version == 61  # taken when the stream crossed 50 events
    from_snapshot = await UnitOfWork(system.store).get(ComputeHost, stream)
    from_zero = replay(ComputeHost, await system.store.read_stream(str(stream)))
    assert from_snapshot is not None and from_zero is not None
    assert from_snapshot.version == from_zero.version == 66
    assert from_snapshot.claims == from_zero.claims and len(from_zero.claims) == 65
    assert from_snapshot.used() == {"vcpus": 65, "memory_mb": 65 * 64, "disk_gb": 0}


async def test_metadata_requested_spawn_failure(api: Api) -> None:
    """Clients of a live server inject a build failure through server metadata."""
    server = await api.create_server("fail-me", metadata={"fake_driver:fail": "spawn"})
    body = await api.wait_status(server["id"], "ERROR")
    assert "fake_driver:fail" in body["fault"]["message"]


async def test_follower_events_carry_request_causation_and_actor(system: System, api: Api
                                                                 ) -> None:
    server = await api.create_server("traced")
    await api.wait_status(server["id"], "ACTIVE")
    created, scheduled, spawned = [  # (the stream also records the network allocation)
        e for e in await system.store.read_stream(server["id"])
        if e.event_type in ("ServerCreated", "ServerScheduled", "ServerSpawned")]
    assert created.metadata["user_id"] == "alice" and "actor" not in created.metadata
    assert scheduled.metadata["request_id"] == created.metadata["request_id"]
    assert scheduled.metadata["causation_id"] == created.position
    assert scheduled.metadata["actor"] == "scheduler"
    assert spawned.metadata["causation_id"] == scheduled.position
    assert spawned.metadata["actor"] == "compute:fake" and spawned.metadata["host"]
