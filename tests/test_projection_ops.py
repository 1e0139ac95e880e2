"""Projection operations: online rebuild under load, failures retried then paused (never
skipped), pause/resume, and the ``control-plane projections`` command."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import Counter
from typing import Any

import pytest

from control_plane.bootstrap import System
from control_plane.eventstore import RecordedEvent
from projections.keypairs import KeypairsProjection
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


async def test_a_failing_event_is_retried_then_pauses_the_projection(
        system: System, api: Api, poisoned: None, monkeypatch: pytest.MonkeyPatch) -> None:
    r = await api.post("/os-keypairs", {"keypair": {"name": "poison"}})
    assert r.status_code == 200  # the write is not lost because a projection failed
    async with system.pool.acquire() as conn:
        position = await conn.fetchval(
            "SELECT position FROM events WHERE event_type = 'KeypairCreated'"
            " AND data->>'name' = 'poison'")
    system.runner.retry_delays = (0.01, 0.01)
    await system.runner.catch_up(["keypairs"])
    st = next(s for s in await system.runner.status() if s.name == "keypairs")
    assert st.state == "failed" and st.paused and st.error_position == position
    assert st.error is not None and "cannot project this keypair" in st.error
    assert st.position == position - 1  # everything before it applied, nothing skipped
    # while paused, neither the inline path nor the runner touches it
    r = await api.post("/os-keypairs", {"keypair": {"name": "after"}})
    assert r.status_code == 200
    assert (await api.get("/os-keypairs/after")).status_code == 404
    await system.runner.catch_up()
    assert next(s for s in await system.runner.status() if s.name == "keypairs").paused
    # fixed: resume applies the failed event and the rest
    monkeypatch.undo()
    applied = await system.runner.resume("keypairs")
    assert applied >= 2
    st = next(s for s in await system.runner.status() if s.name == "keypairs")
    assert st.state == "running" and st.lag == 0 and st.error is None
    assert (await api.get("/os-keypairs/poison")).status_code == 200
    assert (await api.get("/os-keypairs/after")).status_code == 200


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
    await system.runner.catch_up(["keypairs"])  # fails at once: paused

    out = await asyncio.to_thread(_cli, system.dsn, "list", "--sample", "0.2")
    assert out.returncode == 1, out  # a failed projection makes list exit non-zero
    rows = {line.split()[0]: line.split() for line in out.stdout.splitlines()
            if len(line.split()) == 5}
    assert rows["servers"][3] == "running" and rows["keypairs"][3] == "failed"
    assert "keypairs paused at event" in out.stdout
    assert "cannot project this keypair" in out.stdout

    # (the subprocess has no poisoned handler: there, rebuilding keypairs succeeds)
    out = await asyncio.to_thread(_cli, system.dsn, "rebuild", "servers", "keypairs")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "servers" in out.stdout and "100%" in out.stdout
    st = {s.name: s for s in await system.runner.status()}
    assert st["keypairs"].state == "running" and st["keypairs"].lag == 0
    assert (await api.get("/os-keypairs/poison")).status_code == 200

    out = await asyncio.to_thread(_cli, system.dsn, "pause", "keypairs")
    assert out.returncode == 0 and "paused keypairs" in out.stdout
    out = await asyncio.to_thread(_cli, system.dsn, "resume", "keypairs")
    assert out.returncode == 0 and "resumed keypairs" in out.stdout
    out = await asyncio.to_thread(_cli, system.dsn, "rebuild", "nonesuch")
    assert out.returncode == 2 and "no projection called nonesuch" in out.stdout
