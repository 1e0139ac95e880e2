"""Real guests through the HTTP API: QEMU compute workers in their own processes.

Slow (each test boots the test guest under TCG several times). Needs qemu-system-x86_64,
qemu-img and the test image (``python scripts/build_test_image.py``); skipped without
them. ``pytest -m slow -s tests/test_qemu_e2e.py`` prints the measured times.

The API, scheduler and projections run in this process; each compute worker is a
``control-plane compute --driver qemu`` process, so it can be killed for real. The test
reads each guest's real state behind the control plane's back: its QEMU process (pid
file), its QMP status (through the guest's peer monitor: the worker holds the main one)
and its serial console log.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from control_plane.bootstrap import System
from control_plane.store.image_files import ImageFiles
from drivers.qemu.images import why_no_test_guest
from drivers.qemu.process import pid_alive, rss_kib
from drivers.qemu.qmp import QMPConnection
from tests.conftest import Api
from workers.compute.qemu_catalog import register_test_guest

pytestmark = pytest.mark.slow

MARKER = "CONTROL-PLANE-GUEST-READY"
WAIT = 120.0  # a TCG boot takes 5-15 s on two busy cores
TIMES: dict[str, float] = {}


@pytest.fixture(autouse=True)
def _needs_qemu() -> None:
    if (reason := why_no_test_guest()) is not None:
        pytest.skip(reason)


@pytest.fixture
def dirs() -> Iterator[tuple[Path, Path]]:
    root = Path(tempfile.mkdtemp(prefix="cpq-", dir="/tmp"))  # short: socket paths
    yield root / "g", root / "images"
    shutil.rmtree(root, ignore_errors=True)


class Worker:
    """A ``control-plane compute --driver qemu`` process for one host."""

    def __init__(self, dsn: str, name: str, state_dir: Path, image_dir: Path) -> None:
        self.dsn, self.name, self.state_dir, self.image_dir = dsn, name, state_dir, image_dir
        self.proc: asyncio.subprocess.Process | None = None
        self.log = state_dir.parent / f"worker-{name}.log"

    async def start(self) -> None:
        env = dict(os.environ, CONTROL_PLANE_SYNC_POWER_STATE_INTERVAL="2",
                   CONTROL_PLANE_PERIODIC_INTERVAL="0.5")
        with self.log.open("ab") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "control_plane.cli", "compute", "--driver", "qemu",
                "--name", self.name, "--database-url", self.dsn,
                "--state-dir", str(self.state_dir), "--image-dir", str(self.image_dir),
                "--shutdown-timeout", "20", stdin=asyncio.subprocess.DEVNULL,
                stdout=out, stderr=out, env=env)

    async def kill(self) -> None:
        """SIGKILL: no clean-up of any kind."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 15)
            except TimeoutError:
                await self.kill()

    def guest_dir(self, sid: str) -> Path:
        return self.state_dir / self.name / sid

    def qemu_pid(self, sid: str) -> int | None:
        try:
            pid = int((self.guest_dir(sid) / "qemu.pid").read_text())
        except (OSError, ValueError):
            return None
        return pid if pid_alive(pid) else None

    def console(self, sid: str) -> str:
        try:
            return (self.guest_dir(sid) / "console.log").read_text(errors="replace")
        except OSError:
            return ""

    async def qmp_status(self, sid: str) -> str | None:
        """The guest's run state from its peer monitor, None if no QEMU runs."""
        if self.qemu_pid(sid) is None:
            return None
        conn = QMPConnection(self.guest_dir(sid) / "peer.sock", name="test")
        await conn.connect(10)
        try:
            return await conn.status()
        finally:
            await conn.close()

    async def wait_console(self, sid: str, count: int, timeout: float = WAIT) -> float:
        started = time.monotonic()
        while self.console(sid).count(MARKER) < count:
            if time.monotonic() - started > timeout:
                raise AssertionError(f"{MARKER} x{count} not on {sid}'s console:\n"
                                     f"{self.console(sid)[-2000:]}")
            await asyncio.sleep(0.1)
        return time.monotonic() - started


