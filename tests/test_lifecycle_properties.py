"""Properties of a server's history under random and concurrent actions.

- After any sequence of valid and invalid actions, the servers view equals a fold of
  the server's events, and rebuilding the projections from zero changes nothing.
- Racing clients leave one gap-free history, one driver operation per accepted
  request, and no operation twice.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from control_plane.bootstrap import System, open_system
from control_plane.domain.servers.aggregate import Server
from control_plane.store import db
from control_plane.store.event_codec import replay
from tests.conftest import IMAGE, IMAGE_ALT, NOAUTH, Api, fake_driver, wait_hosts

ACTIONS: list[tuple[str, Any]] = [
    ("os-stop", None), ("os-start", None), ("reboot", {"type": "SOFT"}),
    ("reboot", {"type": "HARD"}), ("pause", None), ("unpause", None), ("suspend", None),
    ("resume", None), ("lock", None), ("unlock", None),
    ("rebuild", {"imageRef": IMAGE_ALT}), ("rebuild", {"imageRef": IMAGE}),
    ("rename", None), ("rescue", None), ("unrescue", None),
    ("changePassword", {"adminPass": "pw"}), ("resize", {"flavorRef": "2"}),
    ("resize", {"flavorRef": "1"}), ("confirmResize", None), ("revertResize", None),
    ("shelve", None), ("unshelve", None), ("restore", None),
]


async def _settled(api: Api, sid: str) -> dict[str, Any]:
    for _ in range(500):
        body: dict[str, Any] = (await api.get(f"/servers/{sid}")).json()["server"]
        if body["OS-EXT-STS:task_state"] is None:
            return body
        await asyncio.sleep(0.01)
    raise AssertionError(f"server {sid} never settled")


async def _dump(system: System, sid: str) -> list[Any]:
    async with system.pool.acquire() as conn:
        server = await conn.fetchrow("SELECT * FROM v_servers WHERE id = $1", uuid.UUID(sid))
        actions = await conn.fetch(
            "SELECT a.action, a.request_id, a.message, e.event, e.result FROM"
            " v_instance_actions a LEFT JOIN v_instance_action_events e ON e.action_id = a.id"
            " WHERE a.instance_uuid = $1 ORDER BY a.id, e.seq", uuid.UUID(sid))
    return [dict(server or {}), [tuple(r) for r in actions]]


async def _scenario(server_url: str, template: str, steps: list[int]) -> None:
    name = f"cp_p_{uuid.uuid4().hex[:12]}"
    admin_conn = await asyncpg.connect(server_url)
    await admin_conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    system = await open_system(db.with_database(server_url, name), NOAUTH(), pool_size=6)
    try:
        system.start_scheduler()
        system.start_compute(fake_driver(), "fake")
        await wait_hosts(system, 2)
        transport = httpx.ASGITransport(app=system.app())
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            api = Api(http, "pat", "project-p")
            sid = (await api.create_server("prop"))["id"]
            await api.wait_status(sid, "ACTIVE")
            for i, step in enumerate(steps):
                action, arg = ACTIONS[step]
                if action == "rename":
                    r = await api.put(f"/servers/{sid}", {"server": {"name": f"n{i}"}})
                else:
                    r = await api.post(f"/servers/{sid}/action", {action: arg})
                # 400: a resize to the flavor it has
                assert r.status_code in (200, 202, 204, 400, 409), (action, r.text)
                await _settled(api, sid)
            # the view equals the fold of the server's events
            events = await system.store.read_stream(sid)
            folded = replay(Server, events)
            assert folded is not None
            async with system.pool.acquire() as conn:
                row = await conn.fetchrow("SELECT * FROM v_servers WHERE id = $1",
                                          uuid.UUID(sid))
            assert row is not None
            assert (row["vm_state"], row["task_state"], row["power_state"], row["name"],
                    row["image_ref"], row["locked_by"], row["status"]) == (
                folded.vm_state, folded.task_state, folded.power_state, folded.name,
                folded.image_ref, folded.locked_by, folded.status)
            assert [e.stream_version for e in events] == list(range(1, len(events) + 1))
            before = await _dump(system, sid)
            for p in system.runner.projections:
                await system.runner.rebuild(p.name)
            assert await _dump(system, sid) == before
    finally:
        await system.close()
        await admin_conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin_conn.close()


@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=st.lists(st.integers(min_value=0, max_value=len(ACTIONS) - 1), min_size=15,
                      max_size=30))
def test_random_action_sequences_fold_and_rebuild(server_url: str, template_db: str,
                                                  steps: list[int]) -> None:
    asyncio.run(_scenario(server_url, template_db, steps))


async def test_twenty_racing_clients_leave_one_consistent_history(system: System, api: Api,
                                                                  driver: Any) -> None:
    sid = (await api.create_server("raced"))["id"]
    await api.wait_status(sid, "ACTIVE")
    driver.latency = 0.05
    bodies: list[tuple[str, Any]] = [("reboot", {"type": "HARD"}), ("os-stop", None),
                                     ("reboot", {"type": "SOFT"}), ("pause", None),
                                     ("resize", {"flavorRef": "2"})] * 4
    results = await asyncio.gather(*(api.post(f"/servers/{sid}/action", {k: v})
                                     for k, v in bodies))
    assert {r.status_code for r in results} <= {202, 409}
    accepted = sum(r.status_code == 202 for r in results)
    assert accepted >= 1
    await _settled(api, sid)
    events = await system.store.read_stream(sid)
    types = [e.event_type for e in events]
    assert [e.stream_version for e in events] == list(range(1, len(events) + 1))
    requested = [t for t in types if t.endswith("Requested")]
    assert len(requested) == accepted  # one request event per accepted request
    # every driver operation was reported once; none ran twice for one request
    for done, call, asked in (("ServerStopped", "power_off", "ServerStopRequested"),
                              ("ServerRebooted", "reboot", "ServerRebootRequested"),
                              ("ServerPaused", "pause", "ServerPauseRequested"),
                              ("ServerResized", "migrate", "ServerResizeRequested")):
        assert types.count(done) == driver.calls.get(call, 0) <= types.count(asked), types
    # and the state is what the last outcome says
    folded = replay(Server, events)
    assert folded is not None and folded.task_state is None

    # now racing deletes (and actions): exactly one deletion, one destroy
    results = await asyncio.gather(*(
        [api.delete(f"/servers/{sid}") for _ in range(10)]
        + [api.post(f"/servers/{sid}/action", {"reboot": {"type": "HARD"}})
           for _ in range(10)]))
    assert {r.status_code for r in results} <= {202, 204, 404, 409}
    await api.wait_status(sid, "DELETED")
    types = [e.event_type for e in await system.store.read_stream(sid)]
    assert types.count("ServerDeleted") == 1 and driver.calls["destroy"] == 1
    # after the deletion, only the release of its network (which follows it)
    assert types[types.index("ServerDeleted") + 1:] in ([], ["ServerNetworkReleased"]), types
