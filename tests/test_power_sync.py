"""Power-state sync: a guest that changes behind the control plane's back (on the fake
driver here; tests/test_qemu_e2e.py kills real QEMU processes) brings its server along."""

from __future__ import annotations

import asyncio

from control_plane.bootstrap import System
from control_plane.context import SYSTEM
from control_plane.domain.servers import commands as c
from control_plane.domain.servers import states
from drivers.fake import FakeDriver
from tests.conftest import Api


def guest(driver: FakeDriver, server: dict[str, object], admin_view: dict[str, object]
          ) -> object:
    return driver._host(str(admin_view["OS-EXT-SRV-ATTR:host"])).instances[str(server["id"])]


async def active(api: Api, admin: Api) -> tuple[str, str]:
    sid = (await api.create_server("synced"))["id"]
    await api.wait_status(sid, "ACTIVE")
    host = (await admin.get(f"/servers/{sid}")).json()["server"]["OS-EXT-SRV-ATTR:host"]
    return sid, host


async def actions(api: Api, sid: str) -> list[dict[str, str]]:
    r = await api.get(f"/servers/{sid}/os-instance-actions")
    result: list[dict[str, str]] = r.json()["instanceActions"]
    return result


async def test_a_guest_that_powered_off_is_stopped_by_the_periodic_sync(
        system: System, driver: FakeDriver, api: Api, admin: Api) -> None:
    sid, host = await active(api, admin)
    driver._host(host).instances[sid].power_state = states.SHUTDOWN
    system.settings.sync_power_state_interval = 0.1
    server = await api.wait_status(sid, "SHUTOFF", timeout=10)
    assert server["OS-EXT-STS:power_state"] == states.SHUTDOWN
    assert server["OS-EXT-STS:task_state"] is None
    latest = (await actions(api, sid))[0]
    assert latest["action"] == "stop" and latest["user_id"] == "compute:fake"
    assert driver.calls["power_off"] == 1  # the worker's usual stop, on the guest


async def test_a_vanished_guest_and_a_stopped_server_whose_guest_runs(
        system: System, driver: FakeDriver, api: Api, admin: Api) -> None:
    gone, host = await active(api, admin)
    del driver._host(host).instances[gone]
    stopped, host2 = await active(api, admin)
    r = await api.post(f"/servers/{stopped}/action", {"os-stop": None})
    assert r.status_code == 202
    await api.wait_status(stopped, "SHUTOFF")
    driver._host(host2).instances[stopped].power_state = states.RUNNING
    system.settings.sync_power_state_interval = 0.1
    await api.wait_status(gone, "SHUTOFF", timeout=10)  # nothing to power off: stopped
    assert (await actions(api, gone))[0]["user_id"] == "compute:fake"
    for _ in range(200):  # the running guest of a stopped server is powered off again
        if driver._host(host2).instances[stopped].power_state == states.SHUTDOWN:
            break
        await asyncio.sleep(0.05)
    assert driver._host(host2).instances[stopped].power_state == states.SHUTDOWN
    await api.wait_status(stopped, "SHUTOFF")
    assert [a["action"] for a in await actions(api, stopped)][:2] == ["stop", "stop"]


async def test_a_guest_event_triggers_a_check_at_once(
        system: System, driver: FakeDriver, api: Api, admin: Api) -> None:
    sid, host = await active(api, admin)
    assert system.settings.sync_power_state_interval >= 60  # the periodic sync is far off
    driver._host(host).instances[sid].power_state = states.SHUTDOWN
    assert driver.on_event is not None  # the worker listens
    driver.on_event(host, sid, "SHUTDOWN", {"guest": True})
    await api.wait_status(sid, "SHUTOFF", timeout=5)


async def test_stale_observations_and_servers_with_a_task_are_left_alone(
        system: System, driver: FakeDriver, api: Api, admin: Api) -> None:
    sid, host = await active(api, admin)
    async with system.pool.acquire() as conn:
        version = await conn.fetchval(
            "SELECT max(stream_version) FROM events WHERE stream_id = $1", sid)
    applied = await system.bus.handle(
        c.SyncServerPowerState(sid, host, states.SHUTDOWN, version - 1), SYSTEM)
    assert applied is False
    applied = await system.bus.handle(
        c.SyncServerPowerState(sid, "elsewhere", states.SHUTDOWN, version), SYSTEM)
    assert applied is False
    server = (await api.get(f"/servers/{sid}")).json()["server"]
    assert server["status"] == "ACTIVE"
    # the same observation, current, is applied: recorded, then the stop
    assert await system.bus.handle(
        c.SyncServerPowerState(sid, host, states.SHUTDOWN, version), SYSTEM) is True
    async with system.pool.acquire() as conn:
        types = [r["event_type"] for r in await conn.fetch(
            "SELECT event_type FROM events WHERE stream_id = $1 AND stream_version > $2"
            " ORDER BY stream_version", sid, version)]
    assert types[:2] == ["ServerPowerStateSynced", "ServerStopRequested"]
    await api.wait_status(sid, "SHUTOFF")