def qemu_processes_under(root: Path) -> list[int]:
    """Live QEMU processes whose command line names a path under ``root``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                cmdline = (entry / "cmdline").read_bytes()
                if b"qemu-system" in cmdline and os.fsencode(root) in cmdline and \
                        pid_alive(int(entry.name)):
                    found.append(int(entry.name))
    return found


@contextlib.asynccontextmanager
async def cloud(system: System, state_dir: Path, image_dir: Path, *names: str
                ) -> AsyncIterator[tuple[Api, Api, dict[str, Worker], str]]:
    """The API (as alice and as admin), one QEMU worker per name, the test guest's image."""
    system.start_scheduler()
    image = await register_test_guest(system.bus, ImageFiles(image_dir))
    workers = {n: Worker(system.dsn, n, state_dir, image_dir) for n in names}
    try:
        for w in workers.values():
            await w.start()
        for _ in range(600):
            async with system.pool.acquire() as conn:
                if await conn.fetchval("SELECT count(*) FROM v_hosts") >= len(names):
                    break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the QEMU workers did not register their hosts")
        transport = httpx.ASGITransport(app=system.app())
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            yield Api(http, "alice", "project-a"), Api(http, "admin", "admin"), workers, image
    finally:
        for w in workers.values():
            await w.stop()
        for pid in qemu_processes_under(state_dir):  # never leave a guest running
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


async def act(api: Api, sid: str, body: dict[str, Any], *statuses: str,
              timeout: float = WAIT, name: str | None = None) -> dict[str, Any]:
    started = time.monotonic()
    r = await api.post(f"/servers/{sid}/action", body)
    assert r.status_code in (200, 202, 204), r.text
    server = await api.wait_status(sid, *statuses, timeout=timeout)
    assert server.get("OS-EXT-STS:task_state") is None, server
    TIMES[name or next(iter(body))] = time.monotonic() - started
    return server


async def console_via_api(api: Api, sid: str) -> str:
    r = await api.post(f"/servers/{sid}/action", {"os-getConsoleOutput": {}})
    assert r.status_code == 200, r.text
    output: str = r.json()["output"]
    return output


async def test_a_real_guest_through_its_whole_lifecycle(
        bare_system: System, dirs: tuple[Path, Path]) -> None:
    state_dir, image_dir = dirs
    async with cloud(bare_system, state_dir, image_dir, "qa") as (api, _, workers, image):
        w = workers["qa"]
        started = time.monotonic()
        sid = (await api.create_server("real", flavor="1", image=image))["id"]
        server = await api.wait_status(sid, "ACTIVE", timeout=WAIT)
        TIMES["create -> ACTIVE"] = time.monotonic() - started
        assert server["OS-EXT-STS:power_state"] == 1
        await w.wait_console(sid, 1)
        TIMES["create -> marker"] = time.monotonic() - started
        assert await w.qmp_status(sid) == "running"
        assert MARKER in await console_via_api(api, sid)
        pid = w.qemu_pid(sid)
        assert pid is not None
        TIMES["RSS per guest (MiB)"] = (rss_kib(pid) or 0) / 1024

        await act(api, sid, {"reboot": {"type": "SOFT"}}, "ACTIVE", name="soft reboot")
        await w.wait_console(sid, 2)  # it really went down and booted again
        assert w.qemu_pid(sid) == pid and await w.qmp_status(sid) == "running"

        await act(api, sid, {"os-stop": None}, "SHUTOFF", name="stop")
        assert w.qemu_pid(sid) is None  # a stopped guest has no QEMU
        await act(api, sid, {"os-start": None}, "ACTIVE", name="start")
        await w.wait_console(sid, 3)
        assert await w.qmp_status(sid) == "running"

        await act(api, sid, {"pause": None}, "PAUSED")
        assert await w.qmp_status(sid) == "paused"
        await act(api, sid, {"unpause": None}, "ACTIVE")
        assert await w.qmp_status(sid) == "running"

        await act(api, sid, {"suspend": None}, "SUSPENDED")
        assert w.qemu_pid(sid) is None and (w.guest_dir(sid) / "memory.state").is_file()
        await act(api, sid, {"resume": None}, "ACTIVE")
        assert await w.qmp_status(sid) == "running"
        assert not (w.guest_dir(sid) / "memory.state").exists()
        assert w.console(sid).count(MARKER) == 3  # resumed, not rebooted

        started = time.monotonic()
        r = await api.post(f"/servers/{sid}/action", {"createImage": {"name": "snap"}})
        assert r.status_code == 202, r.text
        snap = r.headers["Location"].rsplit("/", 1)[1]
        for _ in range(int(WAIT * 10)):
            r = await api.get(f"/images/{snap}")
            if r.json()["image"]["status"] == "ACTIVE":
                break
            await asyncio.sleep(0.1)
        TIMES["createImage"] = time.monotonic() - started
        assert r.json()["image"]["status"] == "ACTIVE", r.text
        assert ImageFiles(image_dir).has(snap) and r.json()["image"]["OS-EXT-IMG-SIZE:size"] > 0
        server = await api.wait_status(sid, "ACTIVE")
        assert server["OS-EXT-STS:task_state"] is None
        assert await w.qmp_status(sid) == "running"

        started = time.monotonic()
        r = await api.delete(f"/servers/{sid}")
        assert r.status_code == 204
        await api.wait_status(sid, "DELETED", timeout=WAIT)
        TIMES["delete"] = time.monotonic() - started
        assert not w.guest_dir(sid).exists()
        assert qemu_processes_under(state_dir) == []
        assert list((state_dir / "qa").iterdir()) == []
    print("\nQEMU guest through the API (seconds):",
          ", ".join(f"{k} {v:.2f}" for k, v in TIMES.items()))


