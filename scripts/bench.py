#!/usr/bin/env python
"""Benchmark the control plane and print the figures (this is not a test).

Three measurements, in one run, each against its own scratch database
(``cp_bench_<pid>_*``, created here and dropped at the end):

1. create -> ACTIVE latency: ``control-plane serve`` runs as a subprocess on a free
   loopback port; servers are created one after another, each timed from the POST
   to the first GET that shows it ACTIVE.
2. ``GET /v2.1/servers/detail`` throughput with many servers in the project, from a
   few concurrent HTTP clients.
3. ``EventStore.append`` rate (single-event and batched appends), beside a raw
   asyncpg INSERT baseline into a plain copy of the ``events`` table.

Run with the project's venv:  .venv/bin/python scripts/bench.py [options]
Postgres: $DATABASE_URL if set, else postgresql://postgres@127.0.0.1:5432/postgres.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import pathlib
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import harness
import httpx
import orjson
from harness import IMAGE, LOCAL_PG, HarnessError, ScratchDatabases, ServeProcess

from control_plane.store import db
from control_plane.store import schema_migrations as migrations
from control_plane.store.eventstore import EventStore, NewEvent, StreamAppend
from projections.servers import queries as server_queries

FLAVOR = "42"  # m1.nano: 1 vCPU, 128 MB, 1 GB
FLAVOR_VCPUS, FLAVOR_RAM_MB, FLAVOR_DISK_GB = 1, 128, 1

log = harness.logger("bench")


# --------------------------------------------------------------------------- helpers


def percentile(values: Sequence[float], pct: float) -> float:
    """Linear-interpolated percentile (pct in 0..100); nan for no values."""
    if not values:
        return float("nan")
    data = sorted(values)
    k = (len(data) - 1) * pct / 100.0
    lo = int(k)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


class BenchError(HarnessError):
    """The benchmark could not proceed; the message says why."""


def problems(server: ServeProcess) -> list[str]:
    """Lines of the server's log at WARNING or above, and traceback lines."""
    keys = (" WARNING ", " ERROR ", " CRITICAL ", "Traceback", "Error:", "Exception")
    return [ln for ln in server.log_text().splitlines() if any(k in ln for k in keys)]


@dataclass
class HttpIssues:
    """Unexpected HTTP outcomes, kept verbatim for the report."""

    count: int = 0
    samples: list[str] = field(default_factory=list)

    def add(self, what: str) -> None:
        self.count += 1
        if len(self.samples) < 10:
            self.samples.append(what)


def _describe(r: httpx.Response) -> str:
    return f"{r.request.method} {r.request.url.path} -> {r.status_code}: {r.text[:400]!r}"


def _client(server: ServeProcess, project: str, user: str = "bench") -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=f"{server.base_url}/v2.1",
        headers={"X-Auth-Token": f"{user}:{project}", "Accept": "application/json"},
        trust_env=False, timeout=httpx.Timeout(60.0),
        limits=httpx.Limits(max_connections=16, max_keepalive_connections=16),
    )


async def _post_servers(client: httpx.AsyncClient, name: str, count: int = 1) -> str:
    server: dict[str, Any] = {"name": name, "flavorRef": FLAVOR, "imageRef": IMAGE}
    if count > 1:
        server["min_count"] = count
        server["max_count"] = count
    r = await client.post("/servers", content=orjson.dumps({"server": server}),
                          headers={"Content-Type": "application/json"})
    if r.status_code != 202:
        raise BenchError(f"create failed: {_describe(r)}")
    sid: str = r.json()["server"]["id"]
    return sid


async def _wait_active(client: httpx.AsyncClient, server_id: str, poll: float,
                       within: float) -> int:
    """Poll GET /servers/{id} until ACTIVE; returns the number of GETs made."""
    deadline = time.monotonic() + within
    gets = 0
    while True:
        r = await client.get(f"/servers/{server_id}")
        gets += 1
        if r.status_code != 200:
            raise BenchError(f"poll failed: {_describe(r)}")
        status = r.json()["server"]["status"]
        if status == "ACTIVE":
            return gets
        if status == "ERROR":
            raise BenchError(f"server {server_id} went to ERROR: {r.text[:600]}")
        if time.monotonic() > deadline:
            raise BenchError(f"server {server_id} not ACTIVE after {within}s (status {status})")
        await asyncio.sleep(poll)


