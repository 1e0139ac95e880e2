#!/usr/bin/env python3
"""Build the tiny bootable test guest for the QEMU driver, from Debian packages.

The guest is a Debian kernel (``vmlinuz``) and a busybox initramfs (``initramfs.cpio.gz``)
whose ``/init`` mounts proc/sys/dev, loads the virtio, ACPI button and evdev modules,
starts busybox ``acpid`` so that an ACPI power-button press powers the guest off, prints
the readiness marker ``CONTROL-PLANE-GUEST-READY`` on the serial console (ttyS0) and idles
with a shell on the console.

Nothing is installed to build it: ``apt-get download`` fetches the kernel and
``busybox-static`` packages into a temporary directory, ``dpkg-deb --fsys-tarfile``
streams out only the files needed (the kernel package holds ~470 MB of modules; a dozen
are kept), and the cpio archive is written here in Python (so device nodes need no root).

The output goes to ``$CONTROL_PLANE_IMAGE_CACHE`` or ``~/.cache/control-plane/images/``
(``test-guest/``), with ``manifest.json`` naming the files, their sha256 and sizes. A
second run reuses a build whose files still match the manifest (``--force`` rebuilds).

``--check`` then boots the result once (``qemu-system-x86_64 -accel tcg -nographic``,
installing ``qemu-system-x86 qemu-utils`` with apt-get when run as root and missing),
waits for the marker, presses the ACPI power button over QMP and waits for the guest to
power off, and reports both times.

``--register`` puts the result into the control plane's image catalog (a kernel, a
ramdisk and a machine image naming both; see workers.compute.qemu_catalog) and prints the id of
the image to boot with ``--driver qemu``.

Usage: python scripts/build_test_image.py [--force] [--check] [--register] [--cache-dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import hashlib
import io
import json
import lzma
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

RECIPE_VERSION = 1
MARKER = "CONTROL-PLANE-GUEST-READY"
POWEROFF_MARKER = "CONTROL-PLANE-GUEST-POWEROFF"
APPEND = "console=ttyS0 quiet panic=-1"
KERNEL_META_PACKAGE = "linux-image-amd64"
BUSYBOX_PACKAGE = "busybox-static"
# loaded in this order (dependencies first; the order the hypervisor notes found to work)
MODULES = ("virtio_ring", "virtio", "virtio_pci_legacy_dev", "virtio_pci_modern_dev",
           "virtio_pci", "virtio_blk", "failover", "net_failover", "virtio_net",
           "virtio_console", "button", "evdev")

INIT = r"""#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp /run /var/log /bin /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null || mdev -s
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
exec 0</dev/console 1>/dev/console 2>&1
for m in $(cat /etc/modules); do
    [ -f /lib/modules/$m.ko ] && insmod /lib/modules/$m.ko 2>/dev/null
done
hostname "$(sed -n 's/.*cp.hostname=\([^ ]*\).*/\1/p' /proc/cmdline)"
[ -n "$(hostname)" ] || hostname guest
ip link set lo up 2>/dev/null
# the ACPI power button powers the guest off (button.ko + evdev.ko + acpid)
acpid -c /etc/acpi -l /var/log/acpid.log
cpus=$(grep -c ^processor /proc/cpuinfo)
memkb=$(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo)
disks=$(ls /sys/block | grep -v -e ^loop -e ^ram | tr '\n' ,)
nics=$(ls /sys/class/net | tr '\n' ,)
up=$(cut -d' ' -f1 /proc/uptime)
echo "@MARKER@ kernel=$(uname -r) uptime=$up cpus=$cpus memkb=$memkb disks=$disks nics=$nics"
hb=$(sed -n 's/.*cp.heartbeat=\([0-9]*\).*/\1/p' /proc/cmdline)
if [ -n "$hb" ] && [ "$hb" -gt 0 ]; then
    (n=0; while true; do sleep "$hb"; n=$((n+1)); echo "CONTROL-PLANE-GUEST-HB $n"; done) &