async def test_killed_worker_and_killed_guest(
        bare_system: System, dirs: tuple[Path, Path]) -> None:
    state_dir, image_dir = dirs
    async with cloud(bare_system, state_dir, image_dir, "qk") as (api, _, workers, image):
        w = workers["qk"]
        sid = (await api.create_server("survivor", flavor="1", image=image))["id"]
        await api.wait_status(sid, "ACTIVE", timeout=WAIT)
        await w.wait_console(sid, 1)
        pid = w.qemu_pid(sid)

        # the worker dies: the guest goes on; a new worker takes it over, leaves it ACTIVE
        await w.kill()
        assert w.qemu_pid(sid) == pid and await w.qmp_status(sid) == "running"
        await w.start()
        await asyncio.sleep(6)  # a start-up and at least two power-state syncs (every 2 s)
        server = await api.wait_status(sid, "ACTIVE")
        assert server["OS-EXT-STS:power_state"] == 1 and w.qemu_pid(sid) == pid
        await act(api, sid, {"pause": None}, "PAUSED")  # the new worker drives it
        assert await w.qmp_status(sid) == "paused"
        await act(api, sid, {"unpause": None}, "ACTIVE")

        # the guest's QEMU dies: the server goes SHUTOFF, stopped by the compute worker
        started = time.monotonic()
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        server = await api.wait_status(sid, "SHUTOFF", timeout=30)
        TIMES["killed QEMU -> SHUTOFF"] = time.monotonic() - started
        assert server["OS-EXT-STS:power_state"] == 4
        r = await api.get(f"/servers/{sid}/os-instance-actions")
        actions = r.json()["instanceActions"]
        assert actions[0]["action"] == "stop" and actions[0]["user_id"] == "compute:qk"
        # and it can be started again
        await act(api, sid, {"os-start": None}, "ACTIVE", name="start after crash")
        await w.wait_console(sid, 2)
    print("\nQEMU reconciliation (seconds):",
          ", ".join(f"{k} {v:.2f}" for k, v in TIMES.items()))


