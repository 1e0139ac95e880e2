"""What the fake hypervisor shows of a guest: a serial console log that grows with the
guest's life (boots, reboots, shutdowns), console endpoints, and diagnostics counters
like those of Nova's libvirt driver."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from drivers.base import ConsoleInfo

# console kind -> (fake proxy-side host, port); every guest gets its own access path
ENDPOINTS = {"novnc": ("fakevncconsole.com", 5900), "xvpvnc": ("fakevncconsole.com", 5900),
             "spice-html5": ("fakespiceconsole.com", 5930),
             "rdp-html5": ("fakerdpconsole.com", 2179),
             "serial": ("fakeserialconsole.com", 10000), "webmks": ("fakemksconsole.com", 902)}

# what each operation leaves on the console (besides boots)
_SHUTDOWN = ("[  OK  ] Stopped target Multi-User System.",
             "[  OK  ] Reached target Power-Off.",
             "[ {uptime:>11.6f}] reboot: Power down")
_REBOOT = ("[  OK  ] Reached target Reboot.",
           "[ {uptime:>11.6f}] reboot: Restarting system")


@dataclass
class FakeConsole:
    """One guest's console: its name and size (for the log and diagnostics), its lines."""

    server_id: str
    name: str
    vcpus: int
    memory_mb: int
    ip: str = ""
    lines: list[str] = field(default_factory=list)
    boots: int = 0
    booted_at: float = field(default_factory=time.monotonic)
    paths: dict[str, str] = field(default_factory=dict)

    def uptime(self) -> float:
        return time.monotonic() - self.booted_at

    def boot(self, note: str = "") -> None:
        self.boots += 1
        self.booted_at = time.monotonic()
        hostname = self.name.lower().replace(" ", "-") or "guest"
        if note:
            self.lines.append(note)
        self.lines.extend([
            "[    0.000000] Linux version 5.15.0-fake (buildd@fake) (gcc 11.4.0) #1 SMP",
            "[    0.000000] Command line: BOOT_IMAGE=/vmlinuz root=LABEL=cloudimg-rootfs ro "
            "console=tty1 console=ttyS0",
            f"[    0.000000] Memory: {self.memory_mb * 1024}K available",
            f"[    0.012000] smpboot: Allowing {self.vcpus} CPUs, 0 hotplug CPUs",
            "[    1.104000] virtio_net virtio0 ens3: renamed from eth0",
            "[    2.310000] EXT4-fs (vda1): mounted filesystem with ordered data mode.",
            f"[    4.512000] cloud-init[512]: Cloud-init v. 23.1 running 'init' (boot "
            f"{self.boots}). Up 4.51 seconds.",
            f"[    4.530000] cloud-init[512]: ci-info: | ens3 | True | {self.ip or '-'} | "
            f"255.255.255.0 | global |",
            "[    5.020000] cloud-init[640]: Cloud-init v. 23.1 finished. Datasource "
            "DataSourceOpenStack. Up 5.02 seconds",
            "",
            f"{hostname} login: ",
        ])

    def shutdown(self) -> None:
        self.lines.extend(line.format(uptime=self.uptime()) for line in _SHUTDOWN)

    def reboot(self, kind: str) -> None:
        if kind == "SOFT":
            self.lines.extend(line.format(uptime=self.uptime()) for line in _REBOOT)
        self.boot()

    def endpoint(self, kind: str) -> ConsoleInfo:
        host, port = ENDPOINTS[kind]
        path = self.paths.setdefault(kind, str(uuid.uuid5(uuid.UUID(self.server_id), kind)))
        return ConsoleInfo(host=host, port=port, internal_access_path=path)

    def diagnostics(self) -> dict[str, Any]:
        """Nova's flat diagnostics, counters growing with the guest's uptime."""
        up = self.uptime()
        out: dict[str, Any] = {f"cpu{i}_time": 17_300_000_000 + int(up * 1e8) * (i + 1)
                               for i in range(self.vcpus)}
        out.update({
            "memory": self.memory_mb * 1024,
            "vda_errors": -1,
            "vda_read": 262_144 + int(up * 4096),
            "vda_read_req": 112 + int(up),
            "vda_write": 5_778_432 + int(up * 8192),
            "vda_write_req": 488 + int(up * 2),
            "vnet0_rx": 2_070_139 + int(up * 1500),
            "vnet0_rx_drop": 0,
            "vnet0_rx_errors": 0,
            "vnet0_rx_packets": 26_701 + int(up * 10),
            "vnet0_tx": 140_208 + int(up * 300),
            "vnet0_tx_drop": 0,
            "vnet0_tx_errors": 0,
            "vnet0_tx_packets": 662 + int(up * 3),
        })
        return out
