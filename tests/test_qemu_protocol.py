"""The QEMU driver's logic against a scripted fake QMP server (no QEMU needed).

FakeVM speaks QMP on a unix socket (greeting, qmp_capabilities, the commands the driver
uses, events) and keeps a run state like QEMU's; FakeProcesses stands in for starting
and killing QEMU processes. Scripts: lost ACPI presses, a guest that ignores the power
button, scripted errors and hangs.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from control_plane.store.image_files import ImageFiles
from drivers.base import (
    ConsoleUnavailable,
    DriverError,
    GuestNotFound,
    GuestNotRunning,
    HostSpec,
    InstanceSpec,
)
from drivers.qemu import GuestImage, QemuDriver
from drivers.qemu.process import (
    GuestConfig,
    GuestPaths,
    QemuProcesses,
    build_command,
    mac_for,
)
from drivers.qemu.qmp import QMPCommandError, QMPConnection, QMPFailure
from drivers.qemu.readings import CRASHED, PAUSED, RUNNING, SHUTDOWN, SUSPENDED

HOST = "qemu-host-1"
SID = "6f1f7c1e-0000-4000-8000-000000000001"


async def _json_stream(reader: asyncio.StreamReader) -> AsyncIterator[dict[str, Any]]:
    """JSON objects as a client writes them: QMP clients need not end them with newlines
    (qemu.qmp does not)."""
    decoder = json.JSONDecoder()
    buf = ""
    while chunk := await reader.read(4096):
        buf += chunk.decode()
        while buf.strip():
            try:
                msg, end = decoder.raw_decode(buf.lstrip())
            except ValueError:
                break
            buf = buf.lstrip()[end:]
            yield msg


class FakeVM:
    """A QMP server with a QEMU-like run state."""

    def __init__(self, socket_path: Path, *, incoming: bool = False, lost_presses: int = 0,
                 ignores_powerdown: bool = False) -> None:
        self.socket_path = socket_path
        self.status = "inmigrate" if incoming else "running"
        self.lost_presses = lost_presses
        self.ignores_powerdown = ignores_powerdown
        self.commands: list[tuple[str, dict[str, Any]]] = []
        self.errors: dict[str, tuple[str, str]] = {}  # command -> (class, desc)
        self.hang: set[str] = set()
        self.alive = True
        self.pid = 0
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, sock: socket.socket | None = None) -> None:
        if sock is not None:
            self._server = await asyncio.start_unix_server(self._serve, sock=sock)
        else:
            self._server = await asyncio.start_unix_server(self._serve,
                                                           path=str(self.socket_path))

    def names(self) -> list[str]:
        return [c for c, _ in self.commands if c not in ("qmp_capabilities", "query-status")]

    async def stop(self) -> None:
        self.alive = False
        for w in self._writers:
            w.close()
        if self._server is not None:
            self._server.close()
        for t in self._tasks:
            t.cancel()

    def _later(self, delay: float, fn: Any) -> None:
        async def run() -> None:
            await asyncio.sleep(delay)
            fn()
        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def emit(self, event: str, data: dict[str, Any] | None = None) -> None:
        now = time.time()
        msg = {"event": event, "data": data or {},
               "timestamp": {"seconds": int(now), "microseconds": 0}}
        for w in self._writers:
            if not w.is_closing():
                w.write(json.dumps(msg).encode() + b"\n")

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
                     ) -> None:
        self._writers.append(writer)
        writer.write(json.dumps({"QMP": {"version": {"qemu": {"major": 7, "minor": 2,
                                                               "micro": 0}, "package": ""},
                                         "capabilities": []}}).encode() + b"\n")
        with contextlib.suppress(ConnectionError):
            async for msg in _json_stream(reader):
                cmd, args = msg["execute"], msg.get("arguments") or {}
                self.commands.append((cmd, args))
                if cmd in self.hang:
                    continue
                reply: dict[str, Any]
                if cmd in self.errors:
                    cls, desc = self.errors[cmd]
                    reply = {"error": {"class": cls, "desc": desc}}
                else:
                    reply = self._handle(cmd, args)
                if "id" in msg:
                    reply["id"] = msg["id"]
                writer.write(json.dumps(reply).encode() + b"\n")
                await writer.drain()
                if cmd == "quit":
                    self.emit("SHUTDOWN", {"guest": False, "reason": "host-qmp-quit"})
                    await writer.drain()
                    await self.stop()
                    return
        writer.close()

    def _guest_shutdown(self) -> None:
        self.status = "shutdown"
        self.emit("SHUTDOWN", {"guest": True, "reason": "guest-shutdown"})
        self.emit("STOP")

    def _reset(self) -> None:
        self.emit("RESET", {"guest": False, "reason": "host-qmp-system-reset"})
        if self.status == "shutdown":
            self.status = "prelaunch"

    def _handle(self, cmd: str, args: dict[str, Any]) -> dict[str, Any]:
        ok: dict[str, Any] = {"return": {}}
        if cmd == "query-status":
            return {"return": {"status": self.status, "running": self.status == "running",
                               "singlestep": False}}
        if cmd == "stop":
            if self.status == "running":
                self.status = "paused"
                self.emit("STOP")
        elif cmd == "cont":
            if self.status in ("shutdown", "inmigrate"):
                return {"error": {"class": "GenericError",
                                  "desc": "Resetting the Virtual Machine is required"}}
            self.status = "running"
            self.emit("RESUME")
        elif cmd == "system_powerdown":
            self.emit("POWERDOWN")
            if self.lost_presses > 0:
                self.lost_presses -= 1
            elif not self.ignores_powerdown and self.status == "running":
                self._later(0.02, self._guest_shutdown)
        elif cmd == "system_reset":
            self._later(0.01, self._reset)  # QEMU resets from its main loop, later
        elif cmd == "migrate":
            uri = args["uri"]
            target = re.fullmatch(r"exec:cat > '?([^']*)'?", uri)
            assert target, uri
            Path(target.group(1)).write_bytes(b"fake guest state")
            self.status = "postmigrate"
        elif cmd == "query-migrate":
            return {"return": {"status": "completed"}}
        elif cmd == "migrate-incoming":
            def done() -> None:
                self.status = "paused"
            self._later(0.05, done)
        elif cmd == "query-vnc":
            return {"return": {"enabled": True, "host": "127.0.0.1", "service": "5901",
                               "family": "ipv4", "auth": "none", "clients": []}}
        elif cmd == "query-cpus-fast":
            return {"return": [{"cpu-index": 0, "thread-id": 4242, "target": "x86_64"},
                               {"cpu-index": 1, "thread-id": 4243, "target": "x86_64"}]}
        elif cmd == "query-memory-size-summary":
            return {"return": {"base-memory": 256 * 1024 * 1024, "plugged-memory": 0}}
        elif cmd == "query-blockstats":
            return {"return": [{"device": "", "node-name": "vda", "qdev": "vda-dev",
                                "stats": {"rd_bytes": 512, "rd_operations": 2,
                                          "wr_bytes": 4096, "wr_operations": 1,
                                          "failed_rd_operations": 0,
                                          "failed_wr_operations": 1}}]}
        return ok


class FakeProcesses(QemuProcesses):
    """QEMU processes that are FakeVMs."""

    def __init__(self, **vm_options: Any) -> None:
        super().__init__()
        self.vm_options = vm_options
        self.vms: dict[Path, FakeVM] = {}
        self.starts: list[tuple[str, bool]] = []
        self.kills = 0
        self._next_pid = 40000

    async def create_disk(self, config: GuestConfig, paths: GuestPaths) -> None:
        paths.disk.write_bytes(b"")

    async def grow_disk(self, disk: Path, disk_gb: int) -> None:
        self.grown = (disk, disk_gb)

    async def export_disk(self, disk: Path, target: Path, timeout: float = 600.0) -> None:
        self.exported_while = [vm.status for vm in self.vms.values() if vm.alive]
        await asyncio.to_thread(target.write_bytes, b"QFI\xfb exported disk")

    async def start(self, config: GuestConfig, paths: GuestPaths, incoming: bool = False,
                    timeout: float = 30.0) -> int:
        build_command("qemu-system-x86_64", config, paths, incoming)  # must not fail
        vm = FakeVM(paths.qmp, incoming=incoming, **self.vm_options)
        self._next_pid += 1
        vm.pid = self._next_pid
        await vm.start()
        paths.pid.write_text(str(vm.pid))
        self.vms[paths.root] = vm
        self.starts.append((config.server_id, incoming))
        return vm.pid

    def vm(self, server_id: str = SID) -> FakeVM:
        return next(v for p, v in self.vms.items() if p.name == server_id)

    def running_pid(self, paths: GuestPaths) -> int | None:
        vm = self.vms.get(paths.root)
        return vm.pid if vm is not None and vm.alive else None

    def _by_pid(self, pid: int) -> FakeVM | None:
        return next((v for v in self.vms.values() if v.pid == pid), None)

    async def wait_exit(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while (vm := self._by_pid(pid)) is not None and vm.alive:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.005)
        return True

    async def kill(self, pid: int, timeout: float = 5.0) -> None:
        self.kills += 1
        if (vm := self._by_pid(pid)) is not None:
            await vm.stop()

    def rss_kib(self, pid: int) -> int | None:
        return 123456

    def thread_cpu_ns(self, pid: int, tid: int) -> int | None:
        return 1_000_000 * tid


@pytest.fixture
def state_dir() -> Iterator[Path]:
    # short: unix socket paths must fit in 107 bytes (the fake binds them directly)
    path = Path(tempfile.mkdtemp(prefix="cpq-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def image(ref: str) -> GuestImage:
    return GuestImage(kernel="/nonexistent/vmlinuz", initrd="/nonexistent/initrd",
                      append="console=ttyS0")


def make_driver(state_dir: Path, processes: FakeProcesses, **options: Any) -> QemuDriver:
    options.setdefault("powerdown_interval", 0.05)
    options.setdefault("shutdown_timeout", 2.0)
    options.setdefault("qmp_timeout", 2.0)
    return QemuDriver([HostSpec(HOST)], state_dir, image, processes=processes,
                      accel="tcg", **options)


@pytest.fixture
async def guest(state_dir: Path) -> AsyncIterator[tuple[QemuDriver, FakeProcesses]]:
    processes = FakeProcesses()
    driver = make_driver(state_dir, processes)
    await driver.spawn(HOST, SPEC)
    yield driver, processes
    await driver.close()
    for vm in processes.vms.values():
        await vm.stop()


SPEC = InstanceSpec(server_id=SID, name="vm-1", vcpus=2, memory_mb=256, disk_gb=1,
                    image_ref="img-1")


# -- the QMP layer -------------------------------------------------------------------------


async def test_connect_retries_until_the_socket_appears(state_dir: Path) -> None:
    vm = FakeVM(state_dir / "qmp.sock")
    conn = QMPConnection(vm.socket_path)

    async def late_start() -> None:
        await asyncio.sleep(0.3)
        await vm.start()

    starter = asyncio.create_task(late_start())
    await conn.connect(timeout=5.0, interval=0.02)
    await starter
    assert conn.connected
    assert conn.greeting is not None and conn.greeting["QMP"]["version"]["qemu"]["major"] == 7
    assert await conn.status() == "running"
    await conn.close()
    assert not conn.connected
    await vm.stop()


async def test_connect_gives_up_with_a_clear_error(state_dir: Path) -> None:
    conn = QMPConnection(state_dir / "missing.sock")
    started = time.monotonic()
    with pytest.raises(QMPFailure, match=r"missing\.sock within 0\.3 s"):
        await conn.connect(timeout=0.3)
    assert time.monotonic() - started < 2


async def test_connects_to_a_socket_path_longer_than_sun_path(state_dir: Path) -> None:
    deep = state_dir / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    path = deep / "qmp.sock"
    assert len(str(path)) > 108
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dir_fd = os.open(deep, os.O_PATH | os.O_DIRECTORY)
    try:
        sock.bind(f"/proc/self/fd/{dir_fd}/qmp.sock")
    finally:
        os.close(dir_fd)
    vm = FakeVM(path)
    await vm.start(sock=sock)
    conn = QMPConnection(path)
    await conn.connect(timeout=2.0)
    assert await conn.status() == "running"
    await conn.close()
    await vm.stop()


async def test_command_errors_and_timeouts_name_the_command(state_dir: Path) -> None:
    vm = FakeVM(state_dir / "qmp.sock")
    await vm.start()
    vm.errors["device_add"] = ("GenericError", "Duplicate device ID 'vda-dev'")
    vm.hang.add("query-migrate")
    conn = QMPConnection(vm.socket_path)
    await conn.connect()
    with pytest.raises(QMPCommandError, match="device_add failed: GenericError: Duplicate") \
            as err:
        await conn.execute("device_add", {"driver": "virtio-blk-pci", "id": "vda-dev"})
    assert err.value.error_class == "GenericError"
    with pytest.raises(QMPFailure, match=r"query-migrate timed out after 0\.2 s"):
        await conn.execute("query-migrate", timeout=0.2)
    assert await conn.status() == "running"  # the connection survives both
    await conn.close()
    await vm.stop()


async def test_watch_sees_events_sent_after_it_was_registered(state_dir: Path) -> None:
    vm = FakeVM(state_dir / "qmp.sock")
    await vm.start()
    forwarded: list[tuple[str, dict[str, Any]]] = []
    conn = QMPConnection(vm.socket_path, on_event=lambda n, d: forwarded.append((n, d)))
    await conn.connect()
    with conn.watch("SHUTDOWN") as waiter:
        await conn.execute("system_powerdown")
        event = await waiter.wait(2.0, "SHUTDOWN")
    assert event is not None and event["data"] == {"guest": True, "reason": "guest-shutdown"}
    assert waiter.seen() == ["SHUTDOWN"]
    vm.emit("RTC_CHANGE", {"offset": 1})  # not a lifecycle event: not forwarded
    vm.emit("RESUME")
    for _ in range(100):
        if any(n == "RESUME" for n, _ in forwarded):
            break
        await asyncio.sleep(0.01)
    assert [n for n, _ in forwarded] == ["POWERDOWN", "SHUTDOWN", "STOP", "RESUME"]
    with conn.watch("RESET") as waiter:
        assert await waiter.wait(0.1) is None
    await conn.close()
    await vm.stop()


# -- spawn, destroy, find again --------------------------------------------------------------


async def test_spawn_starts_one_guest_and_is_idempotent(state_dir: Path) -> None:
    processes = FakeProcesses()
    driver = make_driver(state_dir, processes)
    info = await driver.spawn(HOST, SPEC)
    again = await driver.spawn(HOST, SPEC)
    assert processes.starts == [(SID, False)]
    assert info.power_state == again.power_state == RUNNING
    mac = info.addresses["private"][0]["OS-EXT-IPS-MAC:mac_addr"]
    assert mac == mac_for(SID) and mac.startswith("fa:16:3e:")
    config = GuestConfig.load(state_dir / HOST / SID / "guest.json")
    assert (config.vcpus, config.memory_mb, config.kernel) == (2, 256, "/nonexistent/vmlinuz")
    assert await driver.list_instances(HOST) == [SID]
    await driver.destroy(HOST, SID)
    await driver.close()


async def test_a_failed_spawn_leaves_nothing_behind(state_dir: Path) -> None:
    class Failing(FakeProcesses):
        async def start(self, config: GuestConfig, paths: GuestPaths, incoming: bool = False,
                        timeout: float = 30.0) -> int:
            raise DriverError("qemu-system-x86_64 failed: could not load kernel")

    driver = make_driver(state_dir, Failing())
    with pytest.raises(DriverError, match="could not load kernel"):
        await driver.spawn(HOST, SPEC)
    assert await driver.list_instances(HOST) == []
    assert not (state_dir / HOST / SID).exists()


async def test_destroy_quits_and_removes_the_guest_twice_over(
        guest: tuple[QemuDriver, FakeProcesses], state_dir: Path) -> None:
    driver, processes = guest
    vm = processes.vm()
    await driver.destroy(HOST, SID)
    assert vm.names()[-1] == "quit" and not vm.alive and processes.kills == 0
    assert not (state_dir / HOST / SID).exists()
    assert await driver.get_info(HOST, SID) is None
    await driver.destroy(HOST, SID)  # already gone: fine


async def test_destroy_kills_a_guest_whose_monitor_hangs(state_dir: Path) -> None:
    processes = FakeProcesses()
    driver = make_driver(state_dir, processes, qmp_timeout=0.3)
    await driver.spawn(HOST, SPEC)
    vm = processes.vm()
    vm.hang.add("quit")
    await driver.destroy(HOST, SID)
    assert processes.kills == 1 and not vm.alive
    assert not (state_dir / HOST / SID).exists()


async def test_a_new_driver_finds_running_guests_again(
        guest: tuple[QemuDriver, FakeProcesses], state_dir: Path) -> None:
    driver, processes = guest
    await driver.close()  # the worker goes away; the guest keeps running
    restarted = make_driver(state_dir, processes)
    assert await restarted.list_instances(HOST) == [SID]
    info = await restarted.get_info(HOST, SID)
    assert info is not None and info.power_state == RUNNING
    await restarted.pause(HOST, SID)
    assert processes.vm().status == "paused"
    assert len(processes.starts) == 1
    await restarted.close()


async def test_unknown_guests_and_hosts(state_dir: Path) -> None:
    driver = make_driver(state_dir, FakeProcesses())
    assert await driver.get_info(HOST, SID) is None
    assert await driver.list_instances(HOST) == []
    for call in (driver.power_off(HOST, SID), driver.reboot(HOST, SID, "SOFT"),
                 driver.get_console_output(HOST, SID), driver.pause(HOST, SID)):
        with pytest.raises(GuestNotFound):
            await call
    with pytest.raises(DriverError, match="Compute host nope could not be found"):
        await driver.spawn("nope", SPEC)


# -- power -----------------------------------------------------------------------------------


async def test_power_off_presses_the_button_then_quits(
        guest: tuple[QemuDriver, FakeProcesses]) -> None:
    driver, processes = guest
    vm = processes.vm()
    await driver.power_off(HOST, SID)
    assert vm.names() == ["system_powerdown", "quit"]
    assert processes.kills == 0
    info = await driver.get_info(HOST, SID)
    assert info is not None and info.power_state == SHUTDOWN
    await driver.power_off(HOST, SID)  # already off: nothing to do
    await driver.power_on(HOST, SID)
    assert processes.starts == [(SID, False), (SID, False)]
    info = await driver.get_info(HOST, SID)
    assert info is not None and info.power_state == RUNNING


async def test_power_off_presses_again_when_a_press_is_lost(state_dir: Path) -> None:
    processes = FakeProcesses(lost_presses=2)
    driver = make_driver(state_dir, processes)
    await driver.spawn(HOST, SPEC)
    vm = processes.vm()
    await driver.power_off(HOST, SID)
    assert vm.names() == ["system_powerdown"] * 3 + ["quit"]
    await driver.close()


async def test_power_off_falls_back_to_quit_when_the_guest_ignores_the_button(
        state_dir: Path) -> None:
    processes = FakeProcesses(ignores_powerdown=True)
    driver = make_driver(state_dir, processes, shutdown_timeout=0.4)
    await driver.spawn(HOST, SPEC)
    vm = processes.vm()
    started = time.monotonic()
    await driver.power_off(HOST, SID)
    elapsed = time.monotonic() - started
    assert 0.4 <= elapsed < 1.5
    presses = vm.names().count("system_powerdown")
    assert presses >= 5  # every 0.05 s for 0.4 s
    assert vm.names()[-1] == "quit" and not vm.alive
    info = await driver.get_info(HOST, SID)
    assert info is not None and info.power_state == SHUTDOWN
    await driver.close()


async def test_power_off_of_a_paused_guest_does_not_wait_for_acpi(
        guest: tuple[QemuDriver, FakeProcesses]) -> None:
    driver, processes = guest
    await driver.pause(HOST, SID)
    await driver.power_off(HOST, SID)
    assert processes.vm().names() == ["stop", "quit"]


async def test_power_on_of_a_guest_that_shut_itself_down_resets_it(
        guest: tuple[QemuDriver, FakeProcesses]) -> None:
    driver, processes = guest
    vm = processes.vm()
    vm.status = "shutdown"  # the guest ran poweroff; -no-shutdown keeps QEMU
    info = await driver.get_info(HOST, SID)
    assert info is not None and info.power_state == SHUTDOWN
    await driver.power_on(HOST, SID)
    assert vm.names() == ["system_reset", "cont"]
    assert vm.status == "running" and len(processes.starts) == 1


# -- reboot ----------------------------------------------------------------------------------


async def test_soft_reboot_shuts_down_then_resets_and_continues(
        guest: tuple[QemuDriver, FakeProcesses]) -> None:
    driver, processes = guest
    vm = processes.vm()
    await driver.reboot(HOST, SID, "SOFT")
    assert vm.names() == ["system_powerdown", "system_reset", "cont"]
    assert vm.status == "running"


async def test_soft_reboot_retries_then_resets_a_guest_that_ignores_the_button(
        state_dir: Path) -> None:
    processes = FakeProcesses(ignores_powerdown=True)
    driver = make_driver(state_dir, processes, reboot_timeout=0.3)
    await driver.spawn(HOST, SPEC)
    vm = processes.vm()
    await driver.reboot(HOST, SID, "SOFT")
    names = vm.names()
    assert names.count("system_powerdown") >= 3
    assert names[-1] == "system_reset"  # it kept running: no cont needed
    assert vm.status == "running"
    await driver.close()


async def test_hard_reboot_resets_and_runs_a_paused_guest(
        guest: tuple[QemuDriver, FakeProcesses]) -> None:
    driver, processes = guest
    vm = processes.vm()
    await driver.reboot(HOST, SID, "HARD")
    assert vm.names() == ["system_reset"]
    await driver.pause(HOST, SID)
    await driver.reboot(HOST, SID, "HARD")
    assert vm.names() == ["system_reset", "stop", "system_reset", "cont"]
    assert vm.status == "running"


async def test_reboot_of_a_stopped_guest_is_refused(
        guest: tuple[QemuDriver, FakeProcesses]) -> None:
    driver, _ = guest
    await driver.power_off(HOST, SID)
    with pytest.raises(GuestNotRunning) as err:
        await driver.reboot(HOST, SID, "HARD")
    assert err.value.power_state == SHUTDOWN


# -- pause, suspend --------------------------------------------------------------------------


async def test_pause_and_unpause(guest: tuple[QemuDriver, FakeProcesses]) -> None:
    driver, processes = guest
    vm = processes.vm()
    await driver.pause(HOST, SID)
    await driver.pause(HOST, SID)  # already paused: no second stop
    info = await driver.get_info(HOST, SID)
    assert info is not None and info.power_state == PAUSED
    await driver.unpause(HOST, SID)
    info = await driver.get_info(HOST, SID)
    assert info is not None and info.power_state == RUNNING
    assert vm.names() == ["stop", "cont"]
    vm.status = "shutdown"
    with pytest.raises(GuestNotRunning) as err:
        await driver.pause(HOST, SID)
    assert err.value.power_state == SHUTDOWN


async def test_suspend_saves_the_state_and_resume_restores_it(
        guest: tuple[QemuDriver, FakeProcesses], state_dir: Path) -> None:
    driver, processes = guest
    vm = processes.vm()
    await driver.suspend(HOST, SID)
    state = state_dir / HOST / SID / "memory.state"
    assert vm.names()[:2] == ["stop", "migrate"] and vm.names()[-1] == "quit"
    assert state.read_bytes() == b"fake guest state" and not vm.alive
    info = await driver.get_info(HOST, SID)
    assert info is not None and info.power_state == SHUTDOWN
    await driver.resume(HOST, SID)
    assert processes.starts[-1] == (SID, True)
    restored = processes.vm()
    assert restored is not vm
    assert restored.names() == ["migrate-incoming", "query-migrate", "cont"]
    assert restored.commands[1][1] == {"uri": f"exec:cat {state}"}
    assert restored.status == "running" and not state.exists()
    await driver.resume(HOST, SID)  # already running: nothing to do
    assert len(processes.starts) == 2


async def test_power_on_of_a_suspended_guest_restores_it(
        guest: tuple[QemuDriver, FakeProcesses]) -> None:
    driver, processes = guest
    await driver.suspend(HOST, SID)
    await driver.power_on(HOST, SID)
    assert processes.starts[-1] == (SID, True)
    assert processes.vm().status == "running"


# -- reads -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "power_state"), [
    ("running", RUNNING), ("paused", PAUSED), ("prelaunch", PAUSED), ("inmigrate", PAUSED),
    ("shutdown", SHUTDOWN), ("guest-panicked", CRASHED), ("internal-error", CRASHED),
    ("suspended", SUSPENDED)])
async def test_query_status_maps_to_power_states(
        guest: tuple[QemuDriver, FakeProcesses], status: str, power_state: int) -> None:
    driver, processes = guest
    processes.vm().status = status
    info = await driver.get_info(HOST, SID)
    assert info is not None and info.power_state == power_state


async def test_lifecycle_events_reach_the_callback(state_dir: Path) -> None:
    seen: list[tuple[str, str, str, dict[str, Any]]] = []
    processes = FakeProcesses()
    driver = make_driver(state_dir, processes,
                         on_event=lambda h, s, n, d: seen.append((h, s, n, d)))
    await driver.spawn(HOST, SPEC)
    await driver.pause(HOST, SID)
    await driver.unpause(HOST, SID)
    processes.vm()._guest_shutdown()  # the guest powers itself off
    for _ in range(100):
        if len(seen) >= 4:
            break
        await asyncio.sleep(0.01)
    assert [(h, s, n) for h, s, n, _ in seen] == [
        (HOST, SID, "STOP"), (HOST, SID, "RESUME"), (HOST, SID, "SHUTDOWN"),
        (HOST, SID, "STOP")]
    assert seen[2][3] == {"guest": True, "reason": "guest-shutdown"}
    await driver.destroy(HOST, SID)


async def test_console_output_is_the_serial_log_without_terminal_escapes(
        guest: tuple[QemuDriver, FakeProcesses], state_dir: Path) -> None:
    driver, _ = guest
    log = state_dir / HOST / SID / "console.log"
    log.write_bytes(b"Booting from ROM..\x1bc\x1b[?7l\x1b[2JLinux version 6.1\r\n"
                    b"CONTROL-PLANE-GUEST-READY cpus=2\r\n/ # \x1b[6n")
    assert await driver.get_console_output(HOST, SID) == (
        "Booting from ROM..Linux version 6.1\nCONTROL-PLANE-GUEST-READY cpus=2\n/ # ")


async def test_vnc_console_and_unavailable_kinds(
        guest: tuple[QemuDriver, FakeProcesses]) -> None:
    driver, _ = guest
    info = await driver.get_console(HOST, SID, "novnc")
    assert (info.host, info.port) == ("127.0.0.1", 5901)
    with pytest.raises(ConsoleUnavailable):
        await driver.get_console(HOST, SID, "spice-html5")
    await driver.power_off(HOST, SID)
    with pytest.raises(GuestNotRunning):
        await driver.get_console(HOST, SID, "novnc")


async def test_diagnostics_are_novas_flat_counters(
        guest: tuple[QemuDriver, FakeProcesses]) -> None:
    driver, _ = guest
    assert await driver.get_diagnostics(HOST, SID) == {
        "cpu0_time": 4_242_000_000, "cpu1_time": 4_243_000_000, "memory": 262144,
        "vda_read": 512, "vda_read_req": 2, "vda_write": 4096, "vda_write_req": 1,
        "vda_errors": 1}
    assert driver.rss_kib(HOST, SID) == 123456
    await driver.pause(HOST, SID)
    with pytest.raises(GuestNotRunning) as err:
        await driver.get_diagnostics(HOST, SID)
    assert err.value.power_state == PAUSED


async def test_operations_that_cannot_work_here_fail_clearly(
        guest: tuple[QemuDriver, FakeProcesses]) -> None:
    driver, _ = guest
    with pytest.raises(DriverError, match="no image store to write snapshots"):
        await driver.snapshot(HOST, SID, "image-2")
    with pytest.raises(DriverError, match="cannot resize a server on its own host"):
        await driver.migrate(HOST, HOST, SPEC)
    with pytest.raises(DriverError, match="needs a guest agent"):
        await driver.set_admin_password(HOST, SID, "secret")
    with pytest.raises(DriverError, match="not supported by the QEMU driver yet"):
        await driver.attach_volume(HOST, SID, "vol-1", "/dev/vdb")


def test_command_line() -> None:
    paths = GuestPaths(Path("/srv/guests/h/x"))
    config = GuestConfig(server_id="x", name="n", vcpus=2, memory_mb=512, disk_gb=0,
                         image_ref="i", kernel="/k", initrd="/i", append="console=ttyS0",
                         mac="fa:16:3e:00:00:01", tb_size_mb=64)
    cmd = build_command("qemu-system-x86_64", config, paths, incoming=True)
    line = " ".join(cmd)
    for part in ("-accel tcg,tb-size=64", "-m 512", "-smp 2", "-no-shutdown",
                 "-qmp unix:qmp.sock,server=on,wait=off",
                 "logfile=/srv/guests/h/x/console.log,logappend=on",
                 "-vnc 127.0.0.1:0,to=1000", "-pidfile /srv/guests/h/x/qemu.pid",
                 "-daemonize", "mac=fa:16:3e:00:00:01,romfile=", "-kernel /k",
                 "-initrd /i", "-incoming defer"):
        assert part in line, part
    assert "-blockdev" not in cmd  # no disk: no disk.qcow2, no base image
    assert cmd[cmd.index("-append") + 1] == "console=ttyS0"


async def test_snapshot_pauses_exports_into_the_image_store_and_continues(
        state_dir: Path) -> None:
    processes = FakeProcesses()
    files = ImageFiles(state_dir / "images")
    driver = make_driver(state_dir, processes, image_files=files)
    await driver.spawn(HOST, SPEC)
    image_id = "7d6a3f0e-1b2c-4d5e-8f90-0123456789ab"
    size = await driver.snapshot(HOST, SID, image_id)
    assert size == len(b"QFI\xfb exported disk") and files.has(image_id)
    assert processes.exported_while == ["paused"]  # no writes while the disk is copied
    vm = processes.vm()
    assert vm.names()[-2:] == ["stop", "cont"] and vm.status == "running"
    assert not list(files.root.glob(".*partial"))  # nothing half-written stays
    await driver.close()
    await vm.stop()


async def test_rescue_boots_the_rescue_image_and_unrescue_the_guest_again(
        guest: tuple[QemuDriver, FakeProcesses]) -> None:
    driver, processes = guest
    paths = GuestPaths(driver.state_dir / HOST / SID)
    await driver.rescue(HOST, SID, "rescue-image", None)
    config = GuestConfig.load(paths.config)
    assert config.rescue is not None and config.rescue["image_ref"] == "rescue-image"
    assert config.boot_source()[0] == "/nonexistent/vmlinuz"
    assert [s for s, _ in processes.starts] == [SID, SID]  # started again, rescued
    await driver.unrescue(HOST, SID)
    assert GuestConfig.load(paths.config).rescue is None
    assert len(processes.starts) == 3 and processes.vm().status == "running"


async def test_rebuild_gives_a_fresh_disk_and_keeps_the_mac(
        guest: tuple[QemuDriver, FakeProcesses]) -> None:
    driver, processes = guest
    paths = GuestPaths(driver.state_dir / HOST / SID)
    before = GuestConfig.load(paths.config)
    paths.disk.write_bytes(b"old data")
    await driver.rebuild(HOST, dataclasses.replace(SPEC, image_ref="img-2"))
    after = GuestConfig.load(paths.config)
    assert after.image_ref == "img-2" and after.mac == before.mac
    assert paths.disk.read_bytes() == b""  # a new disk
    assert processes.vm().status == "running" and len(processes.starts) == 2


async def test_cold_migration_moves_the_disk_and_revert_boots_the_source(
        state_dir: Path) -> None:
    processes = FakeProcesses()
    driver = QemuDriver([HostSpec(HOST), HostSpec("qemu-host-2")], state_dir, image,
                        processes=processes, accel="tcg", powerdown_interval=0.05,
                        shutdown_timeout=2.0, qmp_timeout=2.0)
    await driver.spawn(HOST, SPEC)
    source = GuestPaths(state_dir / HOST / SID)
    source.disk.write_bytes(b"guest data")
    bigger = dataclasses.replace(SPEC, vcpus=4, memory_mb=1024, disk_gb=5)
    await driver.migrate(HOST, "qemu-host-2", bigger)
    target = GuestPaths(state_dir / "qemu-host-2" / SID)
    assert target.disk.read_bytes() == b"guest data"
    assert processes.grown == (target.disk, 5)
    config = GuestConfig.load(target.config)
    assert (config.vcpus, config.memory_mb, config.disk_gb) == (4, 1024, 5)
    assert driver.qemu_pid(HOST, SID) is None  # the source is shut down, kept
    assert driver.qemu_pid("qemu-host-2", SID) is not None
    await driver.destroy("qemu-host-2", SID)  # revert: the target copy goes...
    await driver.finish_revert_migration(HOST, SID)  # ...and the source runs again
    assert driver.qemu_pid(HOST, SID) is not None and not target.root.exists()
    await driver.close()
    for vm in processes.vms.values():
        await vm.stop()
