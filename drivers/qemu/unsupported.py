"""The driver operations the QEMU driver does not do yet: each fails with a DriverError
that says so (the hypervisor notes say how each can be done over QMP)."""

from __future__ import annotations

import asyncio
from typing import Any

from drivers.base import DriverError, HypervisorDriver

NOT_YET = "not supported by the QEMU driver yet"


class NotYetSupported:
    """Mixed in before HypervisorDriver."""

    async def set_admin_password(self, host: str, server_id: str, admin_pass: str) -> None:
        raise DriverError(f"Setting the admin password (needs a guest agent) is {NOT_YET}.")

    async def attach_volume(self, host: str, server_id: str, volume_id: str, device: str
                            ) -> None:
        raise DriverError(f"Attaching volumes is {NOT_YET}.")

    async def detach_volume(self, host: str, server_id: str, volume_id: str) -> None:
        raise DriverError(f"Detaching volumes is {NOT_YET}.")

    async def attach_interface(self, host: str, server_id: str, vif: dict[str, Any]) -> None:
        raise DriverError(f"Attaching interfaces is {NOT_YET}.")

    async def detach_interface(self, host: str, server_id: str, port_id: str) -> None:
        raise DriverError(f"Detaching interfaces is {NOT_YET}.")

    async def inject_network_info(self, host: str, server_id: str,
                                  vifs: list[dict[str, Any]]) -> None:
        raise DriverError(f"Injecting network info (needs a guest agent) is {NOT_YET}.")

    async def reset_network(self, host: str, server_id: str) -> None:
        raise DriverError(f"Resetting the network (needs a guest agent) is {NOT_YET}.")


def stub_missing_operations(cls: type) -> None:
    """Operations added to the driver interface after this driver was written fail with a
    DriverError instead of making the class abstract (uninstantiable)."""
    for name in sorted(getattr(cls, "__abstractmethods__", ())):
        if asyncio.iscoroutinefunction(getattr(HypervisorDriver, name)):
            async def operation(self: Any, *args: Any, _name: str = name, **kw: Any) -> Any:
                raise DriverError(f"{_name} is {NOT_YET}.")
        else:
            def operation(self: Any, *args: Any, _name: str = name, **kw: Any) -> Any:  # type: ignore[misc]
                raise DriverError(f"{_name} is {NOT_YET}.")
        setattr(cls, name, operation)
    setattr(cls, "__abstractmethods__", frozenset())  # noqa: B010
