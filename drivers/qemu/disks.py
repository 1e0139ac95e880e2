"""The QEMU driver's operations on a guest's disks: snapshot (export into the image
store), rebuild (a fresh root disk), rescue and unrescue (boot from a rescue image)."""

from __future__ import annotations

import contextlib

from drivers.base import DriverError, InstanceSpec
from drivers.qemu.guests import QemuGuests
from drivers.qemu.images import resolve


class DiskOperations(QemuGuests):
    """Snapshot, rebuild and rescue: the operations that make or swap disks."""

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
