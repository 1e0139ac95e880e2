"""One real guest through the QEMU driver (slow: boots the test image twice, ~40 s).

Needs qemu-system-x86_64 and qemu-img, and the test image built by
``python scripts/build_test_image.py``; skipped otherwise. Run it alone with
``pytest -m slow -s tests/test_qemu_guest.py`` to see the measured times.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Awaitable, Iterator
from pathlib import Path

import pytest

from drivers.base import HostSpec, InstanceSpec
from drivers.qemu import QemuDriver
from drivers.qemu.images import load_test_image, why_no_test_guest
from drivers.qemu.process import pid_alive
from drivers.qemu.readings import PAUSED, RUNNING, SHUTDOWN

pytestmark = pytest.mark.slow

HOST = "qemu-e2e"
SID = "0e2e0e2e-1111-4222-8333-444455556666"
READY = "CONTROL-PLANE-GUEST-READY"
POWEROFF = "CONTROL-PLANE-GUEST-POWEROFF"
HEARTBEAT = "CONTROL-PLANE-GUEST-HB"
WAIT = 90.0  # TCG boots take 5-15 s on 2 busy cores


@pytest.fixture
def state_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="cpq-e2e-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


async def _console_count(driver: QemuDriver, text: str) -> int:
    return (await driver.get_console_output(HOST, SID)).count(text)


async def _wait_for(driver: QemuDriver, text: str, count: int, timeout: float = WAIT
                    ) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if await _console_count(driver, text) >= count:
            return time.monotonic() - started
        await asyncio.sleep(0.1)
    tail = (await driver.get_console_output(HOST, SID))[-2000:]
    raise AssertionError(f"{text} x{count} not on the console within {timeout} s:\n{tail}")


def _qemu_pids_under(root: Path) -> list[int]:
    """QEMU processes whose command line names a path under ``root``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            cmdline = (entry / "cmdline").read_bytes()
            if b"qemu-system" in cmdline and os.fsencode(root) in cmdline \
                    and pid_alive(int(entry.name)):
                found.append(int(entry.name))
    return found


async def test_a_real_guest_boots_pauses_reboots_suspends_and_goes_away(
        state_dir: Path) -> None:
    if (reason := why_no_test_guest()) is not None:
        pytest.skip(reason)
    driver = QemuDriver([HostSpec(HOST)], state_dir,
                        lambda ref: load_test_image(append_extra="cp.heartbeat=1"),
                        shutdown_timeout=30.0, reboot_timeout=30.0)
    spec = InstanceSpec(server_id=SID, name="e2e", vcpus=1, memory_mb=256, disk_gb=1,
                        image_ref="test-guest")
    times: dict[str, float] = {}
    pids: set[int] = set()

    async def timed(name: str, op: Awaitable[object]) -> None:
        started = time.monotonic()
        await op
        times[name] = time.monotonic() - started
        if (pid := driver.qemu_pid(HOST, SID)) is not None:
            pids.add(pid)

    async def power_state() -> int:
        info = await driver.get_info(HOST, SID)
        assert info is not None
        return info.power_state

    try:
        await timed("spawn", driver.spawn(HOST, spec))
        times["boot_to_marker"] = await _wait_for(driver, READY, 1)
        assert await power_state() == RUNNING
        rss = driver.rss_kib(HOST, SID)
        assert rss is not None and rss > 0
        times["rss_mib_after_boot"] = rss / 1024
        await _wait_for(driver, HEARTBEAT, 1, 10)

        diagnostics = await driver.get_diagnostics(HOST, SID)
        assert diagnostics["memory"] == 256 * 1024 and diagnostics["cpu0_time"] > 0
        assert "vda_read" in diagnostics
        vnc = await driver.get_console(HOST, SID, "novnc")
        assert vnc.host == "127.0.0.1" and vnc.port >= 5900

        await timed("pause", driver.pause(HOST, SID))
        assert await power_state() == PAUSED
        await asyncio.sleep(0.3)
        beats = await _console_count(driver, HEARTBEAT)
        await asyncio.sleep(2.5)
        assert await _console_count(driver, HEARTBEAT) == beats, "a paused guest ran"
        await timed("unpause", driver.unpause(HOST, SID))
        assert await power_state() == RUNNING
        await _wait_for(driver, HEARTBEAT, beats + 1, 10)

        await timed("reboot_soft", driver.reboot(HOST, SID, "SOFT"))
        assert await _console_count(driver, POWEROFF) == 1, "the ACPI shutdown was not clean"
        times["reboot_soft_to_marker"] = await _wait_for(driver, READY, 2)

        await _wait_for(driver, HEARTBEAT, await _console_count(driver, HEARTBEAT) + 1, 10)
        await timed("suspend", driver.suspend(HOST, SID))
        assert await power_state() == SHUTDOWN
        assert not _qemu_pids_under(state_dir)
        await timed("resume", driver.resume(HOST, SID))
        assert await power_state() == RUNNING
        beats = await _console_count(driver, HEARTBEAT)
        await _wait_for(driver, HEARTBEAT, beats + 1, 10)  # the same guest goes on
        assert await _console_count(driver, READY) == 2  # restored, not rebooted

        await timed("power_off", driver.power_off(HOST, SID))
        assert await _console_count(driver, POWEROFF) == 2, "the ACPI power-off was not clean"
        assert await power_state() == SHUTDOWN
        assert not _qemu_pids_under(state_dir)

        await timed("destroy", driver.destroy(HOST, SID))
        assert await driver.get_info(HOST, SID) is None
        assert await driver.list_instances(HOST) == []
        assert list((state_dir / HOST).iterdir()) == []
        assert not any(pid_alive(p) for p in pids)
        assert not _qemu_pids_under(state_dir)
    finally:
        await driver.close()
        for pid in pids | set(_qemu_pids_under(state_dir)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    print("\nQEMU guest measurements (s, except RSS):")
    for name, value in times.items():
        print(f"  {name:24} {value:8.3f}")
