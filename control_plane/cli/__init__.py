"""The ``control-plane`` command: serve everything, or run each part as its own process."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import uvicorn

from control_plane.bootstrap import System, open_system_retrying
from control_plane.cli import projections as projections_cli
from control_plane.cli.audit import add_parsers as add_audit_parsers
from control_plane.cli.history import add_parsers as add_history_parsers
from control_plane.observability import logs, metrics
from control_plane.store import db
from drivers.base import HostSpec, HypervisorDriver
from drivers.fake import FakeDriver

log = logging.getLogger("control_plane")


def _driver(args: argparse.Namespace, system: System, names: list[str]) -> HypervisorDriver:
    """The hypervisor driver ``--driver`` asks for, managing hosts called ``names``."""
    if args.driver == "fake":
        hosts = [HostSpec(name=n, vcpus=args.vcpus, memory_mb=args.ram, local_gb=args.disk)
                 for n in names]
        driver = FakeDriver(hosts, latency=args.latency)
        if args.fail_spawns:
            driver.fail_next_spawns(args.fail_spawns)
        return driver
    from workers.compute.qemu_catalog import qemu_driver, this_machine

    return qemu_driver(system.bus.deps.unit_of_work, [this_machine(n) for n in names],
                       state_dir=args.state_dir, image_dir=args.image_dir,
                       shutdown_timeout=args.shutdown_timeout)


@contextlib.asynccontextmanager
async def _system(args: argparse.Namespace) -> AsyncIterator[System]:
    dsn = args.database_url or db.resolve_database_url()
    system = await open_system_retrying(dsn)
    try:
        yield system
    finally:
        await system.close()


async def _until_signalled() -> None:
    done = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, done.set)
    await done.wait()


async def _serve_http(system: System, host: str, port: int) -> None:
    config = uvicorn.Config(system.app(), host=host, port=port, log_level="warning",
                            lifespan="off", access_log=False,
                            log_config=None)  # uvicorn's records go through logs.configure
    server = uvicorn.Server(config)
    log.info("compute API listening on http://%s:%d/", host, port)
    print(f"control-plane: compute API on http://{host}:{port}/v2.1", flush=True)
    await server.serve()


async def cmd_serve(args: argparse.Namespace) -> None:
    async with _system(args) as system:
        system.start_projection_runner()
        system.start_scheduler()
        names = [f"compute{i + 1}" for i in range(args.hosts)]
        system.start_compute(_driver(args, system, names), args.driver)
        await _serve_http(system, args.host, args.port)


async def cmd_api(args: argparse.Namespace) -> None:
    async with _system(args) as system:
        await _serve_http(system, args.host, args.port)


async def cmd_scheduler(args: argparse.Namespace) -> None:
    async with _system(args) as system:
        _serve_metrics(args)
        system.start_scheduler()
        await _until_signalled()


async def cmd_compute(args: argparse.Namespace) -> None:
    async with _system(args) as system:
        names = [args.name] if args.hosts == 1 and args.driver == "qemu" else \
            [f"{args.name}-{i + 1}" for i in range(args.hosts)]
        _serve_metrics(args)
        system.start_compute(_driver(args, system, names), args.name)
        await _until_signalled()


async def cmd_projections(args: argparse.Namespace) -> None:
    async with _system(args) as system:
        if args.action == "run":
            system.start_projection_runner()
            await _until_signalled()
            return
        if args.action in ("pause", "resume", "replay", "skip") and not args.names:
            raise SystemExit(f"projections {args.action} needs projection names")
        code = await projections_cli.run(system, args)
    if code:
        raise SystemExit(code)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--database-url", default=None,
                   help="Postgres URL (default: $DATABASE_URL, else an embedded Postgres)")


def _add_metrics(p: argparse.ArgumentParser) -> None:
    p.add_argument("--metrics-port", type=int, default=None,
                   help="serve this process's Prometheus metrics at "
                        "http://METRICS_HOST:PORT/metrics (default: not served)")
    p.add_argument("--metrics-host", default="127.0.0.1",
                   help="address for --metrics-port (default 127.0.0.1)")


def _serve_metrics(args: argparse.Namespace) -> None:
    if args.metrics_port is not None:
        metrics.serve(args.metrics_port, args.metrics_host)


def _add_driver(p: argparse.ArgumentParser, hosts: int) -> None:
    p.add_argument("--driver", choices=["fake", "qemu"], default="fake",
                   help="hypervisor driver: fake (default) or qemu (real guests over QMP)")
    p.add_argument("--hosts", "--fake-hosts", dest="hosts", type=int, default=hosts,
                   help="compute hosts (hypervisors) this worker runs")
    p.add_argument("--state-dir", type=Path, default=None,
                   help="qemu: where guests live (default: $CONTROL_PLANE_QEMU_STATE_DIR "
                        "or ~/.local/share/control-plane/qemu)")
    p.add_argument("--image-dir", type=Path, default=None,
                   help="qemu: image data (default: $CONTROL_PLANE_IMAGE_DIR or "
                        "~/.local/share/control-plane/images)")
    p.add_argument("--shutdown-timeout", type=float, default=60.0,
                   help="qemu: seconds a guest gets to shut down cleanly (ACPI) before "
                        "it is stopped hard")
    p.add_argument("--vcpus", type=int, default=32, help="vCPUs per fake host")
    p.add_argument("--ram", type=int, default=131072, help="RAM (MB) per fake host")
    p.add_argument("--disk", type=int, default=2000, help="disk (GB) per fake host")
    p.add_argument("--latency", type=float, default=0.05,
                   help="seconds each fake hypervisor operation takes")
    p.add_argument("--fail-spawns", type=int, default=0,
                   help="make the first N spawns fail (fault injection)")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="control-plane", description=__doc__)
    sub = ap.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="API, projections, scheduler and compute hosts")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8774)
    _add_common(serve)
    _add_driver(serve, 3)
    serve.set_defaults(func=cmd_serve)

    api = sub.add_parser("api", help="only the HTTP API")
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=8774)
    _add_common(api)
    api.set_defaults(func=cmd_api)

    sched = sub.add_parser("scheduler", help="only the scheduler")
    _add_common(sched)
    _add_metrics(sched)
    sched.set_defaults(func=cmd_scheduler)

    compute = sub.add_parser("compute", help="a compute worker and its hypervisors")
    compute.add_argument("--name", default="compute")
    _add_metrics(compute)
    _add_common(compute)
    _add_driver(compute, 1)
    compute.set_defaults(func=cmd_compute)

    projections_cli.add_parsers(sub, _add_common, cmd_projections)
    add_history_parsers(sub)
    add_audit_parsers(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logs.configure(logging.INFO)  # text, or JSON with CONTROL_PLANE_LOG_FORMAT=json
    func: Callable[[argparse.Namespace], Coroutine[Any, Any, None]] = args.func
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(func(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
