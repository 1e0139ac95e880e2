"""What a guest boots from: a kernel and initramfs (the test guest) or a base disk image.

The driver asks an ImageResolver for the GuestImage of a server's image ref. Wiring it
to the image service is left to the caller; ``resolver_for_test_guest`` boots the test guest
built by scripts/build_test_image.py for every image ref.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from drivers.base import DriverError

MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class GuestImage:
    """A bootable image: either ``kernel`` (+ ``initrd``, ``append``) booted directly with
    a blank data disk, or ``disk``, a base image the guest's root disk is a qcow2 overlay of."""

    kernel: str | None = None
    initrd: str | None = None
    append: str = ""
    disk: str | None = None
    disk_format: str = "qcow2"
    marker: str | None = None  # a line the guest prints on its console once it is up

    def __post_init__(self) -> None:
        if (self.kernel is None) == (self.disk is None):
            raise ValueError("a GuestImage has either a kernel or a disk")

    @property
    def kind(self) -> str:
        return "kernel" if self.kernel is not None else "disk"


ImageResolver = Callable[[str], GuestImage]


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


def resolver_for_test_guest(manifest: Path | None = None, append_extra: str = ""
                        ) -> ImageResolver:
    """A resolver that answers the test guest for every image ref."""

    def resolve(image_ref: str) -> GuestImage:
        return load_test_image(manifest, append_extra)

    return resolve