fi
while true; do
    setsid cttyhack sh -l
    sleep 1
done
""".replace("@MARKER@", MARKER)

POWER_BUTTON = f"""#!/bin/sh
echo "{POWEROFF_MARKER}" > /dev/console
sync
poweroff -f
"""


def log(message: str) -> None:
    print(f"[build_test_image] {message}", flush=True)


def default_cache_dir() -> Path:
    env = os.environ.get("CONTROL_PLANE_IMAGE_CACHE")
    base = Path(env) if env else Path.home() / ".cache" / "control-plane" / "images"
    return base / "test-guest"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def recipe_hash() -> str:
    h = hashlib.sha256()
    for part in (str(RECIPE_VERSION), INIT, POWER_BUTTON, APPEND, " ".join(MODULES)):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


def existing_build(out: Path) -> dict[str, object] | None:
    """The manifest of a build in ``out`` that still matches its files and this recipe."""
    manifest_path = out / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        return None
    if manifest.get("recipe") != recipe_hash():
        log(f"existing build in {out} is from another recipe; rebuilding")
        return None
    for key in ("kernel", "initrd"):
        entry = manifest.get(key) or {}
        path = Path(entry.get("path", ""))
        if not path.is_file() or path.stat().st_size != entry.get("size") \
                or sha256(path) != entry.get("sha256"):
            log(f"existing build in {out}: {key} is missing or changed; rebuilding")
            return None
    return dict(manifest)


def run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kwargs)  # type: ignore[call-overload, no-any-return]


def kernel_package() -> str:
    """The versioned kernel package the meta package depends on now."""
    out = run(["apt-cache", "depends", KERNEL_META_PACKAGE]).stdout
    match = re.search(r"Depends:\s*(linux-image-[0-9][^\s]*)", out)
    if not match:
        raise SystemExit(f"cannot resolve {KERNEL_META_PACKAGE}: {out.strip()!r}")
    return match.group(1)


def apt_download(packages: list[str], into: Path) -> list[Path]:
    def attempt() -> subprocess.CompletedProcess[str]:
        return subprocess.run(["apt-get", "download", *packages], cwd=into, text=True,
                              capture_output=True)

    result = attempt()
    if result.returncode != 0 and os.geteuid() == 0:
        log("apt-get download failed; running apt-get update once and retrying")
        run(["apt-get", "update", "-q"])
        result = attempt()
    if result.returncode != 0:
        raise SystemExit(f"apt-get download {' '.join(packages)} failed:\n{result.stderr}")
    debs = sorted(into.glob("*.deb"))
    log("downloaded " + ", ".join(f"{d.name} ({d.stat().st_size // 1024} KiB)" for d in debs))
    return debs


def deb_version(deb: Path) -> str:
    return run(["dpkg-deb", "--field", str(deb), "Version"]).stdout.strip()


def extract(deb: Path, want: re.Pattern[str]) -> dict[str, bytes]:
    """The regular files of ``deb`` whose paths match ``want`` (streamed: nothing else is
    written to disk)."""
    proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    found: dict[str, bytes] = {}
    with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
        for member in tar:
            name = member.name.removeprefix("./")
            if member.isfile() and want.search(name):
                f = tar.extractfile(member)
                assert f is not None
                found[name] = f.read()
    if proc.wait() != 0:
        raise SystemExit(f"dpkg-deb --fsys-tarfile {deb} failed")
    return found


def module_depends(ko: bytes) -> list[str]:
    match = re.search(rb"\0depends=([^\0]*)\0", ko)
    if not match or not match.group(1):
        return []
    return [d.replace("-", "_") for d in match.group(1).decode().split(",") if d]


def pick_modules(files: dict[str, bytes]) -> tuple[list[str], dict[str, bytes]]:
    """Module name -> contents for MODULES and their dependencies, in a load order."""
    by_name: dict[str, bytes] = {}
    for path, data in files.items():
        base = path.rsplit("/", 1)[-1]
        for suffix in (".ko.xz", ".ko"):
            if base.endswith(suffix):
                name = base[: -len(suffix)].replace("-", "_")
                by_name[name] = lzma.decompress(data) if suffix == ".ko.xz" else data
    order: list[str] = []

    def visit(name: str, trail: tuple[str, ...]) -> None:
        if name in order or name in trail:
            return
        if name not in by_name:
            return  # built into the kernel
        for dep in module_depends(by_name[name]):
            visit(dep, (*trail, name))
        order.append(name)

    for name in MODULES:
        visit(name, ())
    return order, {n: by_name[n] for n in order}


class Cpio:
    """A newc ("070701") cpio archive, written in memory with root ownership."""

    def __init__(self) -> None:
        self.buf = io.BytesIO()
        self.ino = 300000

    def _entry(self, name: str, mode: int, data: bytes = b"", rdev: tuple[int, int] = (0, 0)
               ) -> None:
        self.ino += 1
        encoded = name.encode() + b"\0"
        fields = (self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1],
                  len(encoded), 0)
        header = b"070701" + b"".join(f"{v:08x}".encode() for v in fields)
        self.buf.write(header + encoded)
        self.buf.write(b"\0" * (-(len(header) + len(encoded)) % 4))
        self.buf.write(data)
        self.buf.write(b"\0" * (-len(data) % 4))

    def directory(self, name: str) -> None:
        self._entry(name, stat.S_IFDIR | 0o755)

    def file(self, name: str, data: bytes, mode: int = 0o644) -> None:
        self._entry(name, stat.S_IFREG | mode, data)

    def symlink(self, name: str, target: str) -> None:
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def chardev(self, name: str, major: int, minor: int) -> None:
        self._entry(name, stat.S_IFCHR | 0o600, rdev=(major, minor))

    def finish(self) -> bytes:
        self._entry("TRAILER!!!", 0)
        return self.buf.getvalue()


def build(out: Path) -> dict[str, object]:
    started = time.monotonic()
    kpkg = kernel_package()
    log(f"kernel package: {kpkg}")
    with tempfile.TemporaryDirectory(prefix="cp-test-image-") as tmp:
        work = Path(tmp)
        os.chmod(work, 0o755)  # so apt's unprivileged downloader may write here
        debs = apt_download([kpkg, BUSYBOX_PACKAGE], work)
        kernel_deb = next(d for d in debs if d.name.startswith("linux-image-"))
        busybox_deb = next(d for d in debs if d.name.startswith("busybox"))
        kfiles = extract(kernel_deb, re.compile(
            r"^boot/vmlinuz-|/kernel/(drivers|net)/.*\.ko(\.xz)?$"))
        bfiles = extract(busybox_deb, re.compile(r"^bin/busybox$"))
        versions = {"kernel": deb_version(kernel_deb), "busybox": deb_version(busybox_deb)}
    vmlinuz = next(data for name, data in kfiles.items() if name.startswith("boot/vmlinuz-"))
    kernel_release = next(n for n in kfiles if n.startswith("boot/vmlinuz-")).split(
        "vmlinuz-", 1)[1]
    order, modules = pick_modules(kfiles)
    missing = [m for m in MODULES if m not in modules]
    log(f"modules: {' '.join(order)}" + (f" (built in: {' '.join(missing)})" if missing else ""))

    archive = Cpio()
    for d in ("bin", "sbin", "dev", "etc", "etc/acpi", "etc/acpi/PWRF", "lib", "lib/modules",
              "proc", "sys", "tmp", "run", "var", "var/log", "root", "usr", "usr/bin",
              "usr/sbin"):
        archive.directory(d)
    archive.chardev("dev/console", 5, 1)
    archive.chardev("dev/null", 1, 3)
    archive.file("bin/busybox", bfiles["bin/busybox"], 0o755)
    archive.symlink("bin/sh", "busybox")
    archive.file("init", INIT.encode(), 0o755)
    archive.file("etc/modules", ("\n".join(order) + "\n").encode())
    archive.file("etc/acpi/PWRF/00000080", POWER_BUTTON.encode(), 0o755)
    archive.file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
    archive.file("etc/group", b"root:x:0:\n")
    for name, data in modules.items():
        archive.file(f"lib/modules/{name}.ko", data)
    initrd = gzip.compress(archive.finish(), compresslevel=9, mtime=0)

    out.mkdir(parents=True, exist_ok=True)
    kernel_path, initrd_path = out / "vmlinuz", out / "initramfs.cpio.gz"
    for path, data in ((kernel_path, vmlinuz), (initrd_path, initrd)):
        tmp_path = path.with_suffix(path.suffix + ".tmp")
        tmp_path.write_bytes(data)
        tmp_path.replace(path)
    manifest: dict[str, object] = {
        "name": "control-plane-test-guest",
        "recipe": recipe_hash(),
        "kernel": {"path": str(kernel_path), "sha256": sha256(kernel_path),
                   "size": kernel_path.stat().st_size},
        "initrd": {"path": str(initrd_path), "sha256": sha256(initrd_path),
                   "size": initrd_path.stat().st_size},
        "append": APPEND,
        "marker": MARKER,
        "poweroff_marker": POWEROFF_MARKER,
        "kernel_release": kernel_release,
        "packages": {kpkg: versions["kernel"], BUSYBOX_PACKAGE: versions["busybox"]},
        "modules": order,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "build_seconds": round(time.monotonic() - started, 2),
    }
    manifest_path = out / "manifest.json"
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    log(f"built {kernel_path} ({kernel_path.stat().st_size // 1024} KiB) and {initrd_path} "
        f"({initrd_path.stat().st_size // 1024} KiB) in {manifest['build_seconds']} s")
    return manifest


def ensure_qemu() -> str:
    qemu = shutil.which("qemu-system-x86_64")
    if qemu:
        return qemu
    if os.geteuid() != 0:
        raise SystemExit("qemu-system-x86_64 is missing; install qemu-system-x86 and "
                         "qemu-utils (apt-get) or run this as root")
    log("installing qemu-system-x86 qemu-utils with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-q"], env=env)
    run(["apt-get", "install", "-y", "--no-install-recommends", "qemu-system-x86",
         "qemu-utils"], env=env)
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        raise SystemExit("qemu-system-x86_64 still missing after apt-get install")
    return qemu


def qmp_command(sock_path: Path, command: str) -> None:
    """Send one QMP command over a fresh connection (stdlib only)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(str(sock_path))
        f = s.makefile("rwb")
        f.readline()  # greeting
        for cmd in ("qmp_capabilities", command):
            f.write(json.dumps({"execute": cmd}).encode() + b"\n")
            f.flush()
            while b'"return"' not in (line := f.readline()) and b'"error"' not in line:
                if not line:
                    return
            if b'"error"' in line:
                raise SystemExit(f"QMP {cmd} failed: {line.decode().strip()}")


