"""Reading a QEMU guest: power states, console log, diagnostics (no state changes)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from drivers.qemu.qmp import QMPConnection

# Nova's power states (nova/compute/power_state.py)
NOSTATE = 0
RUNNING = 1
PAUSED = 3
SHUTDOWN = 4
CRASHED = 6
SUSPENDED = 7

# query-status "status" -> power state, as Nova's libvirt driver maps libvirt's states
STATUS_POWER_STATE = {
    "running": RUNNING,
    "paused": PAUSED,
    "debug": PAUSED,
    "inmigrate": PAUSED,
    "postmigrate": PAUSED,
    "prelaunch": PAUSED,
    "finish-migrate": PAUSED,
    "restore-vm": PAUSED,
    "save-vm": PAUSED,
    "colo": PAUSED,
    "watchdog": PAUSED,
    "io-error": PAUSED,
    "suspended": SUSPENDED,  # guest-initiated ACPI S3
    "shutdown": SHUTDOWN,
    "guest-panicked": CRASHED,
    "internal-error": CRASHED,
}

# as Nova's libvirt driver: at most the last 100 KiB of the console log
MAX_CONSOLE_BYTES = 100 * 1024
_ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|[()][0-9A-Za-z]|[@-~])")


def power_state(status: str) -> int:
    return STATUS_POWER_STATE.get(status, NOSTATE)


def read_console_log(path: Path, limit: int = MAX_CONSOLE_BYTES) -> str:
    """The end of the serial console log as text: terminal escapes and carriage returns
    removed, a partial first line dropped when the log was cut."""
    try:
        with path.open("rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - limit))
            data = f.read()
    except FileNotFoundError:
        return ""
    if size > limit and b"\n" in data:
        data = data.split(b"\n", 1)[1]
    text = data.decode("utf-8", errors="replace").replace("\r", "").replace("\x00", "")
    return _ANSI.sub("", text)


async def diagnostics(conn: QMPConnection, pid: int, cpu_ns: Any) -> dict[str, Any]:
    """Nova's flat (pre-2.48) diagnostics of a running guest: ``cpuN_time`` (ns of host CPU
    time of the vCPU thread), ``memory`` (KiB), ``<disk>_read/_read_req/_write/_write_req/
    _errors``. ``cpu_ns(pid, thread_id)`` reads a thread's CPU time. QEMU's user-mode
    network has no counters, so no ``vnet0_*`` items."""
    out: dict[str, Any] = {}
    for cpu in await conn.execute("query-cpus-fast"):
        ns = cpu_ns(pid, int(cpu["thread-id"]))
        out[f"cpu{cpu['cpu-index']}_time"] = ns if ns is not None else -1
    memory = await conn.execute("query-memory-size-summary")
    out["memory"] = int(memory["base-memory"]) // 1024
    for dev in await conn.execute("query-blockstats"):
        name = dev.get("node-name") or dev.get("device") or ""
        if not name:
            continue
        stats = dev["stats"]
        out[f"{name}_read"] = stats["rd_bytes"]
        out[f"{name}_read_req"] = stats["rd_operations"]
        out[f"{name}_write"] = stats["wr_bytes"]
        out[f"{name}_write_req"] = stats["wr_operations"]
        out[f"{name}_errors"] = (stats.get("failed_rd_operations", 0)
                                 + stats.get("failed_wr_operations", 0))
    return out
