"""Projection operations: online rebuild under load, failures retried then dead-lettered
(the projection goes on; replay, skip, rebuild), pause/resume, and the
``control-plane projections`` command."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import Counter
from typing import Any

import pytest

from control_plane.bootstrap import System
from control_plane.store.eventstore import RecordedEvent
from projections.keypairs.projection import KeypairsProjection
from tests.conftest import Api
from tests.test_projections import _dump


async def test_online_rebuild_under_load_fails_no_request(
        system: System, api: Api, admin: Api) -> None:
    servers = [await api.create_server(f"base{i}") for i in range(6)]
    for s in servers:
        await api.wait_status(s["id"], "ACTIVE")
    for i in range(20):
        await api.post(f"/servers/{servers[i % 6]['id']}/metadata",
                       {"metadata": {f"k{i}": "v"}})
    statuses: Counter[int] = Counter()
    seen_fewer = []
    stop = asyncio.Event()

    async def reader() -> None:
        while not stop.is_set():
            r = await api.get("/servers/detail")
            statuses[r.status_code] += 1
            if r.status_code == 200 and len(r.json()["servers"]) < 6:
                seen_fewer.append(len(r.json()["servers"]))
            r = await api.get(f"/servers/{servers[0]['id']}/os-instance-actions")
            statuses[r.status_code] += 1

    async def writer() -> None:
        i = 0
        while not stop.is_set():
            r = await api.post("/os-keypairs", {"keypair": {"name": f"load{i}"}})
            statuses[r.status_code] += 1
            r = await api.put(f"/servers/{servers[1]['id']}/metadata/load",
                              {"meta": {"load": str(i)}})
            statuses[r.status_code] += 1
            i += 1

    tasks = [asyncio.create_task(reader()), asyncio.create_task(reader()),
             asyncio.create_task(writer())]
    progress: list[tuple[int, int]] = []
    try:
        await asyncio.sleep(0.2)
        for name in ("servers", "instance_actions", "keypairs"):
            await system.runner.rebuild(name, lambda pos, head: progress.append((pos, head)))
        await asyncio.sleep(0.2)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    assert set(statuses) <= {200}, statuses  # every request answered, none failed
    assert sum(statuses.values()) > 20
    assert seen_fewer == []  # readers saw the live version, never a half-built one
    assert progress and progress[-1][0] == progress[-1][1]
    # nothing lost or doubled around the swap: a rebuild on a quiet system agrees
    online = await _dump(system)
    for name in ("servers", "instance_actions", "keypairs"):
        await system.runner.rebuild(name)
    assert await _dump(system) == online
    head = await system.store.head()
    assert all(p == head for p in (await system.runner.positions()).values())
    async with system.pool.acquire() as conn:  # the shadow schemas are gone
        assert await conn.fetchval("SELECT count(*) FROM pg_namespace"
                                   " WHERE nspname LIKE 'rebuild_%'") == 0


@pytest.fixture
def poisoned(monkeypatch: pytest.MonkeyPatch) -> None:
    """The keypairs projection's handler fails on a keypair called "poison"."""
    original = KeypairsProjection.apply

    async def apply(self: KeypairsProjection, conn: Any, event: RecordedEvent) -> None:
        if event.data.get("name") == "poison":
            raise ValueError("cannot project this keypair")
        await original(self, conn, event)

    monkeypatch.setattr(KeypairsProjection, "apply", apply)


async def _position_of(system: System, name: str) -> int:
    async with system.pool.acquire() as conn:
        position: int = await conn.fetchval(
            "SELECT position FROM events WHERE event_type = 'KeypairCreated'"
            " AND data->>'name' = $1", name)
    return position


async def test_a_failing_event_is_dead_lettered_and_the_projection_goes_on(
        system: System, api: Api, poisoned: None, monkeypatch: pytest.MonkeyPatch) -> None:
    r = await api.post("/os-keypairs", {"keypair": {"name": "poison"}})
    assert r.status_code == 200  # the write is not lost because a projection failed
    position = await _position_of(system, "poison")
    system.runner.retry_delays = (0.01, 0.01)
    await system.runner.catch_up(["keypairs"])
    st = next(s for s in await system.runner.status() if s.name == "keypairs")
    assert st.state == "running" and not st.paused and st.lag == 0
    assert st.dead_letters == 1
    [letter] = await system.runner.dead_letters("projection:keypairs")
    assert (letter.position, letter.event_type, letter.status) == (
        position, "KeypairCreated", "failed")
    assert "cannot project this keypair" in letter.error and letter.attempts == 3
    # it keeps going: for this project and every other one
    r = await api.post("/os-keypairs", {"keypair": {"name": "after"}})
    assert r.status_code == 200
    assert (await api.get("/os-keypairs/after")).status_code == 200
    assert (await api.get("/os-keypairs/poison")).status_code == 404
    ready = await api.http.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["dead_letters"] == {
        "ok": False, "failed": {"projection:keypairs": 1}}
    # replaying while the bug is still there changes nothing
    assert [p for p, err in await system.runner.replay("projection:keypairs")
            if err is not None] == [position]
    assert (await system.runner.dead_letters("projection:keypairs"))[0].attempts == 4
    # fixed: replay applies it
    monkeypatch.undo()
    assert await system.runner.replay("projection:keypairs") == [(position, None)]
    assert (await api.get("/os-keypairs/poison")).status_code == 200
    assert await system.runner.dead_letters("projection:keypairs") == []
    [done] = await system.runner.dead_letters("projection:keypairs", open_only=False)
    assert done.status == "replayed" and done.resolved_at is not None
    assert (await api.http.get("/readyz")).json()["checks"]["dead_letters"]["ok"]


