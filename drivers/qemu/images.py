"""What a guest boots from: a kernel and initramfs, a base disk image, or both.

The driver asks an ImageResolver for the GuestImage of a server's image ref.
``catalog_resolver`` answers from the image catalog and its data files
(control_plane.store.image_files), the way Nova boots Glance images: a machine image whose
``kernel_id`` / ``ramdisk_id`` properties name kernel (aki) and ramdisk (ari) images is
booted directly from those (``os_command_line`` is the kernel command line), with the
image's own data, if it has any, as the root disk's base; any other image's data is the
base of the root disk. ``resolver_for_test_guest`` boots the test guest built by
scripts/build_test_image.py for every image ref (protocol tests).
"""

from __future__ import annotations

import inspect
import json
import os
import shutil
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from drivers.base import DriverError

MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class GuestImage:
    """A bootable image: ``kernel`` (+ ``initrd``, ``append``) booted directly, and/or
    ``disk``, a base image the guest's root disk is a qcow2 overlay of (a kernel-booted
    guest without one gets a blank data disk)."""

    kernel: str | None = None
    initrd: str | None = None
    append: str = ""
    disk: str | None = None
    disk_format: str = "qcow2"
    marker: str | None = None  # a line the guest prints on its console once it is up

    def __post_init__(self) -> None:
        if self.kernel is None and self.disk is None:
            raise ValueError("a GuestImage has a kernel, a disk or both")

    @property
    def kind(self) -> str:
        return "kernel" if self.kernel is not None else "disk"


# image ref -> GuestImage (DriverError when it cannot be booted); may be a coroutine
ImageResolver = Callable[[str], "GuestImage | Awaitable[GuestImage]"]


async def resolve(resolver: ImageResolver, image_ref: str) -> GuestImage:
    result = resolver(image_ref)
    if inspect.isawaitable(result):
        return await result
    return result


@dataclass(frozen=True)
class CatalogImage:
    """What the catalog says about an image: enough to boot it."""

    image_id: str
    disk_format: str
    properties: Mapping[str, str]


# image id -> the catalog's entry (None: no such image, or deleted)
CatalogLookup = Callable[[str], Awaitable[CatalogImage | None]]
# image id -> its data file, None if the store has no data for it
DataLookup = Callable[[str], "Path | None"]

DISK_FORMATS = {"qcow2": "qcow2", "raw": "raw", "ami": "raw"}
DEFAULT_COMMAND_LINE = "console=ttyS0"


def catalog_resolver(lookup: CatalogLookup, data: DataLookup) -> ImageResolver:
    """Boot images as the catalog describes them, from the data files the store has."""

    async def part(image_id: str, role: str) -> Path:
        entry = await lookup(image_id)
        path = data(image_id) if entry is not None else None
        if path is None:
            raise DriverError(f"The {role} image {image_id} of this image has no data "
                              "here; it cannot be booted.")
        return path

    async def resolve_ref(image_ref: str) -> GuestImage:
        image = await lookup(image_ref)
        if image is None:
            raise DriverError(f"Image {image_ref} could not be found.")
        if image.disk_format in ("aki", "ari"):
            raise DriverError(f"Image {image_ref} is a kernel or ramdisk image "
                              f"({image.disk_format}); boot a machine image that names it "
                              "in kernel_id / ramdisk_id.")
        props = image.properties
        kernel = initrd = None
        if props.get("kernel_id"):
            kernel = str(await part(props["kernel_id"], "kernel"))
            if props.get("ramdisk_id"):
                initrd = str(await part(props["ramdisk_id"], "ramdisk"))
        own = data(image_ref)
        if kernel is None and own is None:
            raise DriverError(f"Image {image_ref} has no data in this deployment's image "
                              "store, so it cannot be booted by the QEMU driver.")
        disk_format = DISK_FORMATS.get(image.disk_format)
        if own is not None and disk_format is None:
            raise DriverError(f"Image {image_ref} has disk format {image.disk_format}, "
                              "which the QEMU driver cannot boot (qcow2, raw or ami).")
        return GuestImage(kernel=kernel, initrd=initrd,
                          append=props.get("os_command_line") or
                          (DEFAULT_COMMAND_LINE if kernel else ""),
                          disk=str(own) if own is not None else None,
                          disk_format=disk_format or "qcow2")

    return resolve_ref


def default_image_cache() -> Path:
    env = os.environ.get("CONTROL_PLANE_IMAGE_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "control-plane" / "images"


def default_test_guest_manifest() -> Path:
    return default_image_cache() / "test-guest" / MANIFEST_NAME


def load_test_image(manifest: Path | None = None, append_extra: str = "") -> GuestImage:
    """The test guest described by the build script's manifest."""
    path = manifest or default_test_guest_manifest()
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DriverError(f"The test guest image is not built ({path}: {exc}); run "
                          "scripts/build_test_image.py") from None
    kernel, initrd = data["kernel"]["path"], data["initrd"]["path"]
    for p in (kernel, initrd):
        if not Path(p).is_file():
            raise DriverError(f"The test guest image file {p} is missing; run "
                              "scripts/build_test_image.py")
    append = " ".join(x for x in (data.get("append", ""), append_extra) if x)
    return GuestImage(kernel=kernel, initrd=initrd, append=append, marker=data.get("marker"))


def why_no_test_guest() -> str | None:
    """Why the test guest cannot boot here (QEMU or the image missing), or None."""
    for tool in ("qemu-system-x86_64", "qemu-img"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install qemu-system-x86 qemu-utils)"
    try:
        load_test_image()
    except DriverError as exc:
        return str(exc)
    return None


def resolver_for_test_guest(manifest: Path | None = None, append_extra: str = ""
                        ) -> ImageResolver:
    """A resolver that answers the test guest for every image ref."""

    def resolve(image_ref: str) -> GuestImage:
        return load_test_image(manifest, append_extra)

    return resolve
