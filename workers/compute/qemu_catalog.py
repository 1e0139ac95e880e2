"""The QEMU driver as a compute worker runs it: images come from the image catalog (the
Image aggregates in the event store) and their data files (control_plane.store.image_files),
snapshots go back into those files."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from control_plane.context import SYSTEM
from control_plane.domain.images import commands as c
from control_plane.domain.images.aggregate import Image
from control_plane.service.bus import MessageBus
from control_plane.service.uow import UnitOfWork
from control_plane.store.image_files import ImageFiles
from drivers.base import HostSpec
from drivers.qemu.driver import QemuDriver
from drivers.qemu.images import (
    CatalogImage,
    ImageResolver,
    catalog_resolver,
    default_test_guest_manifest,
    load_test_image,
)


def default_state_dir() -> Path:
    env = os.environ.get("CONTROL_PLANE_QEMU_STATE_DIR")
    return Path(env) if env else Path.home() / ".local" / "share" / "control-plane" / "qemu"


def store_resolver(unit_of_work: Callable[[], UnitOfWork], files: ImageFiles
                   ) -> ImageResolver:
    async def lookup(image_id: str) -> CatalogImage | None:
        try:
            key = uuid.UUID(image_id)
        except ValueError:
            return None
        image = await unit_of_work().get(Image, key)
        if image is None or image.deleted:
            return None
        return CatalogImage(image_id, getattr(image, "disk_format", "qcow2"),
                            dict(image.metadata))

    def data(image_id: str) -> Path | None:
        return files.path(image_id) if files.has(image_id) else None

    return catalog_resolver(lookup, data)


def this_machine(name: str) -> HostSpec:
    """A host with this machine's CPUs, memory and disk (of the state directory)."""
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return HostSpec(name=name, vcpus=os.cpu_count() or 1, memory_mb=pages // 2**20,
                    local_gb=max(1, _free_gb(default_state_dir())))


def _free_gb(path: Path) -> int:
    while not path.exists() and path != path.parent:
        path = path.parent
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize // 2**30


def qemu_driver(unit_of_work: Callable[[], UnitOfWork], hosts: list[HostSpec],
                state_dir: Path | None = None, image_dir: Path | None = None,
                **options: Any) -> QemuDriver:
    files = ImageFiles(image_dir)
    return QemuDriver(hosts, state_dir or default_state_dir(), store_resolver(unit_of_work, files),
                      image_files=files, **options)


# the test guest's images get ids derived from their contents, so registering the same
# build twice is a no-op and a new build gets new images
_NAMESPACE = uuid.UUID("5d0c7a52-7f0e-4c1b-9a53-2f6d8c1e4b70")


async def register_test_guest(bus: MessageBus, files: ImageFiles,
                              manifest: Path | None = None) -> str:
    """Put the test guest (scripts/build_test_image.py) into the image catalog, as Glance
    holds a kernel-booted image: a kernel (aki) and a ramdisk (ari) image with data, and a
    machine image (ami) naming both in kernel_id / ramdisk_id, with the kernel command
    line in os_command_line. Returns the machine image's id (the one to boot)."""
    path = manifest or default_test_guest_manifest()
    built = json.loads(path.read_text())
    guest = load_test_image(path)
    assert guest.kernel is not None and guest.initrd is not None
    ids = {}
    for role, source, fmt in (("kernel", guest.kernel, "aki"), ("ramdisk", guest.initrd, "ari")):
        digest = built["kernel" if role == "kernel" else "initrd"]["sha256"]
        image_id = str(uuid.uuid5(_NAMESPACE, f"{role}:{digest}"))
        if not files.has(image_id):
            files.put(image_id, Path(source))
        await bus.handle(c.RegisterImage(
            image_id=image_id, name=f"test-guest-{role}", size=files.path(image_id).stat().st_size,
            disk_format=fmt, container_format=fmt, metadata={"hypervisor_type": "qemu"}), SYSTEM)
        ids[role] = image_id
    machine = str(uuid.uuid5(_NAMESPACE, f"machine:{ids['kernel']}:{ids['ramdisk']}"))
    await bus.handle(c.RegisterImage(
        image_id=machine, name="test-guest", disk_format="ami", container_format="ami",
        metadata={"kernel_id": ids["kernel"], "ramdisk_id": ids["ramdisk"],
                  "os_command_line": guest.append, "hypervisor_type": "qemu",
                  "readiness_marker": built.get("marker", "")}), SYSTEM)
    return machine