# --------------------------------------------------------------------------- phase 1


@dataclass
class LatencyResult:
    create_to_active_ms: list[float]
    post_ms: list[float]
    gets: list[int]


async def wait_hosts_and_warm_up(server: ServeProcess, hosts: int) -> None:
    """Wait until the compute worker has registered its hosts, then build one server."""
    await server.wait_hosts(hosts, 60)
    async with _client(server, "bench-warmup") as client:
        for i in range(3):
            sid = await _post_servers(client, f"warmup-{i}")
            await _wait_active(client, sid, 0.005, 30)


async def measure_latency(server: ServeProcess, count: int, poll: float) -> LatencyResult:
    result = LatencyResult([], [], [])
    async with _client(server, "bench-latency") as client:
        for i in range(count):
            t0 = time.perf_counter()
            sid = await _post_servers(client, f"lat-{i + 1}")
            t1 = time.perf_counter()
            gets = await _wait_active(client, sid, poll, 30)
            t2 = time.perf_counter()
            result.create_to_active_ms.append((t2 - t0) * 1000)
            result.post_ms.append((t1 - t0) * 1000)
            result.gets.append(gets)
    return result


# --------------------------------------------------------------------------- phase 2


@dataclass
class ListResult:
    servers: int
    build_seconds: float
    requests: int
    seconds: float
    latencies_ms: list[float]
    bad_status: HttpIssues
    wrong_count: HttpIssues
    body_bytes: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else float("nan")


@dataclass
class FleetBuild:
    seconds: float
    post_seconds: float
    # (seconds since the first POST, servers ACTIVE), sampled while waiting
    curve: list[tuple[float, int]]

    def time_to(self, count: int) -> float:
        return next((t for t, n in self.curve if n >= count), float("nan"))


async def build_fleet(server: ServeProcess, dsn: str, total: int, batch: int) -> FleetBuild:
    """Create ``total`` servers in max_count batches; wait until all are ACTIVE.

    Progress is read from the projection table directly (one cheap count), so the
    wait does not itself load the API server.
    """
    project = "bench-list"
    t0 = time.perf_counter()
    async with _client(server, project) as client:
        made = 0
        while made < total:
            n = min(batch, total - made)
            await _post_servers(client, f"fleet-{made // batch + 1}", n)
            made += n
        posted = time.perf_counter() - t0
        log(f"  {total} servers requested in {posted:.2f}s; waiting for ACTIVE")
        deadline = time.monotonic() + max(120.0, total * 0.2)
        last_report = time.monotonic()
        curve: list[tuple[float, int]] = []
        conn = await db.connect(dsn)
        try:
            while True:
                server.check_alive()
                counts = await server_queries.status_counts(conn, project)
                active = counts.get("ACTIVE", 0)
                curve.append((time.perf_counter() - t0, active))
                if active >= total:
                    break
                if counts.get("ERROR"):
                    r = await client.get("/servers/detail",
                                         params={"status": "ERROR", "limit": 1})
                    raise BenchError(f"{counts['ERROR']} fleet servers went to ERROR; "
                                     f"first: {r.text[:800]}")
                if time.monotonic() > deadline:
                    raise BenchError(f"only {active}/{total} servers ACTIVE before the "
                                     f"deadline (by status: {counts})")
                if time.monotonic() - last_report > 5:
                    log(f"  {active}/{total} ACTIVE")
                    last_report = time.monotonic()
                await asyncio.sleep(0.1)
        finally:
            await conn.close()
    return FleetBuild(time.perf_counter() - t0, posted, curve)


