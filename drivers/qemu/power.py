"""The QEMU driver's power operations: stop and start, reboot, pause and unpause, suspend
and resume (how each maps to QMP: see drivers.qemu.driver)."""

from __future__ import annotations

import contextlib
import logging

from drivers.base import DriverError, GuestNotRunning
from drivers.qemu.guests import QemuGuests
from drivers.qemu.process import save_state_uri
from drivers.qemu.readings import power_state

log = logging.getLogger(__name__)


class PowerOperations(QemuGuests):
    """Stop, start, reboot, pause, suspend and resume a guest."""

    async def power_off(self, host: str, server_id: str) -> None:
        guest = self._guest(host, server_id)
        async with guest.lock:
            self._config(guest)
            await self._shut_down(guest)

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
