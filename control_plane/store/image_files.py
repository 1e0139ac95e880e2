"""Image data: the bytes of the catalog's images, one file per image id.

The catalog (the Image aggregate and its view) says what an image is; this store holds
what it contains, like Glance's file store: ``<image dir>/<image id>``. Compute workers
on this machine read base images from it and write snapshots into it. Files are written
under a temporary name and renamed into place, so a reader never sees half an image.

The directory is ``$CONTROL_PLANE_IMAGE_DIR``, by default
``~/.local/share/control-plane/images``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import uuid
from pathlib import Path


def default_image_dir() -> Path:
    env = os.environ.get("CONTROL_PLANE_IMAGE_DIR")
    return Path(env) if env else Path.home() / ".local" / "share" / "control-plane" / "images"


class ImageFiles:
    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_image_dir()

    def path(self, image_id: str) -> Path:
        """Where the image's data is (whether or not it is there)."""
        return self.root / str(uuid.UUID(image_id))

    def has(self, image_id: str) -> bool:
        try:
            return self.path(image_id).is_file()
        except ValueError:
            return False

    def temporary(self, image_id: str) -> Path:
        """A file to write the image's data to before ``publish``."""
        self.root.mkdir(parents=True, exist_ok=True)
        return self.root / f".{uuid.UUID(image_id)}.{os.getpid()}.partial"

    def publish(self, image_id: str, written: Path) -> int:
        """Move a file written with ``temporary`` into place; returns its size."""
        target = self.path(image_id)
        written.replace(target)
        return target.stat().st_size

    def put(self, image_id: str, source: Path) -> int:
        """Copy ``source`` in as the image's data; returns its size."""
        partial = self.temporary(image_id)
        try:
            shutil.copyfile(source, partial)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return self.publish(image_id, partial)

    def remove(self, image_id: str) -> None:
        with contextlib.suppress(FileNotFoundError, ValueError):
            self.path(image_id).unlink()

    def checksum(self, image_id: str) -> str:
        """The MD5 of the image's data (Glance's ``checksum``)."""
        digest = hashlib.md5(usedforsecurity=False)
        with self.path(image_id).open("rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()
