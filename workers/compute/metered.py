"""A hypervisor driver seen through a meter: every call timed, counted and logged.

``metered(driver)`` returns a stand-in for the driver that the compute worker
calls instead (so the worker's code, and the drivers', stay as they are). Every
coroutine method called through it is counted by driver type and operation,
timed into a histogram, and logged with its duration (state changes at INFO,
reads at DEBUG); a call that raises is counted as a failure with the error's
class (``DriverError``, ``GuestNotFound``, ...) and logged at WARNING. Logs carry
the request id of the event being handled (``control_plane.observability.logs``). Everything
else (attributes, plain methods, setting ``on_event``) goes to the driver itself.
"""

from __future__ import annotations

import functools
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, cast

from control_plane.observability import metrics
from drivers.base import HypervisorDriver

log = logging.getLogger(__name__)

# calls that only read the hypervisor (logged at DEBUG: periodic checks make many)
READS = frozenset({"get_info", "list_instances", "get_console_output", "get_console",
                   "get_diagnostics"})


class MeteredDriver:
    """Delegates to ``driver``; its coroutine methods come back wrapped in the meter."""

    def __init__(self, driver: HypervisorDriver) -> None:
        object.__setattr__(self, "_driver", driver)
        object.__setattr__(self, "_wrapped", {})

    @property
    def wrapped_driver(self) -> HypervisorDriver:
        driver: HypervisorDriver = object.__getattribute__(self, "_driver")
        return driver

    def __getattr__(self, name: str) -> Any:
        driver = self.wrapped_driver
        attr = getattr(driver, name)
        if name.startswith("_") or not inspect.iscoroutinefunction(attr):
            return attr
        cache: dict[str, Any] = object.__getattribute__(self, "_wrapped")
        if name not in cache:
            cache[name] = _meter(str(driver.hypervisor_type), name, attr)
        return cache[name]

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.wrapped_driver, name, value)


def _meter(driver_type: str, operation: str, call: Callable[..., Awaitable[Any]]
           ) -> Callable[..., Awaitable[Any]]:
    level = logging.DEBUG if operation in READS else logging.INFO
    calls = metrics.DRIVER_OPERATIONS.labels(driver_type, operation)
    duration = metrics.DRIVER_DURATION.labels(driver_type, operation)

    @functools.wraps(call)
    async def metered_call(*args: Any, **kwargs: Any) -> Any:
        host = args[0] if args and isinstance(args[0], str) else "-"
        calls.inc()
        started = time.perf_counter()
        try:
            result = await call(*args, **kwargs)
        except Exception as exc:
            elapsed = time.perf_counter() - started
            duration.observe(elapsed)
            metrics.DRIVER_FAILURES.labels(driver_type, operation, type(exc).__name__).inc()
            log.warning("driver %s on %s failed after %.3fs: %s: %s", operation, host,
                        elapsed, type(exc).__name__, exc,
                        extra={"driver_operation": operation, "host": host})
            raise
        elapsed = time.perf_counter() - started
        duration.observe(elapsed)
        log.log(level, "driver %s on %s took %.3fs", operation, host, elapsed,
                extra={"driver_operation": operation, "host": host})
        return result

    return metered_call


def metered(driver: HypervisorDriver) -> HypervisorDriver:
    """``driver`` behind the meter (already metered drivers are returned as they are)."""
    if isinstance(driver, MeteredDriver):
        return driver
    return cast(HypervisorDriver, MeteredDriver(driver))
