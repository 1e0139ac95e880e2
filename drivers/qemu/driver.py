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

import asyncio
import contextlib
import dataclasses
import logging
import os
import shutil
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from control_plane.store.image_files import ImageFiles
from drivers.base import (
    ConsoleInfo,
    ConsoleUnavailable,
    DriverError,
    GuestEventCallback,
    GuestNotFound,
    GuestNotRunning,
    HostSpec,
    HypervisorDriver,
    InstanceInfo,
    InstanceSpec,
)
from drivers.qemu import readings
from drivers.qemu.images import GuestImage, ImageResolver, resolve
from drivers.qemu.process import (
    GuestConfig,
    GuestPaths,
    QemuProcesses,
    kvm_usable,
    load_state_uri,
    mac_for,
    save_state_uri,
)
from drivers.qemu.qmp import QMPConnection, QMPDisconnected, QMPFailure
from drivers.qemu.readings import RUNNING, SHUTDOWN, power_state
from drivers.qemu.unsupported import NotYetSupported, stub_missing_operations

log = logging.getLogger(__name__)

VNC_KINDS = ("novnc", "xvpvnc")


@dataclass
class _Guest:
    host: str
    server_id: str
    paths: GuestPaths
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    connect_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    conn: QMPConnection | None = None


class QemuDriver(NotYetSupported, HypervisorDriver):
    hypervisor_type = "QEMU"

    def __init__(self, hosts: list[HostSpec], state_dir: Path, images: ImageResolver, *,
                 processes: QemuProcesses | None = None, accel: str | None = None,
                 shutdown_timeout: float = 60.0, reboot_timeout: float | None = None,
                 powerdown_interval: float = 2.0, qmp_timeout: float = 10.0,
                 migrate_timeout: float = 120.0, vnc_listen: str = "127.0.0.1",
                 tb_size_mb: int | None = None,
                 image_files: ImageFiles | None = None,
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
        self._guests: dict[tuple[str, str], _Guest] = {}

    def hosts(self) -> list[HostSpec]:
        return list(self._hosts.values())

    # -- guests, processes and monitors --------------------------------------------------

    def _guest(self, host: str, server_id: str, peer: bool = False) -> _Guest:
        """The guest of a host of this driver, or with ``peer``, of any host on this
        machine (the source of a cold migration, the target of a live migration)."""
        if host not in self._hosts and not (peer and host and "/" not in host
                                            and host not in (".", "..")):
            raise DriverError(f"Compute host {host} could not be found.")
        key = (host, server_id)
        if key not in self._guests:
            paths = GuestPaths(self.state_dir / host / server_id)
            self._guests[key] = _Guest(host, server_id, paths)
        return self._guests[key]

    def _config(self, guest: _Guest) -> GuestConfig:
        try:
            return GuestConfig.load(guest.paths.config)
        except FileNotFoundError:
            raise GuestNotFound(f"Instance {guest.server_id} could not be found on "
                                f"{guest.host}.") from None

    def _pid(self, guest: _Guest) -> int | None:
        return self.processes.running_pid(guest.paths)

    async def _monitor(self, guest: _Guest) -> QMPConnection | None:
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

    async def _running_monitor(self, guest: _Guest) -> QMPConnection:
        self._config(guest)  # GuestNotFound
        conn = await self._monitor(guest)
        if conn is None:
            raise GuestNotRunning(f"Instance {guest.server_id} is not running.", SHUTDOWN)
        return conn

    def _event_handler(self, guest: _Guest) -> Callable[[str, dict[str, Any]], Any]:
        async def handle(name: str, data: dict[str, Any]) -> None:
            log.info("guest %s on %s: %s %s", guest.server_id, guest.host, name, data)
            if self.on_event is not None:
                result = self.on_event(guest.host, guest.server_id, name, data)
                if asyncio.iscoroutine(result):
                    await result
        return handle

    def _gone_handler(self, guest: _Guest) -> Callable[[], Any]:
        """QEMU closed the monitor: it exited (or was killed) without being asked to."""
        async def gone() -> None:
            await self._event_handler(guest)("QEMU_EXITED", {})
        return gone

    async def _start(self, guest: _Guest, config: GuestConfig, incoming: bool = False
                     ) -> QMPConnection:
        await self.processes.start(config, guest.paths, incoming=incoming)
        conn = await self._monitor(guest)
        if conn is None:
            raise DriverError(f"QEMU for {guest.server_id} exited right after starting")
        return conn

    async def _quit(self, guest: _Guest) -> None:
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

    @contextlib.asynccontextmanager
    async def _undone_on_failure(self, guest: _Guest) -> AsyncIterator[None]:
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

    def _info(self, guest: _Guest, config: GuestConfig, state: int) -> InstanceInfo:
        # user-mode networking: every guest is 10.0.2.15 behind its own NAT
        return InstanceInfo(guest.server_id, state, {"private": [
            {"version": 4, "addr": "10.0.2.15", "OS-EXT-IPS:type": "fixed",
             "OS-EXT-IPS-MAC:mac_addr": config.mac}]})

    async def destroy(self, host: str, server_id: str) -> None:
        guest = self._guest(host, server_id)
        async with guest.lock:
            if self._pid(guest) is not None and guest.conn is None:
                with contextlib.suppress(DriverError):
                    await self._monitor(guest)
            await self._quit(guest)
            shutil.rmtree(guest.paths.root, ignore_errors=True)
        self._guests.pop((host, server_id), None)

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

    async def power_off(self, host: str, server_id: str) -> None:
        guest = self._guest(host, server_id)
        async with guest.lock:
            self._config(guest)
            await self._shut_down(guest)

    async def _shut_down(self, guest: _Guest) -> None:
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

    async def power_on(self, host: str, server_id: str) -> None:
        guest = self._guest(host, server_id)
        async with guest.lock:
            config = self._config(guest)
            conn = await self._monitor(guest)
            if conn is None:
                if guest.paths.state.exists():
                    await self._restore(guest, config)
                else:
                    await self._start(guest, config)
                return
            status = await conn.status()
            if status == "shutdown":
                await self._reset(conn)
            elif status != "running":
                await conn.execute("cont")

    async def _reset(self, conn: QMPConnection) -> None:
        """``system_reset`` and let it run (a guest shut down or paused needs ``cont``,
        which QEMU refuses until the reset has really happened: wait for RESET)."""
        with conn.watch("RESET") as waiter:
            await conn.execute("system_reset")
            await waiter.wait(self.qmp_timeout, "RESET")
        if await conn.status() != "running":
            await conn.execute("cont")

    async def reboot(self, host: str, server_id: str, reboot_type: str) -> None:
        guest = self._guest(host, server_id)
        async with guest.lock:
            conn = await self._running_monitor(guest)
            if reboot_type.upper() == "SOFT" and await conn.status() == "running" and \
                    not await self._clean_shutdown(conn, self.reboot_timeout):
                log.warning("guest %s did not shut down within %g s for a soft reboot; "
                            "resetting it", server_id, self.reboot_timeout)
            await self._reset(conn)

    async def pause(self, host: str, server_id: str) -> None:
        await self._pause_or_unpause(host, server_id, "stop", "paused")

    async def unpause(self, host: str, server_id: str) -> None:
        await self._pause_or_unpause(host, server_id, "cont", "running")

    async def _pause_or_unpause(self, host: str, server_id: str, command: str, target: str
                                ) -> None:
        guest = self._guest(host, server_id)
        async with guest.lock:
            conn = await self._running_monitor(guest)
            status = await conn.status()
            if status == target:
                return
            if status not in ("running", "paused"):
                raise GuestNotRunning(f"Instance {server_id} is {status}.", power_state(status))
            await conn.execute(command)

    async def suspend(self, host: str, server_id: str) -> None:
        guest = self._guest(host, server_id)
        async with guest.lock:
            conn = await self._running_monitor(guest)
            status = await conn.status()
            if status not in ("running", "paused"):
                raise GuestNotRunning(f"Instance {server_id} is {status}.", power_state(status))
            if status == "running":
                await conn.execute("stop")
            partial = guest.paths.state.with_suffix(".partial")
            partial.unlink(missing_ok=True)
            try:
                await conn.execute("migrate", {"uri": save_state_uri(partial)})
                await self._wait_migration(conn)
            except BaseException:
                partial.unlink(missing_ok=True)
                if status == "running":
                    with contextlib.suppress(DriverError):
                        await conn.execute("cont")
                raise
            partial.replace(guest.paths.state)
            await self._quit(guest)

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

    async def resume(self, host: str, server_id: str) -> None:
        guest = self._guest(host, server_id)
        async with guest.lock:
            config = self._config(guest)
            if not guest.paths.state.exists():
                if await self._monitor(guest) is not None:
                    return  # already resumed
                raise DriverError(f"Instance {server_id} has no saved state to resume.")
            if self._pid(guest) is not None:
                await self._quit(guest)
            await self._restore(guest, config)

    async def _restore(self, guest: _Guest, config: GuestConfig) -> None:
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

    # -- disks, images and moves ----------------------------------------------------------

    async def snapshot(self, host: str, server_id: str, image_id: str) -> int:
        """Export the guest's disk (with its backing chain) as a qcow2 image into the image
        store. A running guest is paused meanwhile (pausing flushes its disk)."""
        if self.image_files is None:
            raise DriverError("This compute host has no image store to write snapshots to.")
        guest = self._guest(host, server_id)
        async with guest.lock:
            self._config(guest)
            if not guest.paths.disk.exists():
                raise DriverError(f"Instance {server_id} has no disk to snapshot (its "
                                  "flavor has no root disk).")
            conn = await self._monitor(guest)
            resume = conn is not None and await conn.status() == "running"
            if resume:
                assert conn is not None
                await conn.execute("stop")
            partial = self.image_files.temporary(image_id)
            try:
                await self.processes.export_disk(guest.paths.disk, partial)
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
            finally:
                if resume:
                    assert conn is not None
                    with contextlib.suppress(DriverError):
                        await conn.execute("cont")
            return self.image_files.publish(image_id, partial)

    async def rebuild(self, host: str, spec: InstanceSpec) -> None:
        """Shut the guest down, give it a fresh root disk from ``spec.image_ref`` and boot
        it. (The admin password and personality files are not injected: that needs a
        guest agent or a config drive, neither of which this driver has; Nova's libvirt
        driver without injection ignores them the same way.)"""
        guest = self._guest(host, spec.server_id)
        async with guest.lock:
            old = self._config(guest)
            image = await resolve(self.images, spec.image_ref)
            await self._shut_down(guest)
            config = self._new_config(spec, image)
            config.mac = old.mac
            for path in (guest.paths.disk, guest.paths.rescue_disk, guest.paths.state):
                path.unlink(missing_ok=True)
            await self.processes.create_disk(config, guest.paths)
            config.save(guest.paths.config)
            await self._start(guest, config)

    async def migrate(self, source: str, target: str, spec: InstanceSpec) -> None:
        """Cold migration (and resize): shut the source guest down, copy its disk to the
        target host's directory (grown to the new flavor's size), boot it there with the
        new flavor. The source copy stays, shut down, until the move is confirmed
        (destroyed) or reverted (``finish_revert_migration`` boots it again). The source
        may belong to another worker on this machine: it is reached through its peer
        monitor."""
        if source == target:
            raise DriverError("The QEMU driver cannot resize a server on its own host "
                              "(the source copy must stay until the resize is confirmed).")
        src = self._guest(source, spec.server_id, peer=True)
        dst = self._guest(target, spec.server_id)
        async with src.lock:
            src_config = self._config(src)
            await self._shut_down(src)
        async with dst.lock:
            if self._pid(dst) is not None:
                await self._quit(dst)  # a leftover of an earlier try
            dst.paths.root.mkdir(parents=True, exist_ok=True)
            config = dataclasses.replace(
                src_config, name=spec.name, vcpus=spec.vcpus, memory_mb=spec.memory_mb,
                disk_gb=spec.disk_gb, rescue=None)
            async with self._undone_on_failure(dst):
                if src.paths.disk.exists():
                    await asyncio.to_thread(shutil.copyfile, src.paths.disk, dst.paths.disk)
                    await self.processes.grow_disk(dst.paths.disk, spec.disk_gb)
                _carry_console_log(src.paths, dst.paths)
                config.save(dst.paths.config)
                await self._start(dst, config)
        await self._forget_peer(src)

    async def finish_revert_migration(self, host: str, server_id: str) -> None:
        """A reverted resize: boot the source copy (left shut down) again."""
        guest = self._guest(host, server_id, peer=True)
        async with guest.lock:
            config = self._config(guest)
            if self._pid(guest) is None:
                await self._start(guest, config)
        await self._forget_peer(guest)

    async def _forget_peer(self, guest: _Guest) -> None:
        """Leave another worker's guest to that worker (its monitor included)."""
        if guest.host in self._hosts:
            return
        conn, guest.conn = guest.conn, None
        if conn is not None:
            await conn.close()
        self._guests.pop((guest.host, guest.server_id), None)

    async def live_migrate(self, source: str, target: str, server_id: str) -> None:
        """Move the running guest to ``target``: a QEMU started there with ``-incoming``
        receives its memory and device state over a loopback TCP socket while it keeps
        running. Both hosts are directories on this machine, so the disk is shared
        storage: the target's disk is a hard link to the same file (QEMU hands the
        image over when the migration completes)."""
        if source == target:
            raise DriverError("A live migration needs another host.")
        src = self._guest(source, server_id)
        dst = self._guest(target, server_id, peer=True)
        async with src.lock:
            config = self._config(src)
            conn = await self._running_monitor(src)
            status = await conn.status()
            if status not in ("running", "paused"):
                raise GuestNotRunning(f"Instance {server_id} is {status}.", power_state(status))
            if self._pid(dst) is not None:
                await self._quit(dst)  # a leftover of an earlier try
            shutil.rmtree(dst.paths.root, ignore_errors=True)
            dst.paths.root.mkdir(parents=True)
            try:
                if src.paths.disk.exists():
                    os.link(src.paths.disk, dst.paths.disk)
                _carry_console_log(src.paths, dst.paths)
                config.save(dst.paths.config)
                incoming = await self._start(dst, config, incoming=True)
                await incoming.execute("migrate-incoming", {"uri": "tcp:127.0.0.1:0"})
                address = (await incoming.execute("query-migrate"))["socket-address"][0]
                await conn.execute("migrate", {"uri": f"tcp:{address['host']}:"
                                                      f"{address['port']}"})
                await self._wait_migration(conn, "The live migration")
                deadline = time.monotonic() + self.migrate_timeout
                while await incoming.status() == "inmigrate":
                    if time.monotonic() > deadline:
                        raise DriverError("The target did not take over the guest in time")
                    await asyncio.sleep(0.02)
            except BaseException:
                await self._quit(dst)
                shutil.rmtree(dst.paths.root, ignore_errors=True)
                with contextlib.suppress(DriverError):
                    if status == "running" and await conn.status() != "running":
                        await conn.execute("cont")
                raise
            await self._quit(src)
            shutil.rmtree(src.paths.root, ignore_errors=True)
        self._guests.pop((source, server_id), None)
        await self._forget_peer(dst)

    async def rescue(self, host: str, server_id: str, image_ref: str, admin_pass: str | None
                     ) -> None:
        """Boot the guest from the rescue image (its kernel, and an overlay on its disk
        as the first disk), with the guest's own disk attached after it. (The rescue
        password is not injected: no guest agent.)"""
        guest = self._guest(host, server_id)
        async with guest.lock:
            config = self._config(guest)
            image = await resolve(self.images, image_ref)
            await self._shut_down(guest)
            guest.paths.rescue_disk.unlink(missing_ok=True)
            if image.disk is not None:
                await self.processes.create_overlay(guest.paths.rescue_disk, image.disk,
                                                    image.disk_format, 0)
            config.rescue = {"kernel": image.kernel, "initrd": image.initrd,
                             "append": image.append, "disk": image.disk,
                             "image_ref": image_ref}
            config.save(guest.paths.config)
            try:
                await self._start(guest, config)
            except BaseException:
                config.rescue = None
                config.save(guest.paths.config)
                guest.paths.rescue_disk.unlink(missing_ok=True)
                raise

    async def unrescue(self, host: str, server_id: str) -> None:
        guest = self._guest(host, server_id)
        async with guest.lock:
            config = self._config(guest)
            await self._quit(guest)  # the rescue system is not shut down cleanly (as Nova)
            config.rescue = None
            config.save(guest.paths.config)
            guest.paths.rescue_disk.unlink(missing_ok=True)
            await self._start(guest, config)

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


def _carry_console_log(source: GuestPaths, target: GuestPaths) -> None:
    """The console log goes with the guest to its new host."""
    with contextlib.suppress(FileNotFoundError):
        shutil.copyfile(source.console_log, target.console_log)


stub_missing_operations(QemuDriver)