def boot_check(manifest: dict[str, object], timeout: float = 90.0) -> None:
    """Boot the image once; wait for the marker, then power it off through ACPI."""
    qemu = ensure_qemu()
    kernel = manifest["kernel"]["path"]  # type: ignore[index]
    initrd = manifest["initrd"]["path"]  # type: ignore[index]
    with tempfile.TemporaryDirectory(prefix="cp-test-boot-") as tmp:
        qmp = Path(tmp) / "qmp.sock"
        cmd = [qemu, "-accel", "tcg", "-nographic", "-no-user-config", "-nodefaults",
               "-machine", "pc", "-m", "256", "-smp", "1", "-serial", "stdio",
               "-monitor", "none", "-qmp", f"unix:{qmp},server=on,wait=off",
               "-kernel", str(kernel), "-initrd", str(initrd), "-append", APPEND]
        log("booting: " + " ".join(cmd))
        started = time.monotonic()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        assert proc.stdout is not None
        os.set_blocking(proc.stdout.fileno(), False)
        output = b""
        ready_at = off_at = None
        try:
            while time.monotonic() - started < timeout and proc.poll() is None:
                with contextlib.suppress(BlockingIOError, TypeError):
                    chunk = proc.stdout.read()
                    if chunk:
                        output += chunk
                if ready_at is None and MARKER.encode() in output:
                    ready_at = time.monotonic() - started
                    line = next(ln for ln in output.decode(errors="replace").splitlines()
                                if MARKER in ln)
                    line = line[line.index(MARKER):]
                    log(f"marker after {ready_at:.2f} s: {line.strip()}")
                    time.sleep(0.5)  # let acpid open the input device
                    qmp_command(qmp, "system_powerdown")
                    pressed = time.monotonic()
                time.sleep(0.05)
            if proc.poll() is not None and ready_at is not None:
                off_at = time.monotonic() - pressed
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            with contextlib.suppress(Exception):
                output += proc.stdout.read() or b""
        if ready_at is None:
            sys.stdout.write(output.decode(errors="replace")[-3000:])
            raise SystemExit(f"the marker {MARKER} did not appear within {timeout} s")
        if off_at is None:
            raise SystemExit("the guest did not power off after an ACPI power-button press")
        seen = POWEROFF_MARKER.encode() in output
        log(f"ACPI power button -> qemu exited after {off_at:.2f} s "
            f"({'guest printed' if seen else 'without'} {POWEROFF_MARKER}); check passed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="output directory (default: %(default)s -> "
                             "$CONTROL_PLANE_IMAGE_CACHE or ~/.cache/control-plane/images"
                             "/test-guest)")
    parser.add_argument("--force", action="store_true", help="rebuild even if a build exists")
    parser.add_argument("--check", action="store_true",
                        help="boot the image once with QEMU (TCG) and check the marker")
    parser.add_argument("--register", action="store_true",
                        help="put the image into the control plane's image catalog (and its "
                             "data into the image store) and print the image id to boot")
    parser.add_argument("--database-url", default=None,
                        help="with --register: Postgres URL (default: $DATABASE_URL, else "
                             "the embedded Postgres)")
    parser.add_argument("--image-dir", type=Path, default=None,
                        help="with --register: the image store (default: "
                             "$CONTROL_PLANE_IMAGE_DIR or ~/.local/share/control-plane/images)")
    args = parser.parse_args(argv)
    out = args.cache_dir or default_cache_dir()
    manifest = None if args.force else existing_build(out)
    if manifest is not None:
        log(f"reusing the existing build in {out} (built {manifest.get('built_at')}, "
            f"kernel {manifest.get('kernel_release')}); --force rebuilds")
    else:
        manifest = build(out)
    log(f"manifest: {out / 'manifest.json'}")
    if args.check:
        boot_check(manifest)
    if args.register:
        image_id = asyncio.run(register(out / "manifest.json", args.database_url,
                                        args.image_dir))
        log(f"registered in the image catalog as {image_id} (name test-guest)")
        print(image_id)
    return 0


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


async def register(manifest: Path, database_url: str | None, image_dir: Path | None) -> str:
    """Register the build with the control plane (workers.compute.qemu_catalog)."""
    sys.path.insert(0, ROOT)
    from control_plane.bootstrap import open_system
    from control_plane.store import db
    from control_plane.store.image_files import ImageFiles
    from workers.compute.qemu_catalog import register_test_guest

    system = await open_system(database_url or db.resolve_database_url())
    try:
        return await register_test_guest(system.bus, ImageFiles(image_dir), manifest)
    finally:
        await system.close()


if __name__ == "__main__":
    sys.exit(main())