async def until(check: Any, timeout: float = 30.0) -> None:
    """Wait for a condition the API does not wait for (a confirmed resize's source copy
    is removed after the server is ACTIVE again, as in Nova)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def host_of(server: dict[str, Any]) -> str:
    host: str = server["OS-EXT-SRV-ATTR:host"]
    return host


async def test_moves_rescue_rebuild_and_shelve_between_two_workers(
        bare_system: System, dirs: tuple[Path, Path]) -> None:
    state_dir, image_dir = dirs
    async with cloud(bare_system, state_dir, image_dir, "qa", "qb") as (
            api, admin, workers, image):
        sid = (await api.create_server("mover", flavor="1", image=image))["id"]
        await api.wait_status(sid, "ACTIVE", timeout=WAIT)
        first = host_of((await admin.get(f"/servers/{sid}")).json()["server"])
        src, dst = workers[first], workers["qb" if first == "qa" else "qa"]
        await src.wait_console(sid, 1)

        # resize: the guest boots on the other host with the new flavor; revert: back
        server = await act(api, sid, {"resize": {"flavorRef": "2"}}, "VERIFY_RESIZE")
        assert await dst.qmp_status(sid) == "running" and src.qemu_pid(sid) is None
        assert '"memory_mb": 2048' in (dst.guest_dir(sid) / "guest.json").read_text()
        await dst.wait_console(sid, 2)  # the source's console log came along
        await act(api, sid, {"revertResize": None}, "ACTIVE")
        assert not dst.guest_dir(sid).exists() and await src.qmp_status(sid) == "running"
        server = (await admin.get(f"/servers/{sid}")).json()["server"]
        assert host_of(server) == src.name and server["flavor"]["id"] == "1"

        # cold migration, confirmed: the source copy goes
        await act(admin, sid, {"migrate": None}, "VERIFY_RESIZE")
        await act(api, sid, {"confirmResize": None}, "ACTIVE")
        await until(lambda: not src.guest_dir(sid).exists())
        assert await dst.qmp_status(sid) == "running"
        await dst.wait_console(sid, 3)

        # live migration back: the guest keeps running (no new boot) on the source host
        boots = dst.console(sid).count(MARKER)
        await act(admin, sid, {"os-migrateLive": {"host": src.name, "block_migration": False,
                                                  "disk_over_commit": False}}, "ACTIVE",
                  name="live migration")
        assert host_of((await admin.get(f"/servers/{sid}")).json()["server"]) == src.name
        assert await src.qmp_status(sid) == "running" and not dst.guest_dir(sid).exists()
        await asyncio.sleep(1)
        assert src.console(sid).count(MARKER) == boots

        # rescue boots the rescue image with the guest's disk attached; unrescue boots it
        await act(api, sid, {"rescue": {}}, "RESCUE")
        assert '"rescue": {' in (src.guest_dir(sid) / "guest.json").read_text()
        await src.wait_console(sid, boots + 1)
        await act(api, sid, {"unrescue": None}, "ACTIVE")
        await src.wait_console(sid, boots + 2)
        assert '"rescue": null' in (src.guest_dir(sid) / "guest.json").read_text()

        await act(api, sid, {"rebuild": {"imageRef": image}}, "ACTIVE")
        await src.wait_console(sid, boots + 3)

        # shelve (offloaded at once): snapshot, guest gone; unshelve boots the snapshot
        await act(api, sid, {"shelve": None}, "SHELVED_OFFLOADED")
        assert qemu_processes_under(state_dir) == []
        shelved = (await admin.get(f"/servers/{sid}")).json()["server"]
        assert shelved["OS-EXT-SRV-ATTR:host"] is None
        await act(api, sid, {"unshelve": None}, "ACTIVE")
        server = (await admin.get(f"/servers/{sid}")).json()["server"]
        assert await workers[host_of(server)].qmp_status(sid) == "running"
        await workers[host_of(server)].wait_console(sid, 1)

        r = await api.delete(f"/servers/{sid}")
        assert r.status_code == 204
        await api.wait_status(sid, "DELETED", timeout=WAIT)
        assert qemu_processes_under(state_dir) == []
        assert [p for w in workers.values() for p in (state_dir / w.name).iterdir()] == []
    print("\nQEMU moves (seconds):", ", ".join(f"{k} {v:.2f}" for k, v in TIMES.items()))