async def hammer_detail(server: ServeProcess, expected: int, clients: int,
                        duration: float) -> ListResult:
    bad_status, wrong_count = HttpIssues(), HttpIssues()
    latencies: list[float] = []
    body_bytes = 0

    async def one(client: httpx.AsyncClient) -> float:
        nonlocal body_bytes
        t0 = time.perf_counter()
        r = await client.get("/servers/detail")
        elapsed = time.perf_counter() - t0
        if r.status_code != 200:
            bad_status.add(_describe(r))
            return elapsed
        body_bytes = len(r.content)
        n = len(orjson.loads(r.content)["servers"])
        if n != expected:
            wrong_count.add(f"GET /servers/detail returned {n} servers, expected {expected}")
        return elapsed

    async def worker(stop_at: float) -> int:
        done = 0
        async with _client(server, "bench-list") as client:
            await one(client)  # warm the connection; not counted
            while time.perf_counter() < stop_at:
                latencies.append(await one(client) * 1000)
                done += 1
        return done

    # All workers start together; the clock runs from their start to the last finish.
    t0 = time.perf_counter()
    counts = await asyncio.gather(*(worker(t0 + duration) for _ in range(clients)))
    seconds = time.perf_counter() - t0
    return ListResult(expected, 0.0, sum(counts), seconds, latencies, bad_status, wrong_count,
                      body_bytes)


# --------------------------------------------------------------------------- phase 3


@dataclass
class AppendResult:
    label: str
    events: int
    seconds: float
    op_latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else float("nan")


def _payload(i: int) -> dict[str, Any]:
    """Roughly the size and shape of a ServerCreated-ish event body."""
    return {"id": str(uuid.UUID(int=i)), "name": f"bench-{i}", "flavor": {"id": FLAVOR,
            "vcpus": FLAVOR_VCPUS, "ram": FLAVOR_RAM_MB, "disk": FLAVOR_DISK_GB},
            "image_ref": IMAGE, "project_id": "bench", "user_id": "bench",
            "metadata": {}, "security_groups": ["default"]}


META: dict[str, Any] = {"user_id": "bench", "project_id": "bench", "request_id": "req-bench"}


async def _run_concurrently(jobs: int, concurrency: int,
                            job: Callable[[int], Awaitable[None]]) -> tuple[float, list[float]]:
    """Run job(0..jobs-1) from ``concurrency`` tasks; returns (seconds, per-job ms)."""
    counter: Iterator[int] = itertools.count()
    latencies: list[float] = []

    async def worker() -> None:
        while (i := next(counter)) < jobs:
            t0 = time.perf_counter()
            await job(i)
            latencies.append((time.perf_counter() - t0) * 1000)

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - t0, latencies


@contextlib.asynccontextmanager
async def _pool(dsn: str, size: int) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(dsn, min_size=size, max_size=size)
    try:
        yield pool
    finally:
        await pool.close()


