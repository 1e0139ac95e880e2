"""The compute RPC over LISTEN/NOTIFY: chunked answers, errors, timeouts, and a compute
worker in another process answering the API."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from control_plane.bootstrap import System
from control_plane.service import compute_rpc
from control_plane.service.compute_rpc import ComputeUnavailable, RemoteError, RPCServer
from tests.conftest import Api, assert_error, wait_hosts


@pytest.fixture
async def rpc_server(bare_system: System) -> AsyncIterator[RPCServer]:
    async def handler(host: str, method: str, args: dict[str, Any]) -> Any:
        if method == "echo":
            return {"host": host, **args}
        if method == "big":
            return "\n".join(f"{i} élan ✓ {'y' * 50}" for i in range(int(args["lines"])))
        if method == "refuse":
            raise RemoteError("not_running", "it is off", power_state=4)
        if method == "slow":
            await asyncio.sleep(5)
        raise ValueError("boom")

    server = RPCServer(bare_system.dsn, ["h1", "h2"], handler, "test")
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def test_answers_come_back_whole(bare_system: System, rpc_server: RPCServer) -> None:
    pool = bare_system.pool
    assert await compute_rpc.call(pool, "h2", "echo", {"a": [1, None, "x"]}, 5) == \
        {"host": "h2", "a": [1, None, "x"]}
    big = await compute_rpc.call(pool, "h1", "big", {"lines": 3000}, 5)
    assert len(big.encode()) > 150_000 and big.split("\n")[-1].startswith("2999 élan ✓")
    # several at once, each gets its own answer
    answers = await asyncio.gather(*(compute_rpc.call(pool, "h1", "echo", {"n": i}, 5)
                                     for i in range(20)))
    assert [a["n"] for a in answers] == list(range(20))


async def test_errors_and_timeouts(bare_system: System, rpc_server: RPCServer) -> None:
    pool = bare_system.pool
    with pytest.raises(RemoteError) as refused:
        await compute_rpc.call(pool, "h1", "refuse", {}, 5)
    assert (refused.value.kind, refused.value.message, refused.value.data) == \
        ("not_running", "it is off", {"power_state": 4})
    with pytest.raises(RemoteError) as failed:
        await compute_rpc.call(pool, "h1", "explode", {}, 5)
    assert failed.value.kind == "failed" and "boom" in failed.value.message
    with pytest.raises(ComputeUnavailable) as nobody:
        await compute_rpc.call(pool, "h3", "echo", {}, 0.2)  # nobody serves h3
    assert nobody.value.code == 503
    with pytest.raises(ComputeUnavailable):
        await compute_rpc.call(pool, "h1", "slow", {}, 0.2)
    # the connections went back to the pool clean: later calls still work
    assert (await compute_rpc.call(pool, "h1", "echo", {}, 5))["host"] == "h1"


def test_chunks_stay_under_the_notify_limit() -> None:
    message = {"result": "ü" * 20_000 + "\x00"}
    parts = compute_rpc.chunks(message)
    assert len(parts) > 1 and all(len(p.encode()) < 8000 for p in parts)
    assembler = compute_rpc._Assembler()
    results = [assembler.add(p) for p in parts]
    assert results[:-1] == [None] * (len(parts) - 1) and results[-1] == message


async def test_a_compute_worker_in_another_process(bare_system: System) -> None:
    """``control-plane compute`` in its own process answers this process's API."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "control_plane.cli", "compute", "--database-url",
        bare_system.dsn, "--name", "far", "--fake-hosts", "1", "--latency", "0",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        env=dict(os.environ))
    try:
        bare_system.start_scheduler()
        await wait_hosts_patiently(bare_system)
        transport = httpx.ASGITransport(app=bare_system.app())
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            api, admin = Api(http, "alice", "project-a"), Api(http, "admin", "admin")
            sid = (await api.create_server("remote"))["id"]
            await api.wait_status(sid, "ACTIVE", timeout=30)
            r = await api.post(f"/servers/{sid}/action", {"os-getConsoleOutput": {"length": 1}})
            assert r.status_code == 200 and r.json()["output"] == "remote login: "
            r = await admin.get(f"/servers/{sid}/diagnostics")
            assert r.status_code == 200 and r.json()["memory"] == 512 * 1024
            r = await api.post(f"/servers/{sid}/action",
                               {"os-getVNCConsole": {"type": "novnc"}})
            assert r.status_code == 200, r.text
            # once the other process is gone, nobody answers
            proc.terminate()
            await asyncio.wait_for(proc.wait(), 10)
            bare_system.settings.compute_rpc_timeout = 0.3
            r = await api.post(f"/servers/{sid}/action", {"os-getConsoleOutput": {}})
            assert_error(r, 503, "serviceUnavailable")
    finally:
        if proc.returncode is None:
            proc.kill()
            await asyncio.wait_for(proc.wait(), 10)


async def wait_hosts_patiently(system: System) -> None:
    """The other process needs a few seconds to start."""
    for _ in range(60):
        try:
            await wait_hosts(system, 1)
            return
        except AssertionError:
            continue
    raise AssertionError("the compute process did not register its host")
