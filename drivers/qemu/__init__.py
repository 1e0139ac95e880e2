"""A real hypervisor driver: QEMU guests driven over QMP (see drivers.qemu.driver)."""

from drivers.qemu.driver import QemuDriver
from drivers.qemu.images import GuestImage, ImageResolver, resolver_for_test_guest

__all__ = ["GuestImage", "ImageResolver", "QemuDriver", "resolver_for_test_guest"]