async def measure_appends(dsn: str, events: int, concurrency: int, batch: int
                          ) -> list[AppendResult]:
    results: list[AppendResult] = []
    async with _pool(dsn, concurrency) as pool:
        async with pool.acquire() as conn:
            await migrations.migrate(conn)
            await conn.execute("CREATE TABLE raw_events (LIKE events INCLUDING ALL)")
        store = EventStore(pool)  # no inline projections
        run = itertools.count()

        async def warm_up() -> None:
            # A few appends and inserts first, so connection setup and plan caching
            # don't land in the first timed figure.
            tag = next(run)
            for i in range(20):
                await store.append([StreamAppend(f"warm-{tag}-{i}", 0,
                                                 [NewEvent("BenchWarm", _payload(i))])], META)

        # (a) EventStore.append: one event per append, each to a new stream.
        await warm_up()

        async def single(i: int) -> None:
            await store.append(
                [StreamAppend(f"single-{i}", 0, [NewEvent("BenchEvent", _payload(i))])], META)

        secs, lat = await _run_concurrently(events, concurrency, single)
        results.append(AppendResult("EventStore.append, 1 event/append", events, secs, lat))

        # (a') EventStore.append: ``batch`` events per append (one new stream each).
        appends = max(1, events // batch)

        async def batched(i: int) -> None:
            evs = [NewEvent("BenchEvent", _payload(i * batch + k)) for k in range(batch)]
            await store.append([StreamAppend(f"batch-{i}", 0, evs)], META)

        secs, lat = await _run_concurrently(appends, concurrency, batched)
        results.append(AppendResult(f"EventStore.append, {batch} events/append",
                                    appends * batch, secs, lat))

        # (b) Baseline: raw INSERT into a plain copy of the table (same columns,
        # defaults and indexes; no head-row lock, no version check, no NOTIFY),
        # one row per (autocommit) transaction. Positions are assigned client-side.
        insert = ("INSERT INTO raw_events (position, stream_id, stream_version, event_type,"
                  " schema_version, data, metadata) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        async with pool.acquire() as conn:
            for i in range(20):
                await conn.execute(insert, -1 - i, f"warm-{i}", 1, "BenchWarm", 1,
                                   _payload(i), META)

        async def raw(i: int) -> None:
            async with pool.acquire() as conn:
                await conn.execute(insert, i + 1, f"single-{i}", 1, "BenchEvent", 1,
                                   _payload(i), META)

        secs, lat = await _run_concurrently(events, concurrency, raw)
        results.append(AppendResult("raw INSERT, 1 row/txn", events, secs, lat))

        # (b') Baseline, batched: ``batch`` rows per INSERT ... unnest (one txn each).
        insert_many = (
            "INSERT INTO raw_events (position, stream_id, stream_version, event_type,"
            " schema_version, data, metadata) SELECT * FROM unnest($1::bigint[], $2::text[],"
            " $3::int[], $4::text[], $5::int[], $6::jsonb[], $7::jsonb[])")

        async def raw_batched(i: int) -> None:
            first = events + 1 + i * batch
            rows = range(batch)
            async with pool.acquire() as conn:
                await conn.execute(
                    insert_many, [first + k for k in rows], [f"batch-{i}"] * batch,
                    [k + 1 for k in rows], ["BenchEvent"] * batch, [1] * batch,
                    [_payload(i * batch + k) for k in rows], [META] * batch)

        secs, lat = await _run_concurrently(appends, concurrency, raw_batched)
        results.append(AppendResult(f"raw INSERT, {batch} rows/txn", appends * batch, secs,
                                    lat))

        async with pool.acquire() as conn:
            stored = await conn.fetchval("SELECT count(*) FROM events WHERE event_type ="
                                         " 'BenchEvent'")
            raw_stored = await conn.fetchval("SELECT count(*) FROM raw_events WHERE"
                                             " event_type = 'BenchEvent'")
        want = events + appends * batch
        if stored != want or raw_stored != want:
            raise BenchError(f"row counts off: events={stored} raw={raw_stored} want={want}")
    return results


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--servers-latency", type=int, default=20,
                    help="servers created one at a time for the create->ACTIVE latency")
    ap.add_argument("--servers-list", type=int, default=1000,
                    help="servers in the project while GET /servers/detail is hammered")
    ap.add_argument("--create-batch", type=int, default=100,
                    help="max_count per POST when building the list fleet")
    ap.add_argument("--duration", type=float, default=10.0,
                    help="seconds to hammer GET /servers/detail")
    ap.add_argument("--clients", type=int, default=4,
                    help="concurrent HTTP clients for GET /servers/detail")
    ap.add_argument("--poll", type=float, default=0.005,
                    help="seconds between GETs while waiting for ACTIVE")
    ap.add_argument("--latency", type=float, default=0.0,
                    help="fake hypervisor latency passed to control-plane serve (seconds)")
    ap.add_argument("--fake-hosts", type=int, default=3, help="fake compute hosts")
    ap.add_argument("--events", type=int, default=5000, help="N: events per append test")
    ap.add_argument("--concurrency", type=int, default=8, help="C: concurrent appenders")
    ap.add_argument("--batch", type=int, default=100, help="events per batched append")
    ap.add_argument("--skip-server", action="store_true", help="only the event-store part")
    ap.add_argument("--skip-events", action="store_true", help="only the HTTP parts")
    ap.add_argument("--database-url", default=None,
                    help=f"Postgres admin URL (default: $DATABASE_URL, else {LOCAL_PG})")
    args = ap.parse_args(argv)
    for name in ("servers_latency", "servers_list", "create_batch", "clients", "events",
                 "concurrency", "batch", "fake_hosts"):
        if getattr(args, name) < 1:
            ap.error(f"--{name.replace('_', '-')} must be >= 1")
    return args


def _serve_flags(args: argparse.Namespace) -> list[str]:
    """The options of control-plane serve (beside host, port and database)."""
    total = args.servers_latency + args.servers_list + 3  # + warm-up servers
    # Every host can hold the whole fleet, so placement never fails for capacity.
    return ["--latency", f"{args.latency:g}", "--fake-hosts", str(args.fake_hosts),
            "--vcpus", str(max(32, total * FLAVOR_VCPUS)),
            "--ram", str(max(131072, total * FLAVOR_RAM_MB)),
            "--disk", str(max(2000, total * FLAVOR_DISK_GB))]


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)

    def add(self, line: str = "") -> None:
        self.lines.append(line)


