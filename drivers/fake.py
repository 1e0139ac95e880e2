"""An in-memory hypervisor driver with configurable latency and fault injection."""

from __future__ import annotations

import asyncio
import base64
import ipaddress
from dataclasses import dataclass, field
from typing import Any

from drivers.base import (
    ConsoleInfo,
    ConsoleUnavailable,
    DriverError,
    GuestNotFound,
    GuestNotRunning,
    HostSpec,
    HypervisorDriver,
    InstanceInfo,
    InstanceSpec,
)
from drivers.fake_console import ENDPOINTS, FakeConsole

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
        self.consoles: dict[tuple[str, str], FakeConsole] = {}  # (host, server id) -> console
        self.interfaces: dict[str, dict[str, dict[str, Any]]] = {}  # server -> {port: vif}
        self.network_info: dict[str, list[dict[str, Any]]] = {}  # what was last injected
        self._interface_failures: list[str] = []

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

    def fail_next_interface_operations(
            self, count: int, message: str = "Fake driver: injected interface failure") -> None:
        """Make the next ``count`` interface attaches or detaches fail with a DriverError."""
        self._interface_failures.extend([message] * count)

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
        if spec.vifs:  # plug the ports the control plane allocated
            self.interfaces[spec.server_id] = {v["port_id"]: dict(v) for v in spec.vifs}
            addresses = _addresses(spec.vifs)
            ip = next((v["ips"][0] for v in spec.vifs if v["ips"]), "")
        else:  # no allocation given: invent one (this driver's own counter)
            ip = str(ipaddress.IPv4Address(self._next_ip))
            self._next_ip += 1
            n = self._next_ip
            mac = f"fa:16:3e:{(n >> 16) & 0xFF:02x}:{(n >> 8) & 0xFF:02x}:{n & 0xFF:02x}"
            addresses = {"private": [{"version": 4, "addr": ip, "OS-EXT-IPS:type": "fixed",
                                      "OS-EXT-IPS-MAC:mac_addr": mac}]}
        info = InstanceInfo(server_id=spec.server_id, power_state=RUNNING, addresses=addresses)
        h.instances[spec.server_id] = info
        self._guest_setup(spec)
        self._new_console(host, spec, ip).boot()
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
        self.consoles.pop((host, server_id), None)
        self.volumes.pop(server_id, None)  # a destroyed guest has no disks connected
        self.interfaces.pop(server_id, None)

    def _instance(self, host: str, server_id: str) -> InstanceInfo:
        info = self._host(host).instances.get(server_id)
        if info is None:
            raise GuestNotFound(f"Instance {server_id} could not be found on {host}.")
        return info

    async def power_off(self, host: str, server_id: str) -> None:
        await self._power(host, server_id, "power_off", SHUTDOWN)

    async def power_on(self, host: str, server_id: str) -> None:
        await self._power(host, server_id, "power_on", RUNNING)

    async def reboot(self, host: str, server_id: str, reboot_type: str) -> None:
        await self._power(host, server_id, "reboot", RUNNING)
        if (console := self.consoles.get((host, server_id))) is not None:
            console.reboot(reboot_type.upper())

    async def _power(self, host: str, server_id: str, operation: str, power_state: int
                     ) -> None:
        info = self._instance(host, server_id)
        await self._delay()
        self.calls[operation] = self.calls.get(operation, 0) + 1
        info.power_state = power_state
        self._console_after(host, server_id, operation)

    async def migrate(self, source: str, target: str, spec: InstanceSpec) -> None:
        info = self._instance(source, spec.server_id)
        await self._delay()
        self.calls["migrate"] = self.calls.get("migrate", 0) + 1
        self._host(target).instances[spec.server_id] = InstanceInfo(
            spec.server_id, RUNNING, dict(info.addresses))
        self._new_console(target, spec, "", self.consoles.get((source, spec.server_id))).boot()

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
        if (console := self.consoles.pop((source, server_id), None)) is not None:
            self.consoles[(target, server_id)] = console

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

    async def _interface_operation(self, host: str, server_id: str, operation: str) -> None:
        self._instance(host, server_id)
        await self._delay()
        self.calls[operation] = self.calls.get(operation, 0) + 1
        if self._interface_failures and operation.endswith("_interface"):
            raise DriverError(self._interface_failures.pop(0))

    async def attach_interface(self, host: str, server_id: str, vif: dict[str, Any]) -> None:
        await self._interface_operation(host, server_id, "attach_interface")
        self.interfaces.setdefault(server_id, {})[vif["port_id"]] = dict(vif)

    async def detach_interface(self, host: str, server_id: str, port_id: str) -> None:
        await self._interface_operation(host, server_id, "detach_interface")
        self.interfaces.get(server_id, {}).pop(port_id, None)

    async def inject_network_info(self, host: str, server_id: str,
                                  vifs: list[dict[str, Any]]) -> None:
        await self._interface_operation(host, server_id, "inject_network_info")
        self.network_info[server_id] = [dict(v) for v in vifs]

    async def reset_network(self, host: str, server_id: str) -> None:
        await self._interface_operation(host, server_id, "reset_network")

    async def list_instances(self, host: str) -> list[str]:
        return list(self._host(host).instances)

    async def get_info(self, host: str, server_id: str) -> InstanceInfo | None:
        return self._host(host).instances.get(server_id)

    def instance_ids(self) -> set[str]:
        return {i for h in self._hosts.values() for i in h.instances}

    # -- consoles and diagnostics (drivers.fake_console) --------------------------------

    def _new_console(self, host: str, spec: InstanceSpec, ip: str,
                     previous: FakeConsole | None = None) -> FakeConsole:
        console = FakeConsole(spec.server_id, spec.name, spec.vcpus, spec.memory_mb,
                              ip or (previous.ip if previous else ""),
                              list(previous.lines) if previous else [])
        self.consoles[(host, spec.server_id)] = console
        return console

    _CONSOLE_EFFECTS = {"power_off": "shutdown", "suspend": "shutdown",
                        "power_on": "boot", "resume": "boot",
                        "rebuild": "rebuilt", "rescue": "rescued", "unrescue": "rebooted"}

    def _console_after(self, host: str, server_id: str, operation: str) -> None:
        console = self.consoles.get((host, server_id))
        effect = self._CONSOLE_EFFECTS.get(operation)
        if console is None or effect is None:
            return
        if effect == "shutdown":
            console.shutdown()
        elif effect == "boot":
            console.boot()
        else:
            console.shutdown()
            console.boot(f"[fake-hypervisor] guest {effect}")

    def _console(self, host: str, server_id: str) -> FakeConsole:
        self._instance(host, server_id)
        console = self.consoles.get((host, server_id))
        if console is None:
            raise GuestNotFound(f"Instance {server_id} could not be found on {host}.")
        return console

    async def get_console_output(self, host: str, server_id: str) -> str:
        return "\n".join(self._console(host, server_id).lines)

    async def get_console(self, host: str, server_id: str, kind: str) -> ConsoleInfo:
        console = self._console(host, server_id)
        if kind not in ENDPOINTS:
            raise ConsoleUnavailable(f"Unavailable console type {kind}.")
        info = self._instance(host, server_id)
        if info.power_state not in (RUNNING, PAUSED):
            raise GuestNotRunning(f"Instance {server_id} is not running.", info.power_state)
        return console.endpoint(kind)

    async def get_diagnostics(self, host: str, server_id: str) -> dict[str, Any]:
        console = self._console(host, server_id)
        info = self._instance(host, server_id)
        if info.power_state != RUNNING:
            raise GuestNotRunning(f"Instance {server_id} is not running.", info.power_state)
        self.calls["get_diagnostics"] = self.calls.get("get_diagnostics", 0) + 1
        return console.diagnostics()


def _addresses(vifs: tuple[dict[str, Any], ...]) -> dict[str, list[dict[str, Any]]]:
    """Nova's ``addresses`` for the plugged ports (fixed IPs only: floating ones are NAT
    outside the guest)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for vif in vifs:
        out.setdefault(vif["net_name"], []).extend(
            {"version": ipaddress.ip_address(ip).version, "addr": ip,
             "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": vif["mac"]}
            for ip in vif["ips"])
    return out
