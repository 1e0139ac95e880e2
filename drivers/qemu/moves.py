"""The QEMU driver's moves between hosts: cold migration (and resize) with its revert, and
live migration. All hosts are directories on this machine, so a move copies or links
files and hands the guest over between two QEMU processes."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import shutil
import time

from drivers.base import DriverError, GuestNotRunning, InstanceSpec
from drivers.qemu.guests import Guest, QemuGuests
from drivers.qemu.process import GuestPaths
from drivers.qemu.readings import power_state


class MoveOperations(QemuGuests):
    """Move a guest to another host of this machine, cold or live."""

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

    async def _forget_peer(self, guest: Guest) -> None:
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


def _carry_console_log(source: GuestPaths, target: GuestPaths) -> None:
    """The console log goes with the guest to its new host."""
    with contextlib.suppress(FileNotFoundError):
        shutil.copyfile(source.console_log, target.console_log)