async def run_server_phases(args: argparse.Namespace, scratch: ScratchDatabases,
                            report: Report, workdir: pathlib.Path) -> None:
    dsn = await scratch.create(f"cp_bench_{os.getpid()}_api")
    flags = _serve_flags(args)
    server = ServeProcess(dsn, workdir / "server.log", flags, env={
        "CONTROL_PLANE_AUTH_STRATEGY": "noauth",  # the benchmark measures compute, not auth
        "CONTROL_PLANE_QUOTA_INSTANCES": "-1",
        "CONTROL_PLANE_QUOTA_CORES": "-1",
        "CONTROL_PLANE_QUOTA_RAM": "-1",
        "CONTROL_PLANE_MAX_LIMIT": str(max(1000, args.servers_list)),
    })
    log(f"starting control-plane serve on {server.base_url} ({' '.join(flags)})")
    server.start()
    try:
        t0 = time.perf_counter()
        await server.wait_ready(60, path="/")
        await wait_hosts_and_warm_up(server, args.fake_hosts)
        log(f"server ready and warmed up in {time.perf_counter() - t0:.1f}s")

        log(f"phase 1: {args.servers_latency} servers, create -> ACTIVE, one at a time")
        lat = await measure_latency(server, args.servers_latency, args.poll)
        ms = lat.create_to_active_ms
        report.add(f"server: control-plane serve {' '.join(flags)}, quotas unlimited, "
                   f"flavor m1.nano, poll every {args.poll * 1000:g} ms")
        report.add(f"[1] create->ACTIVE, {len(ms)} servers sequential:  "
                   f"p50 {percentile(ms, 50):.1f} ms  p95 {percentile(ms, 95):.1f} ms  "
                   f"max {max(ms):.1f} ms")
        report.add(f"    (POST alone: p50 {percentile(lat.post_ms, 50):.1f} ms, "
                   f"p95 {percentile(lat.post_ms, 95):.1f} ms; "
                   f"GETs per server: median {percentile(lat.gets, 50):.0f})")

        log(f"phase 2: building {args.servers_list} servers "
            f"({args.create_batch} per POST)")
        fleet = await build_fleet(server, dsn, args.servers_list, args.create_batch)
        log(f"  all ACTIVE after {fleet.seconds:.2f}s; hammering GET /servers/detail with "
            f"{args.clients} clients for {args.duration:g}s")
        res = await hammer_detail(server, args.servers_list, args.clients, args.duration)
        n = args.servers_list
        half = fleet.time_to(n // 2)
        report.add(f"[2] fleet of {n} built (POST x max_count={args.create_batch}, POSTs took "
                   f"{fleet.post_seconds:.2f} s) and all ACTIVE in {fleet.seconds:.2f} s "
                   f"({n / fleet.seconds:.0f} servers/s overall)")
        report.add(f"    first {n // 2} ACTIVE at {half:.1f} s, last {n - n // 2} took "
                   f"{fleet.seconds - half:.1f} s more")
        report.add(f"    GET /servers/detail ({args.servers_list} servers, "
                   f"{res.body_bytes / 1e6:.2f} MB), {args.clients} clients, "
                   f"{res.seconds:.1f} s: {res.requests} requests = {res.rps:.1f} req/s  "
                   f"p50 {percentile(res.latencies_ms, 50):.0f} ms  "
                   f"p95 {percentile(res.latencies_ms, 95):.0f} ms  "
                   f"max {max(res.latencies_ms, default=float('nan')):.0f} ms")
        report.add(f"    non-200 responses: {res.bad_status.count}; wrong server count: "
                   f"{res.wrong_count.count}")
        for sample in res.bad_status.samples + res.wrong_count.samples:
            report.add(f"      ! {sample}")
    finally:
        server.stop(((signal.SIGTERM, 15), (signal.SIGKILL, 10)), log)
        found = problems(server)
        report.add(f"    server log: {len(found)} warning/error lines"
                   + (" - first ones:" if found else ""))
        for line in found[:8]:
            report.add(f"      ! {line[:300]}")


async def run_event_phase(args: argparse.Namespace, scratch: ScratchDatabases,
                          report: Report) -> None:
    dsn = await scratch.create(f"cp_bench_{os.getpid()}_events")
    conn = await asyncpg.connect(dsn)
    try:
        settings = {k: str(await conn.fetchval(f"SHOW {k}")).split()[0]
                    for k in ("server_version", "synchronous_commit", "fsync")}
    finally:
        await conn.close()
    log(f"phase 3: {args.events} events from {args.concurrency} tasks "
        f"(Postgres {settings['server_version']}, synchronous_commit="
        f"{settings['synchronous_commit']}, fsync={settings['fsync']})")
    results = await measure_appends(dsn, args.events, args.concurrency, args.batch)
    single, batched, raw, raw_batched = results
    report.add(f"[3] appends, N={args.events} events, C={args.concurrency} concurrent tasks, "
               f"pool of {args.concurrency} (Postgres {settings['server_version']}, "
               f"synchronous_commit={settings['synchronous_commit']})")
    for r in results:
        report.add(f"    {r.label:<40} {r.rate:>9.0f} events/s  "
                   f"({r.events} in {r.seconds:.2f} s; per op p50 "
                   f"{percentile(r.op_latencies_ms, 50):.2f} ms, "
                   f"p95 {percentile(r.op_latencies_ms, 95):.2f} ms)")
    report.add(f"    ratio EventStore/raw, single:  {single.rate / raw.rate:.2f}x "
               f"(raw is {raw.rate / single.rate:.2f}x faster)")
    report.add(f"    ratio EventStore/raw, batched: {batched.rate / raw_batched.rate:.2f}x "
               f"(raw is {raw_batched.rate / batched.rate:.2f}x faster)")


async def amain(args: argparse.Namespace) -> int:
    scratch = ScratchDatabases(harness.admin_url(args.database_url), log)
    report = Report()
    failed: str | None = None
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cp_bench_") as tmp:
        try:
            if not args.skip_server:
                await run_server_phases(args, scratch, report, pathlib.Path(tmp))
            if not args.skip_events:
                await run_event_phase(args, scratch, report)
        except HarnessError as exc:
            failed = str(exc)
        finally:
            await scratch.drop_all()
    total = time.perf_counter() - started
    print()
    print("=" * 30 + " control-plane benchmark summary " + "=" * 30)
    for line in report.lines:
        print(line)
    if failed:
        print(f"FAILED: {failed}")
    print(f"(whole run {total:.0f} s; python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs)")
    print("=" * 93)
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return asyncio.run(amain(args))


if __name__ == "__main__":
    sys.exit(main())
