"""One QEMU guest per server, and what every QEMU driver operation does with one: find
its directory and configuration, reach its monitor (connecting on first use, after a
worker restart too), start and end its QEMU, shut it down cleanly, reset it, save and
restore its state. The operations themselves (drivers.qemu.power, .moves, .disks and
.driver) are built on this class; it keeps no state beyond the guests' monitors.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drivers.base import (
    DriverError,
    GuestEventCallback,
    GuestNotFound,
    GuestNotRunning,
    HostSpec,
    InstanceInfo,
    InstanceSpec,
    SnapshotStore,
)
from drivers.qemu.images import GuestImage, ImageResolver
from drivers.qemu.process import (
    GuestConfig,
    GuestPaths,
    QemuProcesses,
    kvm_usable,
    load_state_uri,
    mac_for,
)
from drivers.qemu.qmp import QMPConnection, QMPDisconnected, QMPFailure
from drivers.qemu.readings import SHUTDOWN

log = logging.getLogger(__name__)


@dataclass
class Guest:
    """A guest's place on disk, its locks (one operation at a time; one monitor
    connection), and its monitor once connected."""

    host: str
    server_id: str
    paths: GuestPaths
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    connect_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    conn: QMPConnection | None = None


class QemuGuests:
    """The guests of this driver's hosts (and, as peers, of other hosts on this machine)."""

    def __init__(self, hosts: list[HostSpec], state_dir: Path, images: ImageResolver, *,
                 processes: QemuProcesses | None = None, accel: str | None = None,
                 shutdown_timeout: float = 60.0, reboot_timeout: float | None = None,
                 powerdown_interval: float = 2.0, qmp_timeout: float = 10.0,
                 migrate_timeout: float = 120.0, vnc_listen: str = "127.0.0.1",
                 tb_size_mb: int | None = None,
                 image_files: SnapshotStore | None = None,
                 on_event: GuestEventCallback | None = None) -> None:
        self._hosts = {h.name: h for h in hosts}
        self.state_dir = Path(state_dir)
        self.images = images
        self.processes = processes or QemuProcesses()
        self.accel = accel or ("kvm" if kvm_usable() else "tcg")
        self.shutdown_timeout = shutdown_timeout
        self.reboot_timeout = shutdown_timeout if reboot_timeout is None else reboot_timeout
        self.powerdown_interval = powerdown_interval
        self.qmp_timeout = qmp_timeout
        self.migrate_timeout = migrate_timeout
        self.vnc_listen = vnc_listen
        self.tb_size_mb = tb_size_mb
        self.image_files = image_files  # where snapshots go
        self.on_event = on_event
        self._guests: dict[tuple[str, str], Guest] = {}

    def hosts(self) -> list[HostSpec]:
        return list(self._hosts.values())

    # -- guests, processes and monitors --------------------------------------------------

    def _guest(self, host: str, server_id: str, peer: bool = False) -> Guest:
        """The guest of a host of this driver, or with ``peer``, of any host on this
        machine (the source of a cold migration, the target of a live migration)."""
        if host not in self._hosts and not (peer and host and "/" not in host
                                            and host not in (".", "..")):
            raise DriverError(f"Compute host {host} could not be found.")
        key = (host, server_id)
        if key not in self._guests:
            paths = GuestPaths(self.state_dir / host / server_id)
            self._guests[key] = Guest(host, server_id, paths)
        return self._guests[key]

    def _config(self, guest: Guest) -> GuestConfig:
        try:
            return GuestConfig.load(guest.paths.config)
        except FileNotFoundError:
            raise GuestNotFound(f"Instance {guest.server_id} could not be found on "
                                f"{guest.host}.") from None

    def _pid(self, guest: Guest) -> int | None:
        return self.processes.running_pid(guest.paths)

    async def _monitor(self, guest: Guest) -> QMPConnection | None:
        """The guest's monitor connection (made now if needed), or None if no QEMU runs."""
        async with guest.connect_lock:
            if guest.conn is not None and guest.conn.connected:
                return guest.conn
            if guest.conn is not None:
                await guest.conn.close()
                guest.conn = None
            if self._pid(guest) is None:
                return None
            own = guest.host in self._hosts
            conn = QMPConnection(guest.paths.qmp if own else guest.paths.peer_qmp,
                                 name=guest.server_id,
                                 on_event=self._event_handler(guest) if own else None,
                                 on_disconnect=self._gone_handler(guest) if own else None)
            await conn.connect(self.qmp_timeout)
            guest.conn = conn
            return conn

    async def _running_monitor(self, guest: Guest) -> QMPConnection:
        self._config(guest)  # GuestNotFound
        conn = await self._monitor(guest)
        if conn is None:
            raise GuestNotRunning(f"Instance {guest.server_id} is not running.", SHUTDOWN)
        return conn

    def _event_handler(self, guest: Guest) -> Callable[[str, dict[str, Any]], Any]:
        async def handle(name: str, data: dict[str, Any]) -> None:
            log.info("guest %s on %s: %s %s", guest.server_id, guest.host, name, data)
            if self.on_event is not None:
                result = self.on_event(guest.host, guest.server_id, name, data)
                if asyncio.iscoroutine(result):
                    await result
        return handle

    def _gone_handler(self, guest: Guest) -> Callable[[], Any]:
        """QEMU closed the monitor: it exited (or was killed) without being asked to."""
        async def gone() -> None:
            await self._event_handler(guest)("QEMU_EXITED", {})
        return gone

    async def _start(self, guest: Guest, config: GuestConfig, incoming: bool = False
                     ) -> QMPConnection:
        await self.processes.start(config, guest.paths, incoming=incoming)
        conn = await self._monitor(guest)
        if conn is None:
            raise DriverError(f"QEMU for {guest.server_id} exited right after starting")
        return conn

    async def _quit(self, guest: Guest) -> None:
        """End the guest's QEMU: ``quit``, then signals."""
        pid = self._pid(guest)
        asked = False
        if guest.conn is not None:
            guest.conn.on_disconnect = None  # we end it: not news
            if pid is not None:
                with contextlib.suppress(QMPFailure):
                    await guest.conn.execute("quit", timeout=self.qmp_timeout)
                    asked = True
            await guest.conn.close()
            guest.conn = None
        if pid is not None and not (asked and await self.processes.wait_exit(pid, 5.0)):
            await self.processes.kill(pid)

    async def close(self) -> None:
        """Disconnect from every monitor; the guests keep running."""
        for guest in self._guests.values():
            if guest.conn is not None:
                await guest.conn.close()
                guest.conn = None

    @contextlib.asynccontextmanager
    async def _undone_on_failure(self, guest: Guest) -> AsyncIterator[None]:
        """A guest being set up in a new directory: if anything fails, end its QEMU and
        remove the directory, leaving nothing behind."""
        try:
            yield
        except BaseException:
            await self._quit(guest)
            shutil.rmtree(guest.paths.root, ignore_errors=True)
            raise

    def _new_config(self, spec: InstanceSpec, image: GuestImage) -> GuestConfig:
        return GuestConfig(
            server_id=spec.server_id, name=spec.name, vcpus=spec.vcpus,
            memory_mb=spec.memory_mb, disk_gb=spec.disk_gb, image_ref=spec.image_ref,
            kernel=image.kernel, initrd=image.initrd, append=image.append,
            base_disk=image.disk, base_format=image.disk_format,
            mac=mac_for(spec.server_id), accel=self.accel, vnc_listen=self.vnc_listen,
            tb_size_mb=self.tb_size_mb)

    def _info(self, guest: Guest, config: GuestConfig, state: int) -> InstanceInfo:
        # user-mode networking: every guest is 10.0.2.15 behind its own NAT
        return InstanceInfo(guest.server_id, state, {"private": [
            {"version": 4, "addr": "10.0.2.15", "OS-EXT-IPS:type": "fixed",
             "OS-EXT-IPS-MAC:mac_addr": config.mac}]})

    async def _clean_shutdown(self, conn: QMPConnection, timeout: float) -> bool:
        """Press the ACPI power button until the guest shuts down (True) or ``timeout``
        seconds pass (False)."""
        deadline = time.monotonic() + timeout
        with conn.watch("SHUTDOWN") as waiter:
            while (remaining := deadline - time.monotonic()) > 0:
                try:
                    await conn.execute("system_powerdown", timeout=self.qmp_timeout)
                    if await waiter.wait(min(self.powerdown_interval, remaining), "SHUTDOWN"):
                        return True
                    if await conn.status() == "shutdown":
                        return True
                except QMPDisconnected:
                    return True  # QEMU went away: it is off
        return False

    async def _shut_down(self, guest: Guest) -> None:
        """Shut a running guest down cleanly (ACPI, up to ``shutdown_timeout``), then end
        its QEMU (a paused or shut-down guest is ended at once)."""
        conn = await self._monitor(guest)
        if conn is None:
            return
        with contextlib.suppress(QMPDisconnected):
            if await conn.status() == "running" and not await self._clean_shutdown(
                    conn, self.shutdown_timeout):
                log.warning("guest %s did not shut down within %g s; stopping it hard",
                            guest.server_id, self.shutdown_timeout)
        await self._quit(guest)

    async def _reset(self, conn: QMPConnection) -> None:
        """``system_reset`` and let it run (a guest shut down or paused needs ``cont``,
        which QEMU refuses until the reset has really happened: wait for RESET)."""
        with conn.watch("RESET") as waiter:
            await conn.execute("system_reset")
            await waiter.wait(self.qmp_timeout, "RESET")
        if await conn.status() != "running":
            await conn.execute("cont")

    async def _wait_migration(self, conn: QMPConnection,
                              what: str = "Saving the guest's state") -> None:
        deadline = time.monotonic() + self.migrate_timeout
        while time.monotonic() < deadline:
            info = await conn.execute("query-migrate")
            status = info.get("status")
            if status == "completed":
                return
            if status in ("failed", "cancelled"):
                raise DriverError(f"{what} failed: {info.get('error-desc', status)}")
            await asyncio.sleep(0.05)
        with contextlib.suppress(DriverError):
            await conn.execute("migrate_cancel")
        raise DriverError(f"{what} took over {self.migrate_timeout:g} s")

    async def _restore(self, guest: Guest, config: GuestConfig) -> None:
        conn = await self._start(guest, config, incoming=True)
        try:
            await conn.execute("migrate-incoming", {"uri": load_state_uri(guest.paths.state)})
            deadline = time.monotonic() + self.migrate_timeout
            while (status := await conn.status()) == "inmigrate":
                if time.monotonic() > deadline:
                    raise DriverError(f"Restoring the guest's state took over "
                                      f"{self.migrate_timeout:g} s")
                await asyncio.sleep(0.05)
            info = await conn.execute("query-migrate")
            if info.get("status") not in (None, "completed"):
                raise DriverError(f"Restoring the guest's state failed: "
                                  f"{info.get('error-desc', info.get('status'))}")
            if status != "running":
                await conn.execute("cont")
        except BaseException:
            await self._quit(guest)  # the saved state stays for another try
            raise
        guest.paths.state.unlink(missing_ok=True)