async def test_a_rebuild_keeps_going_past_a_bad_event_and_skips_stay_skipped(
        system: System, api: Api, poisoned: None, monkeypatch: pytest.MonkeyPatch) -> None:
    system.runner.retry_delays = ()
    for name in ("poison", "fine"):
        assert (await api.post("/os-keypairs", {"keypair": {"name": name}})).status_code == 200
    await system.runner.catch_up(["keypairs"])
    position = await _position_of(system, "poison")
    assert await system.runner.skip("projection:keypairs", [position]) == 1
    await system.runner.rebuild("keypairs")  # still poisoned: passed over, stays skipped
    assert (await api.get("/os-keypairs/fine")).status_code == 200
    [letter] = await system.runner.dead_letters("projection:keypairs", open_only=False)
    assert (letter.position, letter.status) == (position, "skipped")
    monkeypatch.undo()
    await system.runner.rebuild("keypairs")  # fixed: the rebuild applies it
    assert (await api.get("/os-keypairs/poison")).status_code == 200
    assert await system.runner.dead_letters("projection:keypairs", open_only=False) == []


async def test_pause_and_resume(system: System, api: Api) -> None:
    await system.runner.pause("keypairs")
    r = await api.post("/os-keypairs", {"keypair": {"name": "while-paused"}})
    assert r.status_code == 200
    assert (await api.get("/os-keypairs/while-paused")).status_code == 404
    st = next(s for s in await system.runner.status() if s.name == "keypairs")
    assert st.state == "paused" and st.lag > 0
    await system.runner.resume("keypairs")
    assert (await api.get("/os-keypairs/while-paused")).status_code == 200


def _cli(dsn: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "control_plane.cli", "projections", *args,
                           "--database-url", dsn], capture_output=True, text=True,
                          timeout=120, env={"COLUMNS": "160", "PATH": "/usr/bin:/bin"})


async def test_the_projections_command(system: System, api: Api, poisoned: None) -> None:
    await api.create_server("cli")
    r = await api.post("/os-keypairs", {"keypair": {"name": "poison"}})
    assert r.status_code == 200
    system.runner.retry_delays = ()
    await system.runner.catch_up(["keypairs"])  # fails at once: dead-lettered
    position = await _position_of(system, "poison")

    out = await asyncio.to_thread(_cli, system.dsn, "list", "--sample", "0.2")
    assert out.returncode == 1, out  # an open dead letter makes list exit non-zero
    rows = {line.split()[0]: line.split() for line in out.stdout.splitlines()
            if len(line.split()) == 6}
    assert rows["servers"][3] == "running" and rows["servers"][4] == "0"
    assert rows["keypairs"][3] == "running" and rows["keypairs"][4] == "1"
    assert f"projection:keypairs: event {position} (KeypairCreated" in out.stdout
    assert "cannot project this keypair" in out.stdout

    out = await asyncio.to_thread(_cli, system.dsn, "dead-letters")
    assert out.returncode == 0 and "projection:keypairs" in out.stdout, out
    assert str(position) in out.stdout and "failed" in out.stdout

    # (the subprocess has no poisoned handler: there, the replay succeeds)
    out = await asyncio.to_thread(_cli, system.dsn, "replay", "keypairs")
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"projection:keypairs: event {position} applied" in out.stdout
    assert (await api.get("/os-keypairs/poison")).status_code == 200
    out = await asyncio.to_thread(_cli, system.dsn, "list", "--sample", "0")
    assert out.returncode == 0, out

    # the subprocess has no poison, this process has: "poison" again is dead-lettered
    r = await api.post("/os-keypairs", {"keypair": {"name": "poison"}})
    assert r.status_code == 409  # (it exists)
    await api.delete("/os-keypairs/poison")
    r = await api.post("/os-keypairs", {"keypair": {"name": "poison"}})
    assert r.status_code == 200
    await system.runner.catch_up(["keypairs"])
    assert (await api.get("/os-keypairs/poison")).status_code == 404
    out = await asyncio.to_thread(_cli, system.dsn, "skip", "keypairs")
    assert out.returncode == 0 and "projection:keypairs: 1 dead letters skipped" in out.stdout
    out = await asyncio.to_thread(_cli, system.dsn, "dead-letters", "--all")
    assert "skipped" in out.stdout and "replayed" in out.stdout, out.stdout

    out = await asyncio.to_thread(_cli, system.dsn, "rebuild", "servers", "keypairs")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "servers" in out.stdout and "100%" in out.stdout
    st = {s.name: s for s in await system.runner.status()}
    assert st["keypairs"].state == "running" and st["keypairs"].lag == 0

    out = await asyncio.to_thread(_cli, system.dsn, "pause", "keypairs")
    assert out.returncode == 0 and "paused keypairs" in out.stdout
    out = await asyncio.to_thread(_cli, system.dsn, "resume", "keypairs")
    assert out.returncode == 0 and "resumed keypairs" in out.stdout
    out = await asyncio.to_thread(_cli, system.dsn, "rebuild", "nonesuch")
    assert out.returncode == 2 and "no projection called nonesuch" in out.stdout
