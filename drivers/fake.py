"""An in-memory hypervisor driver with configurable latency and fault injection."""

from __future__ import annotations

import asyncio
import base64
import ipaddress
from dataclasses import dataclass, field

from drivers.base import DriverError, HostSpec, HypervisorDriver, InstanceInfo, InstanceSpec

RUNNING = 1
PAUSED = 3
SHUTDOWN = 4
FAIL_KEY = "fake_driver:fail"


@dataclass
class _FakeHost:
    spec: HostSpec
    instances: dict[str, InstanceInfo] = field(default_factory=dict)


class FakeDriver(HypervisorDriver):
    """Hypervisors that exist only in memory.

    ``latency`` seconds are spent in every operation (to look like a real host).
    ``fail_next_spawns(n)`` makes the next n spawns fail with a DriverError, so
    clients can exercise their error paths; over the API, a server created with the
    metadata item ``fake_driver:fail=spawn`` fails to spawn (and goes to ERROR).
    Counters record how often each operation really ran, for tests that check
    nothing is done twice.
    """

    hypervisor_type = "fake"

    def __init__(self, hosts: list[HostSpec], latency: float = 0.0) -> None:
        self._hosts = {h.name: _FakeHost(h) for h in hosts}
        self.latency = latency
        self._spawn_failures: list[str] = []
        self.calls: dict[str, int] = {"spawn": 0, "destroy": 0}
        self._next_ip = int(ipaddress.IPv4Address("10.0.0.2"))
        self.passwords: dict[str, str] = {}  # what the guest agent was told
        self.rescue_images: dict[str, str] = {}
        self.files: dict[str, dict[str, bytes]] = {}  # injected personality files
        self.volumes: dict[str, dict[str, str]] = {}  # server id -> {device: volume id}
        self._volume_failures: list[str] = []

    def hosts(self) -> list[HostSpec]:
        return [h.spec for h in self._hosts.values()]

    def fail_next_spawns(self, count: int, message: str = "Fake driver: injected spawn failure"
                         ) -> None:
        self._spawn_failures.extend([message] * count)

    def fail_next_volume_operations(self, count: int,
                                    message: str = "Fake driver: injected volume failure"
                                    ) -> None:
        """Make the next ``count`` volume attaches or detaches fail with a DriverError."""
        self._volume_failures.extend([message] * count)

    def _host(self, host: str) -> _FakeHost:
        try:
            return self._hosts[host]
        except KeyError:
            raise DriverError(f"Compute host {host} could not be found.") from None

    async def _delay(self) -> None:
        if self.latency:
            await asyncio.sleep(self.latency)

    async def spawn(self, host: str, spec: InstanceSpec) -> InstanceInfo:
        h = self._host(host)
        if spec.server_id in h.instances:
            return h.instances[spec.server_id]
        await self._delay()
        self.calls["spawn"] += 1
        if self._spawn_failures:
            raise DriverError(self._spawn_failures.pop(0))
        if spec.metadata.get(FAIL_KEY) == "spawn":
            raise DriverError(f"Fake driver: spawn failed as requested by metadata {FAIL_KEY}")
        ip = str(ipaddress.IPv4Address(self._next_ip))
        self._next_ip += 1
        n = self._next_ip
        mac = f"fa:16:3e:{(n >> 16) & 0xFF:02x}:{(n >> 8) & 0xFF:02x}:{n & 0xFF:02x}"
        info = InstanceInfo(
            server_id=spec.server_id,
            power_state=RUNNING,
            addresses={"private": [{"version": 4, "addr": ip, "OS-EXT-IPS:type": "fixed",
                                    "OS-EXT-IPS-MAC:mac_addr": mac}]},
        )
        h.instances[spec.server_id] = info
        self._guest_setup(spec)
        return info

    def _guest_setup(self, spec: InstanceSpec) -> None:
        """What a real driver would put into the guest: its password and files."""
        if spec.admin_pass is not None:
            self.passwords[spec.server_id] = spec.admin_pass
        self.files[spec.server_id] = {p: base64.b64decode(c) for p, c in spec.files}

    async def destroy(self, host: str, server_id: str) -> None:
        h = self._host(host)
        await self._delay()
        self.calls["destroy"] += 1
        h.instances.pop(server_id, None)
        self.volumes.pop(server_id, None)  # a destroyed guest has no disks connected

    def _instance(self, host: str, server_id: str) -> InstanceInfo:
        info = self._host(host).instances.get(server_id)
        if info is None:
            raise DriverError(f"Instance {server_id} could not be found on {host}.")
        return info

    async def power_off(self, host: str, server_id: str) -> None:
        await self._power(host, server_id, "power_off", SHUTDOWN)

    async def power_on(self, host: str, server_id: str) -> None:
        await self._power(host, server_id, "power_on", RUNNING)

    async def reboot(self, host: str, server_id: str, reboot_type: str) -> None:
        await self._power(host, server_id, "reboot", RUNNING)

    async def _power(self, host: str, server_id: str, operation: str, power_state: int
                     ) -> None:
        info = self._instance(host, server_id)
        await self._delay()
        self.calls[operation] = self.calls.get(operation, 0) + 1
        info.power_state = power_state

    async def migrate(self, source: str, target: str, spec: InstanceSpec) -> None:
        info = self._instance(source, spec.server_id)
        await self._delay()
        self.calls["migrate"] = self.calls.get("migrate", 0) + 1
        self._host(target).instances[spec.server_id] = InstanceInfo(
            spec.server_id, RUNNING, dict(info.addresses))

    async def snapshot(self, host: str, server_id: str, image_id: str) -> int:
        self._instance(host, server_id)
        await self._delay()
        self.calls["snapshot"] = self.calls.get("snapshot", 0) + 1
        return 12_582_912  # what a small qcow2 snapshot weighs

    async def rebuild(self, host: str, spec: InstanceSpec) -> None:
        await self._power(host, spec.server_id, "rebuild", RUNNING)
        self._guest_setup(spec)

    async def pause(self, host: str, server_id: str) -> None:
        await self._power(host, server_id, "pause", PAUSED)

    async def unpause(self, host: str, server_id: str) -> None:
        await self._power(host, server_id, "unpause", RUNNING)

    async def suspend(self, host: str, server_id: str) -> None:
        await self._power(host, server_id, "suspend", SHUTDOWN)

    async def resume(self, host: str, server_id: str) -> None:
        await self._power(host, server_id, "resume", RUNNING)

    async def rescue(self, host: str, server_id: str, image_ref: str, admin_pass: str | None
                     ) -> None:
        if admin_pass is not None:
            self.passwords[server_id] = admin_pass
        self.rescue_images[server_id] = image_ref
        await self._power(host, server_id, "rescue", RUNNING)

    async def unrescue(self, host: str, server_id: str) -> None:
        self.rescue_images.pop(server_id, None)
        await self._power(host, server_id, "unrescue", RUNNING)

    async def set_admin_password(self, host: str, server_id: str, admin_pass: str) -> None:
        self._instance(host, server_id)
        await self._delay()
        self.calls["set_admin_password"] = self.calls.get("set_admin_password", 0) + 1
        self.passwords[server_id] = admin_pass

    async def live_migrate(self, source: str, target: str, server_id: str) -> None:
        info = self._instance(source, server_id)
        dest = self._host(target)
        await self._delay()
        self.calls["live_migrate"] = self.calls.get("live_migrate", 0) + 1
        dest.instances[server_id] = info
        self._host(source).instances.pop(server_id, None)

    async def _volume_operation(self, host: str, server_id: str, operation: str) -> None:
        self._instance(host, server_id)
        await self._delay()
        self.calls[operation] = self.calls.get(operation, 0) + 1
        if self._volume_failures:
            raise DriverError(self._volume_failures.pop(0))

    async def attach_volume(self, host: str, server_id: str, volume_id: str, device: str
                            ) -> None:
        await self._volume_operation(host, server_id, "attach_volume")
        self.volumes.setdefault(server_id, {})[device] = volume_id

    async def detach_volume(self, host: str, server_id: str, volume_id: str) -> None:
        await self._volume_operation(host, server_id, "detach_volume")
        devices = self.volumes.get(server_id, {})
        for device in [d for d, v in devices.items() if v == volume_id]:
            del devices[device]

    async def list_instances(self, host: str) -> list[str]:
        return list(self._host(host).instances)

    async def get_info(self, host: str, server_id: str) -> InstanceInfo | None:
        return self._host(host).instances.get(server_id)

    def instance_ids(self) -> set[str]:
        return {i for h in self._hosts.values() for i in h.instances}
