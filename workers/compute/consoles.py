"""The compute worker's answers to the API's questions (control_plane.service.compute_rpc).

Console output (tailed here, on the host, as Nova's compute does, so only what is
asked for travels), console connection details and diagnostics: reads of the
hypervisor, never state changes. Driver errors become RemoteErrors whose ``kind``
the API turns into Nova's faults.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from control_plane.service.compute_rpc import RemoteError, RPCServer
from drivers.base import (
    ConsoleUnavailable,
    DriverError,
    GuestNotFound,
    GuestNotRunning,
    HypervisorDriver,
)

if TYPE_CHECKING:
    from workers.compute.worker import ComputeWorker


def tail(output: str, length: int | None) -> str:
    """The last ``length`` lines (all of them for None or a negative length)."""
    if length is None or length < 0:
        return output
    if length == 0:
        return ""
    return "\n".join(output.split("\n")[-length:])


async def answer(driver: HypervisorDriver, host: str, method: str, args: dict[str, Any]
                 ) -> Any:
    server_id = str(args["server_id"])
    try:
        if method == "console_output":
            length = args.get("length")
            return tail(await driver.get_console_output(host, server_id),
                        None if length is None else int(length))
        if method == "console":
            info = await driver.get_console(host, server_id, str(args["kind"]))
            return {"host": info.host, "port": info.port,
                    "internal_access_path": info.internal_access_path}
        if method == "diagnostics":
            return await driver.get_diagnostics(host, server_id)
    except GuestNotFound as exc:
        raise RemoteError("not_found", str(exc)) from None
    except GuestNotRunning as exc:
        raise RemoteError("not_running", str(exc), power_state=exc.power_state) from None
    except ConsoleUnavailable as exc:
        raise RemoteError("unavailable", str(exc)) from None
    except DriverError as exc:
        raise RemoteError("failed", str(exc)) from None
    raise RemoteError("unknown_method", f"Unknown compute method {method}")


async def serve(worker: ComputeWorker) -> RPCServer:
    """Start answering for the worker's hosts (the caller stops the server)."""

    async def handler(host: str, method: str, args: dict[str, Any]) -> Any:
        if host not in worker.hosts:
            raise RemoteError("not_found", f"Compute host {host} could not be found.")
        return await answer(worker.driver, host, method, args)

    server = RPCServer(worker.notifier.dsn, worker.hosts, handler, worker.name)
    await server.start()
    return server
