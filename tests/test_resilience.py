"""Followers survive the database: terminated backends, lost locks, handlers that fail.

The service's own Postgres backends are terminated (``pg_terminate_backend``) under
its feet; the scheduler, the compute worker, the projection runner and the LISTEN
connection must reconnect, take their locks again and skip nothing. A handler that
keeps failing is dead-lettered, the follower goes on, and a replay after the fix
finishes the work.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from control_plane.bootstrap import System
from control_plane.ops.health import Positions, followers_check
from control_plane.service.handlers.hosts import host_is_up
from control_plane.store.eventstore import RecordedEvent
from control_plane.store.follower import Follower, backoff, is_transient
from tests.conftest import Api
from workers.compute.worker import ComputeWorker


async def terminate_backends(dsn: str) -> int:
    """Terminate every backend of the database but this one; returns how many."""
    conn = await asyncpg.connect(dsn)
    try:
        n: int = await conn.fetchval(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()) t")
        return n
    finally:
        await conn.close()


async def until(check: Any, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition never met")
        await asyncio.sleep(0.05)


def _follower(system: System, cls: type[Follower]) -> Any:
    return next(f for f in system.followers if isinstance(f, cls))


# -- fast tier: no database -----------------------------------------------------------------

def test_connection_failures_are_transient_and_bugs_are_not() -> None:
    assert is_transient(asyncpg.exceptions.AdminShutdownError("terminating connection"))
    assert is_transient(asyncpg.exceptions.ConnectionDoesNotExistError("closed"))
    assert is_transient(ConnectionResetError())
    assert is_transient(TimeoutError())
    assert not is_transient(ValueError("a bug"))
    assert not is_transient(asyncpg.exceptions.NumericValueOutOfRangeError("out of range"))
    assert [backoff(n) for n in (1, 2, 3, 10)] == [0.2, 0.4, 0.8, 5.0]


def test_readiness_of_followers() -> None:
    pos = Positions(100, {"follower:scheduler": (100, False), "follower:compute:a": (10, False)},
                    {}, {"scheduler": 0.5, "compute:a": 90.0})
    check = followers_check(pos, max_lag=50, down_after=60, local={})
    assert not check["ok"] and check["down"] == ["compute:a"]
    assert check["behind"] == ["compute:a"]
    check = followers_check(pos, max_lag=-1, down_after=120, local={"scheduler": "active"})
    assert check["ok"]
    check = followers_check(pos, max_lag=-1, down_after=120,
                            local={"scheduler": "reconnecting"})
    assert not check["ok"] and check["down"] == ["scheduler"]
    # a standby (another process holds the lock) is not down
    assert followers_check(pos, max_lag=-1, down_after=120, local={"scheduler": "standby"}
                           )["ok"]


# -- real Postgres --------------------------------------------------------------------------

async def test_followers_survive_terminated_backends(system: System, api: Api,
                                                     admin: Api) -> None:
    system.start_projection_runner()
    first = await api.create_server("before")
    await api.wait_status(first["id"], "ACTIVE")
    scheduler = _follower(system, Follower)
    worker = _follower(system, ComputeWorker)
    sessions = (scheduler.sessions, worker.sessions)
    host = (await admin.get(f"/servers/{first['id']}")).json()["server"][
        "OS-EXT-SRV-ATTR:host"]

    for _ in range(2):
        assert await terminate_backends(system.dsn) >= 1
        await asyncio.sleep(0.1)
        # the worker's host lock went with its connection, but the host is not down:
        # an evacuation is still refused while the worker reconnects
        async with system.pool.acquire() as conn:
            assert await host_is_up(conn, host)
        r = await admin.post(f"/servers/{first['id']}/action",
                             {"evacuate": {"onSharedStorage": False}})
        assert r.status_code == 400, r.text

    # new work is done, and the work accepted meanwhile is not skipped
    created = [await api.create_server(f"after{i}") for i in range(4)]
    for s in created:
        await api.wait_status(s["id"], "ACTIVE", timeout=30)
    for s in [first, *created]:
        assert (await api.delete(f"/servers/{s['id']}")).status_code == 204
    for s in [first, *created]:
        await api.wait_status(s["id"], "DELETED", timeout=30)

    async def new_sessions() -> bool:  # both noticed the lost lock and took it again,
        # the LISTEN connection is back, and the worker answers console requests again
        return (scheduler.sessions > sessions[0] and worker.sessions > sessions[1]
                and scheduler.state == worker.state == "active"
                and system.notifier.reconnects >= 1 and system.notifier.listening
                and worker.rpc is not None and worker.rpc.listening)

    await until(new_sessions)
    # the worker took its host lock again
    async with system.pool.acquire() as conn:
        assert await conn.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted") >= 2

    async def ready() -> bool:
        r = await api.http.get("/readyz")
        return bool(r.status_code == 200)

    await until(ready)
    body = (await api.http.get("/readyz")).json()["checks"]["followers"]
    assert set(body["here"].values()) == {"active"}
    assert {"scheduler", "compute:fake"} <= set(body["seconds_since_beat"])


async def test_a_failing_handler_is_dead_lettered_and_replayed(
        system: System, api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    worker = _follower(system, ComputeWorker)
    worker.max_attempts = 2
    original = ComputeWorker.handle
    broken = {"on": True}

    async def handle(self: ComputeWorker, event: RecordedEvent) -> None:
        if broken["on"] and event.event_type == "ServerScheduled":
            r = await api.get(f"/servers/{event.stream_id}")
            if r.json()["server"]["name"] == "unlucky":
                raise RuntimeError("a bug in the worker")
        await original(self, event)

    monkeypatch.setattr(ComputeWorker, "handle", handle)
    unlucky = await api.create_server("unlucky")
    consumer = "follower:compute:fake"

    async def dead_lettered() -> bool:
        return bool(await system.runner.dead_letters(consumer))

    await until(dead_lettered)
    [letter] = await system.runner.dead_letters(consumer)
    assert letter.event_type == "ServerScheduled" and letter.stream_id == unlucky["id"]
    assert "a bug in the worker" in letter.error and letter.attempts == 2
    # the worker went on: other servers are built, its position moved past the event
    lucky = await api.create_server("lucky")
    await api.wait_status(lucky["id"], "ACTIVE")
    assert (await api.get(f"/servers/{unlucky['id']}")).json()["server"]["status"] == "BUILD"
    r = await api.http.get("/readyz")
    assert r.status_code == 503 and r.json()["checks"]["dead_letters"]["failed"] == {
        consumer: 1}
    # fixed: a replay hands it back to the running worker, which builds the server
    broken["on"] = False
    assert await system.runner.replay(consumer) == [(letter.position, "queued")]
    await api.wait_status(unlucky["id"], "ACTIVE", timeout=15)

    async def replayed() -> bool:
        rows = await system.runner.dead_letters(consumer, open_only=False)
        return rows[0].status == "replayed"

    await until(replayed)
    assert await system.runner.dead_letters(consumer) == []


async def test_the_projection_runner_survives_terminated_backends(
        system: System, api: Api) -> None:
    system.start_projection_runner()
    await system.runner.pause("keypairs")
    assert (await api.post("/os-keypairs", {"keypair": {"name": "k1"}})).status_code == 200
    await terminate_backends(system.dsn)
    await asyncio.sleep(0.2)
    async with system.pool.acquire() as conn:
        await conn.execute("UPDATE tracking SET paused = false"
                           " WHERE name = 'projection:keypairs'")
    assert (await api.post("/os-keypairs", {"keypair": {"name": "k2"}})).status_code == 200

    async def caught_up() -> bool:
        return bool((await api.get("/os-keypairs/k1")).status_code == 200)

    await until(caught_up)
    assert (await api.get("/os-keypairs/k2")).status_code == 200


async def test_a_process_starting_while_its_connections_are_terminated_comes_up(
        fresh_dsn: str) -> None:
    """The CLI's start-up (migrations, schemas, catch-up, seeding) is retried on a lost
    connection instead of ending the process (a worker restarted during an outage)."""
    from control_plane.bootstrap import open_system_retrying

    stop = asyncio.Event()

    async def terminator() -> int:
        kills = 0
        while not stop.is_set():
            kills += await terminate_backends(fresh_dsn)
            await asyncio.sleep(0.05)
        return kills

    task = asyncio.create_task(terminator())
    opening = asyncio.create_task(open_system_retrying(fresh_dsn))
    await asyncio.sleep(1.0)
    stop.set()
    kills = await task
    system = await asyncio.wait_for(opening, 60)
    try:
        assert kills >= 1
        async with system.pool.acquire() as conn:
            assert await conn.fetchval("SELECT count(*) FROM v_flavors") > 0
    finally:
        await system.close()
