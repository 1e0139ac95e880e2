"""QEMU processes: one ``qemu-system-x86_64`` per guest, each with its own directory.

A guest's directory (``<state dir>/<host>/<server id>/``) holds everything about it:

* ``guest.json``: the persisted configuration (flavor, boot source, MAC, ...), so that the
  same command line can be built again for power on, resume and after a worker restart;
* ``disk.qcow2``: the root disk, a qcow2 overlay on the base image (or a blank data
  disk for a kernel-booted guest);
* ``console.log``: the serial console (QEMU appends to it, across restarts);
* ``qmp.sock`` / ``serial.sock``: the QMP monitor and an interactive serial socket;
* ``peer.sock``: a second QMP monitor, for the workers of other hosts on this machine
  (a monitor serves one client at a time, and the owning worker keeps ``qmp.sock``):
  a cold migration powers the source guest off through it;
* ``rescue.qcow2``: while rescued, an overlay on the rescue image, booted first;
* ``qemu.pid``: the pid of the daemonized QEMU;
* ``memory.state``: the saved RAM and device state of a suspended guest.

QEMU is started with ``-daemonize``: the launching process exits once QEMU has set up
(its sockets are listening), so a non-zero exit means the guest did not start, with the
reason on its stderr, and the guest survives a restart of the worker. QEMU is run in its
directory and the sockets are given relative names, so they are bound before it chdirs
to ``/`` and never hit the 107-byte limit of a unix socket path.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import shlex
import signal
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from drivers.base import DriverError

QEMU_BINARY = "qemu-system-x86_64"
QEMU_IMG = "qemu-img"


@dataclass(frozen=True)
class GuestPaths:
    root: Path

    @property
    def config(self) -> Path:
        return self.root / "guest.json"

    @property
    def disk(self) -> Path:
        return self.root / "disk.qcow2"

    @property
    def console_log(self) -> Path:
        return self.root / "console.log"

    @property
    def qmp(self) -> Path:
        return self.root / "qmp.sock"

    @property
    def peer_qmp(self) -> Path:
        return self.root / "peer.sock"

    @property
    def rescue_disk(self) -> Path:
        return self.root / "rescue.qcow2"

    @property
    def serial(self) -> Path:
        return self.root / "serial.sock"

    @property
    def pid(self) -> Path:
        return self.root / "qemu.pid"

    @property
    def state(self) -> Path:
        return self.root / "memory.state"


@dataclass
class GuestConfig:
    """What the command line is built from; saved as guest.json."""

    server_id: str
    name: str
    vcpus: int
    memory_mb: int
    disk_gb: int
    image_ref: str
    kernel: str | None = None
    initrd: str | None = None
    append: str = ""
    base_disk: str | None = None
    base_format: str = "qcow2"
    mac: str = ""
    accel: str = "tcg"
    vnc_listen: str = "127.0.0.1"
    vnc_display: int = 0  # the first display tried; QEMU takes the next free one
    tb_size_mb: int | None = None  # TCG translation cache size (smaller: less RSS)
    extra_args: list[str] = field(default_factory=list)
    # while rescued: {"kernel", "initrd", "append", "disk" (a base image or None),
    # "disk_format"}; the rescue boot source replaces the guest's own
    rescue: dict[str, Any] | None = None

    def boot_source(self) -> tuple[str | None, str | None, str]:
        """(kernel, initrd, command line) of the next boot."""
        if self.rescue is not None:
            return self.rescue.get("kernel"), self.rescue.get("initrd"), \
                str(self.rescue.get("append") or "")
        return self.kernel, self.initrd, self.append

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> GuestConfig:
        data: dict[str, Any] = json.loads(path.read_text())
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


def mac_for(server_id: str) -> str:
    """A stable MAC address in the OpenStack prefix."""
    digest = hashlib.sha256(server_id.encode()).digest()
    return "fa:16:3e:" + ":".join(f"{b:02x}" for b in digest[:3])


def kvm_usable() -> bool:
    """True when /dev/kvm can be opened and the CPU advertises VMX or SVM (on a nested
    host without them, KVM "works" but guests hang; see the hypervisor notes)."""
    try:
        fd = os.open("/dev/kvm", os.O_RDWR)
    except OSError:
        return False
    os.close(fd)
    try:
        flags = next((line for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("flags")), "")
    except OSError:
        return False
    return " vmx" in flags or " svm" in flags


def build_command(binary: str, config: GuestConfig, paths: GuestPaths,
                  incoming: bool = False) -> list[str]:
    """The QEMU command line of a guest (run with ``paths.root`` as working directory)."""
    accel = config.accel
    if accel == "tcg" and config.tb_size_mb:
        accel = f"tcg,tb-size={config.tb_size_mb}"
    cmd = [
        binary,
        "-name", f"guest={config.server_id},debug-threads=on",
        "-machine", "pc", "-accel", accel,
        "-cpu", "host" if config.accel == "kvm" else "qemu64",
        "-m", str(config.memory_mb), "-smp", str(max(1, config.vcpus)),
        "-nodefaults", "-no-user-config", "-display", "none", "-vga", "std",
        "-no-shutdown",
        "-qmp", f"unix:{paths.qmp.name},server=on,wait=off",
        "-qmp", f"unix:{paths.peer_qmp.name},server=on,wait=off",
        "-chardev", (f"socket,id=serial0,path={paths.serial.name},server=on,wait=off,"
                     f"logfile={paths.console_log},logappend=on"),
        "-serial", "chardev:serial0",
        "-vnc", f"{config.vnc_listen}:{config.vnc_display},to={config.vnc_display + 1000}",
        "-pidfile", str(paths.pid), "-daemonize",
    ]
    disks = []
    if config.rescue is not None and config.rescue.get("disk"):
        disks.append(paths.rescue_disk)  # a rescue boots its own disk first
    if paths.disk.exists() or config.base_disk is not None:
        disks.append(paths.disk)
    for i, disk in enumerate(disks):
        node = "vd" + "abcdefgh"[i]
        cmd += ["-blockdev", (f"driver=file,filename={disk},node-name={node}-file,"
                              "cache.direct=off"),
                "-blockdev", f"driver=qcow2,file={node}-file,node-name={node}",
                "-device", f"virtio-blk-pci,drive={node},id={node}-dev"]
    cmd += ["-netdev", "user,id=net0,restrict=on",
            # no option ROM: nothing needs it, and it breaks migrations after unplugs
            "-device", f"virtio-net-pci,netdev=net0,id=net0-dev,mac={config.mac},romfile="]
    kernel, initrd, append = config.boot_source()
    if kernel is not None:
        cmd += ["-kernel", kernel]
        if initrd:
            cmd += ["-initrd", initrd]
        if append:
            cmd += ["-append", append]
    if incoming:
        cmd += ["-incoming", "defer"]
    return cmd + list(config.extra_args)


def _proc_state(pid: int) -> str | None:
    """The process's state letter, or None if there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def pid_alive(pid: int) -> bool:
    return _proc_state(pid) not in (None, "Z", "X")


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def thread_cpu_ns(pid: int, tid: int) -> int | None:
    """User plus system CPU time of one of the process's threads, in nanoseconds."""
    try:
        fields = Path(f"/proc/{pid}/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15 of stat)
    return ticks * 1_000_000_000 // os.sysconf("SC_CLK_TCK")


class QemuProcesses:
    """Starts, finds and stops QEMU processes, and prepares their disks."""

    def __init__(self, binary: str = QEMU_BINARY, qemu_img: str = QEMU_IMG) -> None:
        self.binary = binary
        self.qemu_img = qemu_img

    async def _run(self, cmd: list[str], cwd: Path | None = None, timeout: float = 60.0
                   ) -> str:
        try:
            proc = await asyncio.create_subprocess_exec(
                *cmd, cwd=cwd, stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        except FileNotFoundError:
            raise DriverError(f"{cmd[0]} is not installed on this host") from None
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise DriverError(f"{Path(cmd[0]).name} did not finish within {timeout:g} s"
                              ) from None
        if proc.returncode != 0:
            message = (err or out).decode(errors="replace").strip()
            raise DriverError(f"{Path(cmd[0]).name} failed: {message}")
        return out.decode(errors="replace")

    async def create_disk(self, config: GuestConfig, paths: GuestPaths) -> None:
        """The guest's root disk: an overlay on the base image, at least ``disk_gb`` big
        (or, for a kernel-booted guest with a disk, a blank qcow2 data disk)."""
        await self.create_overlay(paths.disk, config.base_disk, config.base_format,
                                  config.disk_gb)

    async def create_overlay(self, disk: Path, base: str | None, base_format: str,
                             disk_gb: int) -> None:
        """A qcow2 overlay on ``base`` at least ``disk_gb`` big, or a blank qcow2 disk of
        ``disk_gb`` without a base (none if that is 0)."""
        if base is not None:
            info = json.loads(await self._run([self.qemu_img, "info", "--output=json",
                                               "-f", base_format, base]))
            size = max(int(info["virtual-size"]), disk_gb * 1024**3)
            await self._run([self.qemu_img, "create", "-q", "-f", "qcow2",
                             "-F", base_format, "-b", base, str(disk), str(size)])
        elif disk_gb > 0:
            await self._run([self.qemu_img, "create", "-q", "-f", "qcow2", str(disk),
                             f"{disk_gb}G"])

    async def grow_disk(self, disk: Path, disk_gb: int) -> None:
        """Make the disk at least ``disk_gb`` big (a resize never shrinks a disk)."""
        info = json.loads(await self._run([self.qemu_img, "info", "--output=json",
                                           "-U", str(disk)]))
        if int(info["virtual-size"]) < disk_gb * 1024**3:
            await self._run([self.qemu_img, "resize", "-q", str(disk), f"{disk_gb}G"])

    async def export_disk(self, disk: Path, target: Path, timeout: float = 600.0) -> None:
        """A standalone qcow2 copy of the disk and its backing chain (for an image); the
        guest must not write meanwhile (paused or stopped: ``-U`` reads it while QEMU
        holds its lock)."""
        await self._run([self.qemu_img, "convert", "-U", "-O", "qcow2", str(disk),
                         str(target)], timeout=timeout)

    async def start(self, config: GuestConfig, paths: GuestPaths, incoming: bool = False,
                    timeout: float = 30.0) -> int:
        """Start the guest's QEMU; returns its pid once its monitor socket is listening."""
        with contextlib.suppress(FileNotFoundError):
            paths.pid.unlink()
        for sock in (paths.qmp, paths.peer_qmp, paths.serial):
            with contextlib.suppress(FileNotFoundError):
                sock.unlink()
        await self._run(build_command(self.binary, config, paths, incoming), cwd=paths.root,
                        timeout=timeout)
        pid = self.running_pid(paths)
        if pid is None:
            raise DriverError(f"QEMU for {config.server_id} exited right after starting")
        return pid

    def running_pid(self, paths: GuestPaths) -> int | None:
        """The pid of the guest's QEMU if it is running (checked against its command line,
        so a reused pid is not mistaken for it)."""
        try:
            pid = int(paths.pid.read_text().strip())
        except (OSError, ValueError):
            return None
        if not pid_alive(pid):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return None
        return pid if os.fsencode(paths.pid) in cmdline else None

    async def wait_exit(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while pid_alive(pid):
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    async def kill(self, pid: int, timeout: float = 5.0) -> None:
        """SIGTERM, then SIGKILL if it is still there after ``timeout`` seconds."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            if await self.wait_exit(pid, timeout):
                return
        raise DriverError(f"QEMU process {pid} did not exit after SIGKILL")

    def rss_kib(self, pid: int) -> int | None:
        return rss_kib(pid)

    def thread_cpu_ns(self, pid: int, tid: int) -> int | None:
        return thread_cpu_ns(pid, tid)


def save_state_uri(path: Path) -> str:
    """A migration URI that writes the guest's state to ``path`` (QEMU 7.2 has no
    ``file:`` URI; it came in 8.2)."""
    return f"exec:cat > {shlex.quote(str(path))}"


def load_state_uri(path: Path) -> str:
    return f"exec:cat {shlex.quote(str(path))}"
