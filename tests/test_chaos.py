"""Chaos: a steady create/delete load while the database drops every connection of the
service three times and the compute worker (its own process) is killed with SIGKILL.

Every create the API accepted ends ACTIVE or ERROR (with a fault), every delete it
accepted ends with the server gone, within 60 s of the load's end; nothing is left in
BUILD or deleting; the log's hash chain verifies.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from control_plane.bootstrap import open_system
from control_plane.config import DEFAULT_QUOTAS, Settings
from control_plane.ops import audit
from control_plane.store import db
from tests.conftest import IMAGE, Api
from tests.test_resilience import terminate_backends

LOAD_SECONDS = 16.0
SETTLE_SECONDS = 60.0


def _worker(dsn: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "control_plane.cli", "compute", "--name", "chaos",
             "--hosts", "2", "--latency", "0.02", "--database-url", dsn],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ,
                                                       "CONTROL_PLANE_PERIODIC_INTERVAL": "1"})


async def test_accepted_requests_settle_through_chaos(fresh_dsn: str, tmp_path: Path) -> None:
    quotas = {**DEFAULT_QUOTAS, "instances": -1, "cores": -1, "ram": -1}
    settings = Settings(auth_strategy="noauth", periodic_interval=0.2, quotas=quotas)
    system = await open_system(fresh_dsn, settings, pool_size=20)
    log = tmp_path / "worker.log"
    worker = _worker(fresh_dsn, log)
    created: set[str] = set()
    deleted: set[str] = set()
    refused: list[int] = []
    try:
        system.start_projection_runner()
        system.start_scheduler()
        # (an app error is a 500 answer, as a real server gives, not an exception here)
        transport = httpx.ASGITransport(app=system.app(), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t",
                                     timeout=30) as http:
            api = Api(http, "alice", "project-a")

            async def hosts_up() -> bool:
                async with system.pool.acquire() as conn:
                    return bool(await conn.fetchval("SELECT count(*) FROM v_hosts") >= 2)

            deadline = time.monotonic() + 60
            while not await hosts_up():
                assert time.monotonic() < deadline, log.read_text()
                await asyncio.sleep(0.1)

            stop = asyncio.Event()

            async def client(n: int) -> None:
                i = 0
                mine: list[str] = []
                while not stop.is_set():
                    i += 1
                    try:
                        r = await api.post("/servers", {"server": {
                            "name": f"c{n}-{i}", "flavorRef": "1", "imageRef": IMAGE}})
                        if r.status_code == 202:
                            created.add(r.json()["server"]["id"])
                            mine.append(r.json()["server"]["id"])
                        else:
                            refused.append(r.status_code)
                        if len(mine) > 2:
                            sid = mine.pop(0)
                            r = await api.delete(f"/servers/{sid}")
                            if r.status_code == 204:
                                deleted.add(sid)
                            else:
                                refused.append(r.status_code)
                    except httpx.HTTPError:
                        refused.append(0)
                    await asyncio.sleep(0.05)

            async def chaos() -> None:
                nonlocal worker
                for at, what in ((2.0, "terminate"), (5.0, "terminate"), (7.0, "kill"),
                                 (10.0, "terminate")):
                    await asyncio.sleep(at - (time.monotonic() - started))
                    if what == "terminate":
                        await terminate_backends(fresh_dsn)
                    else:
                        worker.send_signal(signal.SIGKILL)
                        await asyncio.to_thread(worker.wait)
                        await asyncio.sleep(0.5)
                        worker = _worker(fresh_dsn, log)

            started = time.monotonic()
            clients = [asyncio.create_task(client(n)) for n in range(4)]
            await chaos()
            await asyncio.sleep(max(0.0, LOAD_SECONDS - (time.monotonic() - started)))
            stop.set()
            await asyncio.gather(*clients)
            assert len(created) >= 20 and len(deleted) >= 5, (len(created), len(deleted))

            async def unsettled() -> dict[str, Any]:
                out: dict[str, Any] = {}
                async with system.pool.acquire() as conn:
                    rows = await conn.fetch(
                        "SELECT id::text, vm_state, task_state, fault, deleted FROM v_servers")
                for r in rows:
                    sid = r["id"]
                    if sid in deleted or r["task_state"] == "deleting":
                        if not r["deleted"]:
                            out[sid] = ("not deleted", r["vm_state"], r["task_state"])
                    elif r["deleted"]:
                        continue
                    elif r["vm_state"] not in ("active", "error") or r["task_state"]:
                        out[sid] = (r["vm_state"], r["task_state"])
                    elif r["vm_state"] == "error" and not r["fault"]:
                        out[sid] = ("error without a fault",)
                return out

            deadline = time.monotonic() + SETTLE_SECONDS
            while (left := await unsettled()):
                if time.monotonic() > deadline:
                    print(log.read_text()[-20000:])  # the worker's log, for the report
                    raise AssertionError(f"{len(left)} unsettled: {left}")
                await asyncio.sleep(0.5)
            async with system.pool.acquire() as conn:
                known = {r["id"] for r in await conn.fetch(
                    "SELECT id::text AS id FROM v_servers")}
            assert created <= known  # every accepted create is in the log
            for sid in list(deleted)[:5]:
                assert (await api.get(f"/servers/{sid}")).status_code == 404
        conn = await db.connect(fresh_dsn)
        try:
            report = await audit.verify(conn)
        finally:
            await conn.close()
        assert report.intact, report.summary()
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(worker.wait, 20)
        except subprocess.TimeoutExpired:
            worker.kill()
        await system.close()
