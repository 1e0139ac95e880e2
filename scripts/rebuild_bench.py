#!/usr/bin/env python
"""Projection rebuild throughput on a big log (this is not a test; it prints figures).

1. A scratch database (``cp_rebuild_<pid>_tpl``) gets a template history made through the
   real HTTP API on the fake driver: servers created and driven through
   stop/start/reboot/pause/resize/metadata/rename/delete.
2. The template's log is cloned until it holds ``--events`` events: each copy gets fresh
   ids for everything the template made (streams, ports, reservations, ...) and fresh
   request ids, with the next positions, stream versions and the hash chain computed as
   ``EventStore.append`` computes them. The result goes through ``events import`` into a
   second empty database (``cp_rebuild_<pid>``), which checks every hash and verifies
   the whole chain; nothing is projected meanwhile.
3. Every projection is rebuilt online (``ProjectionRunner.rebuild``: a new version beside
   the live one, then the swap), one after another, and each one's time and events/s are
   printed, with the whole log's replay rate across all projections.

Both databases are dropped at the end (``--keep`` keeps the big one).
Run with the project's venv:  .venv/bin/python scripts/rebuild_bench.py [--events N]
Postgres: $DATABASE_URL if set, else postgresql://postgres@127.0.0.1:5432/postgres.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import re
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import harness
import httpx
import orjson
from harness import IMAGE, ScratchDatabases

from control_plane.bootstrap import open_system
from control_plane.config import DEFAULT_QUOTAS, Settings
from control_plane.store import db, event_io, hashchain
from drivers.base import HostSpec
from drivers.fake import FakeDriver

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
REQ_RE = re.compile(r"req-[0-9a-f-]{36}")


log = harness.logger("rebuild-bench")


async def make_template(dsn: str, servers: int) -> int:
    """Drive servers through their lifecycle; returns the head before it started."""
    settings = Settings(auth_strategy="noauth", periodic_interval=3600,
                        quotas={**DEFAULT_QUOTAS, "instances": -1, "cores": -1, "ram": -1})
    system = await open_system(dsn, settings, pool_size=10)
    try:
        system.start_scheduler()
        worker = system.start_compute(
            FakeDriver([HostSpec(f"bench{i}", 256, 1 << 20, 100_000) for i in range(2)]),
            "bench")
        await harness.wait_hosts(system.pool, len(worker.hosts))
        start = await system.store.head()
        headers = {"X-Auth-Token": "alice:project-a", "X-OpenStack-Nova-API-Version": "2.14"}
        transport = httpx.ASGITransport(app=system.app())
        async with httpx.AsyncClient(transport=transport, base_url="http://b",
                                     headers=headers) as http:
            async def wait(sid: str, *statuses: str) -> None:
                for _ in range(2000):
                    r = await http.get(f"/v2.1/servers/{sid}")
                    if r.status_code == 404 and "DELETED" in statuses:
                        return
                    if r.json()["server"]["status"] in statuses:
                        return
                    await asyncio.sleep(0.01)
                raise RuntimeError(f"{sid} never reached {statuses}")

            async def act(sid: str, body: dict[str, Any], *statuses: str) -> None:
                r = await http.post(f"/v2.1/servers/{sid}/action", json=body)
                assert r.status_code in (200, 202, 204), r.text
                await wait(sid, *statuses)

            for i in range(servers):
                r = await http.post("/v2.1/servers", json={"server": {
                    "name": f"t{i}", "flavorRef": "1", "imageRef": IMAGE,
                    "metadata": {"tier": "web"}}})
                assert r.status_code == 202, r.text
                sid = r.json()["server"]["id"]
                await wait(sid, "ACTIVE")
                await http.put(f"/v2.1/servers/{sid}", json={"server": {"name": f"r{i}"}})
                await http.post(f"/v2.1/servers/{sid}/metadata",
                                json={"metadata": {"owner": "ops", "n": str(i)}})
                await act(sid, {"os-stop": None}, "SHUTOFF")
                await act(sid, {"os-start": None}, "ACTIVE")
                await act(sid, {"reboot": {"type": "SOFT"}}, "ACTIVE")
                await act(sid, {"pause": None}, "PAUSED")
                await act(sid, {"unpause": None}, "ACTIVE")
                await act(sid, {"resize": {"flavorRef": "2"}}, "VERIFY_RESIZE")
                await act(sid, {"confirmResize": None}, "ACTIVE")
                if i % 2:
                    await http.delete(f"/v2.1/servers/{sid}")
                    await wait(sid, "DELETED")
        await asyncio.sleep(0.5)
        return start
    finally:
        await system.close()


class Cloner:
    """Writes the log as export lines (control_plane.store.event_io): the template database's
    events as they are, then copies of the template, each with fresh ids for everything
    the template made (streams, ports, reservations, ...) and for its request ids,
    appended after it with the next positions, stream versions and hashes, exactly as
    ``EventStore.append`` would have chained them."""

    def __init__(self, rows: list[Any], start: int) -> None:
        self.prefix = [event_io.event_line(r) for r in rows]
        self.template = [r for r in rows if r["position"] > start]
        before = " ".join(f"{r['stream_id']} {orjson.dumps(r['data']).decode()} "
                          f"{orjson.dumps(r['metadata']).decode()}"
                          for r in rows if r["position"] <= start)
        made = " ".join(f"{r['stream_id']} {orjson.dumps(r['data']).decode()} "
                        f"{orjson.dumps(r['metadata']).decode()}" for r in self.template)
        self.made = set(UUID_RE.findall(made)) - set(UUID_RE.findall(before))
        last = rows[-1]
        self.position, self.chain = last["position"], last["chain_hash"]
        self.time = last["recorded_at"]
        self.streams: dict[str, tuple[int, bytes]] = {}
        for r in rows:
            self.streams[r["stream_id"]] = (r["stream_version"], r["stream_hash"])

    def copy(self) -> list[bytes]:
        ids = {old: str(uuid.uuid4()) for old in self.made}
        requests: dict[str, str] = {}

        def swap(text: str) -> str:
            text = UUID_RE.sub(lambda m: ids.get(m.group(0), m.group(0)), text)
            return REQ_RE.sub(lambda m: requests.setdefault(
                m.group(0), f"req-{uuid.uuid4()}"), text)

        lines = []
        for r in self.template:
            stream = ids.get(r["stream_id"], r["stream_id"])
            data = orjson.loads(swap(orjson.dumps(r["data"]).decode()))
            meta = orjson.loads(swap(orjson.dumps(r["metadata"]).decode()))
            self.position += 1
            self.time += dt.timedelta(microseconds=50)
            version, previous = self.streams.get(stream, (0, None))
            stamp = hashchain.timestamp(self.time)
            own = hashchain.stream_hash(previous, hashchain.canonical(
                self.position, stream, version + 1, r["event_type"], r["schema_version"],
                data, meta, stamp))
            self.chain = hashchain.chain_hash(self.chain, own)
            self.streams[stream] = (version + 1, own)
            lines.append(orjson.dumps({
                "position": self.position, "stream_id": stream,
                "stream_version": version + 1, "event_type": r["event_type"],
                "schema_version": r["schema_version"], "data": data, "metadata": meta,
                "recorded_at": stamp, "stream_hash": own.hex(),
                "chain_hash": self.chain.hex()}, option=orjson.OPT_APPEND_NEWLINE))
        return lines


async def fill(template_dsn: str, dsn: str, start: int, target: int) -> int:
    """Load ``dsn`` (an empty store) with the template's log cloned to ``target`` events,
    through ``events import`` (which checks every hash and verifies the whole chain)."""
    src = await db.connect(template_dsn)
    try:
        rows = await src.fetch(f"SELECT {', '.join(event_io.FIELDS)} FROM events"
                               " ORDER BY position")
    finally:
        await src.close()
    cloner = Cloner(rows, start)
    log(f"template: {len(cloner.template)} events, {len(cloner.made)} ids made by it")
    started = time.monotonic()

    async def lines() -> AsyncIterator[bytes]:
        for line in cloner.prefix:
            yield line
        while cloner.position < target:
            for line in cloner.copy():
                yield line
            if cloner.position // 100_000 != (cloner.position - len(cloner.template)) \
                    // 100_000:
                rate = cloner.position / (time.monotonic() - started)
                log(f"  {cloner.position:,} events written ({rate:,.0f}/s)")

    system = await open_system(dsn, Settings(auth_strategy="noauth"), seed=False,
                               pool_size=2)
    try:
        async with system.pool.acquire() as conn:
            report = await event_io.import_lines(conn, lines(), batch_size=5000)
    finally:
        await system.close()
    log(f"filled and verified: {cloner.position:,} events in "
        f"{time.monotonic() - started:.0f} s ({report.lines()[-1]})")
    return cloner.position


async def rebuild_all(dsn: str) -> None:
    system = await open_system(dsn, Settings(auth_strategy="noauth"), pool_size=4)
    try:
        head = await system.store.head()
        total_time = 0.0
        print(f"\nonline rebuild of each projection from 0 ({head:,} events in the log)")
        print(f"{'projection':<18} {'seconds':>9} {'events/s':>12} {'rows':>10}")
        for p in system.runner.projections:
            started = time.monotonic()
            count = await system.runner.rebuild(p.name)
            elapsed = time.monotonic() - started
            total_time += elapsed
            async with system.pool.acquire() as conn:
                rows = sum([await conn.fetchval(f"SELECT count(*) FROM {t}")
                            for t in p.tables])
            print(f"{p.name:<18} {elapsed:>9.1f} {count / elapsed:>12,.0f} {rows:>10,}")
        print(f"{'all (one by one)':<18} {total_time:>9.1f} "
              f"{head * len(system.runner.projections) / total_time:>12,.0f}"
              " (events x projections / s)")
    finally:
        await system.close()


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=1_000_000, help="events in the log")
    ap.add_argument("--template-servers", type=int, default=20)
    ap.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = ap.parse_args()
    name = f"cp_rebuild_{os.getpid()}"
    scratch = ScratchDatabases(harness.admin_url())
    dsn = await scratch.create(name)
    template = await scratch.create(f"{name}_tpl")
    try:
        log(f"scratch databases {name}, {name}_tpl")
        start = await make_template(template, args.template_servers)
        await fill(template, dsn, start, args.events)
        await rebuild_all(dsn)
    finally:
        await scratch.drop_all(keep=[name] if args.keep else [])


if __name__ == "__main__":
    asyncio.run(main())
