"""The QEMU driver: real guests, one QEMU process each, driven over QMP.

Every guest lives in ``<state dir>/<host>/<server id>/`` (drivers.qemu.process). The
driver keeps no other state: a new driver (after a worker restart) finds running guests
from their pid files and reconnects to their monitors on first use.

Power operations follow what Nova's libvirt driver does:

* stop: ACPI power button (``system_powerdown``) pressed again every
  ``powerdown_interval`` seconds (a press is lost while the guest is still booting) until
  the guest shuts down or ``shutdown_timeout`` passes, then ``quit``;
* SOFT reboot: the same clean shutdown (``reboot_timeout``), then ``system_reset`` and
  ``cont``; a guest that does not shut down in time is reset anyway (Nova falls back to
  a hard reboot too); HARD reboot: ``system_reset`` (and ``cont`` if it was not running);
* pause / unpause: ``stop`` / ``cont``;
* suspend: ``stop``, ``migrate`` to ``memory.state``, ``quit``; resume: a new QEMU with
  ``-incoming defer``, ``migrate-incoming`` from the file, ``cont``.

QEMU runs with ``-no-shutdown``, so a guest that powers itself off leaves its QEMU
paused in the ``shutdown`` state (power state SHUTDOWN) until stopped or started.
"""

from __future__ import annotations

import contextlib
import shutil
from typing import Any

from drivers.base import (
    ConsoleInfo,
    ConsoleUnavailable,
    DriverError,
    GuestNotFound,
    GuestNotRunning,
    HypervisorDriver,
    InstanceInfo,
    InstanceSpec,
)
from drivers.qemu import readings
from drivers.qemu.disks import DiskOperations
from drivers.qemu.images import resolve
from drivers.qemu.moves import MoveOperations
from drivers.qemu.power import PowerOperations
from drivers.qemu.qmp import QMPDisconnected
from drivers.qemu.readings import RUNNING, SHUTDOWN, power_state
from drivers.qemu.unsupported import NotYetSupported, stub_missing_operations

VNC_KINDS = ("novnc", "xvpvnc")


class QemuDriver(PowerOperations, MoveOperations, DiskOperations, NotYetSupported,
                 HypervisorDriver):
    """The guests of some hosts of this machine (drivers.qemu.guests), with every
    operation of the driver interface: power (.power), moves (.moves), disks (.disks);
    creating, removing and reading guests here."""

    hypervisor_type = "QEMU"

    # -- lifecycle -------------------------------------------------------------------------

    async def spawn(self, host: str, spec: InstanceSpec) -> InstanceInfo:
        guest = self._guest(host, spec.server_id)
        async with guest.lock:
            if guest.paths.config.exists():
                config = self._config(guest)
                if self._pid(guest) is None:
                    await self._start(guest, config)
                return self._info(guest, config, RUNNING)
            config = self._new_config(spec, await resolve(self.images, spec.image_ref))
            guest.paths.root.mkdir(parents=True, exist_ok=True)
            async with self._undone_on_failure(guest):
                await self.processes.create_disk(config, guest.paths)
                config.save(guest.paths.config)
                await self._start(guest, config)
            return self._info(guest, config, RUNNING)

    async def destroy(self, host: str, server_id: str) -> None:
        guest = self._guest(host, server_id)
        async with guest.lock:
            if self._pid(guest) is not None and guest.conn is None:
                with contextlib.suppress(DriverError):
                    await self._monitor(guest)
            await self._quit(guest)
            shutil.rmtree(guest.paths.root, ignore_errors=True)
        self._guests.pop((host, server_id), None)

    # -- reads -----------------------------------------------------------------------------

    async def list_instances(self, host: str) -> list[str]:
        if host not in self._hosts:
            raise DriverError(f"Compute host {host} could not be found.")
        root = self.state_dir / host
        if not root.is_dir():
            return []
        return sorted(p.name for p in root.iterdir() if (p / "guest.json").is_file())

    async def get_info(self, host: str, server_id: str) -> InstanceInfo | None:
        guest = self._guest(host, server_id)
        try:
            config = self._config(guest)
        except GuestNotFound:
            return None
        conn = await self._monitor(guest)
        if conn is None:
            return self._info(guest, config, SHUTDOWN)
        try:
            status = await conn.status(self.qmp_timeout)
        except QMPDisconnected:
            return self._info(guest, config, SHUTDOWN)
        return self._info(guest, config, power_state(status))

    async def get_console_output(self, host: str, server_id: str) -> str:
        guest = self._guest(host, server_id)
        self._config(guest)
        return readings.read_console_log(guest.paths.console_log)

    async def get_console(self, host: str, server_id: str, kind: str) -> ConsoleInfo:
        guest = self._guest(host, server_id)
        if kind not in VNC_KINDS:
            self._config(guest)
            raise ConsoleUnavailable(f"Unavailable console type {kind}.")
        conn = await self._running_monitor(guest)
        vnc = await conn.execute("query-vnc")
        if not vnc.get("enabled") or not vnc.get("service"):
            raise ConsoleUnavailable(f"Instance {server_id} has no VNC console.")
        return ConsoleInfo(host=str(vnc["host"]), port=int(vnc["service"]))

    async def get_diagnostics(self, host: str, server_id: str) -> dict[str, Any]:
        guest = self._guest(host, server_id)
        conn = await self._running_monitor(guest)
        status = await conn.status()
        pid = self._pid(guest)
        if status != "running" or pid is None:
            raise GuestNotRunning(f"Instance {server_id} is not running.", power_state(status))
        return await readings.diagnostics(conn, pid, self.processes.thread_cpu_ns)

    def qemu_pid(self, host: str, server_id: str) -> int | None:
        """The pid of the guest's QEMU process, None if it is not running."""
        return self._pid(self._guest(host, server_id))

    def rss_kib(self, host: str, server_id: str) -> int | None:
        """Resident memory of the guest's QEMU process (KiB), None if it is not running."""
        pid = self.qemu_pid(host, server_id)
        return None if pid is None else self.processes.rss_kib(pid)




stub_missing_operations(QemuDriver)
