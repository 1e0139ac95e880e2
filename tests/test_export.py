"""Export as JSON Lines and import into an empty store: same events, chain and views."""

from __future__ import annotations

import datetime as dt
import pathlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import orjson
import pytest

from control_plane.bootstrap import System
from control_plane.ops import audit
from control_plane.store import db, event_io
from projections import all_projections
from tests.conftest import Api, scratch_database
from tests.test_audit import _cli, build_history


@pytest.fixture
async def empty_dsn(server_url: str) -> AsyncIterator[str]:
    """A database with nothing in it (not even the seeded flavors)."""
    async with scratch_database(server_url) as dsn:
        yield dsn


@pytest.fixture
async def history(system: System, api: Api) -> System:
    await build_history(system, api)
    return system


async def _export(system: System, where: event_io.ExportFilter | None = None
                  ) -> list[dict[str, Any]]:
    async with system.pool.acquire() as conn:
        return [orjson.loads(line) async for line in event_io.export_lines(conn, where)]


def _sorted(records: list[asyncpg.Record]) -> list[bytes]:
    return sorted(orjson.dumps(list(r.values()), default=str) for r in records)


async def _tables(conn: asyncpg.Connection) -> dict[str, list[bytes]]:
    return {table: _sorted(await conn.fetch(f"SELECT * FROM {table}"))
            for p in all_projections() for table in p.tables}


async def test_export_import_round_trip(history: System, empty_dsn: str,
                                        tmp_path: pathlib.Path) -> None:
    file = tmp_path / "events.jsonl"
    assert await _cli("events", "export", "--database-url", history.dsn, "-o", str(file)) == 0
    lines = file.read_bytes().splitlines()
    head = await history.store.head()
    assert len(lines) == head
    first = orjson.loads(lines[0])
    assert list(first) == list(event_io.FIELDS)
    assert first["position"] == 1 and dt.datetime.fromisoformat(first["recorded_at"]).tzinfo
    assert len(bytes.fromhex(first["chain_hash"])) == 32

    assert await _cli("events", "import", str(file), "--database-url", empty_dsn) == 0

    source = await db.connect(history.dsn)
    target = await db.connect(empty_dsn)
    try:
        columns = "SELECT * FROM events ORDER BY position"
        assert [tuple(r.values()) for r in await target.fetch(columns)] == [
            tuple(r.values()) for r in await source.fetch(columns)]
        assert tuple(await target.fetchrow("SELECT * FROM event_head")) == tuple(
            await source.fetchrow("SELECT * FROM event_head"))
        imported = await audit.verify(target)
        assert imported.intact and imported.head_hash == (await audit.verify(source)).head_hash
        source_tables, target_tables = await _tables(source), await _tables(target)
        assert source_tables.keys() == target_tables.keys()
        for table, expected in source_tables.items():
            assert target_tables[table] == expected, table
        assert source_tables["v_servers"] and source_tables["v_instance_actions"]
        # the imported store refuses a second import, and changes nothing
        assert await _cli("events", "import", str(file), "--database-url", empty_dsn) == 1
        assert await target.fetchval("SELECT count(*) FROM events") == head
    finally:
        await source.close()
        await target.close()


async def test_import_refuses_filtered_or_tampered_files(
        history: System, empty_dsn: str, tmp_path: pathlib.Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    events = await _export(history)
    filtered = tmp_path / "filtered.jsonl"
    filtered.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events
                                  if e["event_type"] != "ServerSpawned"))
    assert await _cli("events", "import", str(filtered), "--database-url", empty_dsn) == 1
    assert "only full exports" in capsys.readouterr().err

    tampered = tmp_path / "tampered.jsonl"
    events[len(events) // 2]["data"]["name"] = "evil"
    tampered.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    assert await _cli("events", "import", str(tampered), "--database-url", empty_dsn) == 1
    err = capsys.readouterr().err
    assert f"CHANGED    position {len(events) // 2 + 1} " in err

    forged = tmp_path / "forged.jsonl"
    events[len(events) // 2]["chain_hash"] = "00" * 32
    forged.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    assert await _cli("events", "import", str(forged), "--database-url", empty_dsn) == 1
    assert "does not follow the previous event's chain hash" in capsys.readouterr().err

    conn = await asyncpg.connect(empty_dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM events") == 0
        assert await conn.fetchval("SELECT position FROM event_head") == 0
    finally:
        await conn.close()


async def test_import_into_a_store_with_events_is_refused(
        history: System, tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "events.jsonl"
    assert await _cli("events", "export", "--database-url", history.dsn, "-o", str(file)) == 0
    assert await _cli("events", "import", str(file), "--database-url", history.dsn) == 1
    assert "not empty" in capsys.readouterr().err


async def test_export_filters(history: System, tmp_path: pathlib.Path) -> None:
    everything = await _export(history)
    server = next(e["stream_id"] for e in everything if e["event_type"] == "ServerCreated")
    flavor = next(e["stream_id"] for e in everything if e["event_type"] == "FlavorCreated")

    by_stream = await _export(history, event_io.ExportFilter(streams=[server, flavor]))
    assert by_stream == [e for e in everything if e["stream_id"] in (server, flavor)]
    assert {e["stream_id"] for e in by_stream} == {server, flavor}

    by_type = await _export(history, event_io.ExportFilter(types=["ServerCreated",
                                                                   "ServerDeleted"]))
    assert by_type == [e for e in everything
                       if e["event_type"] in ("ServerCreated", "ServerDeleted")]
    assert len(by_type) >= 4

    times = sorted({e["recorded_at"] for e in everything})
    since = dt.datetime.fromisoformat(times[len(times) // 3])
    until = dt.datetime.fromisoformat(times[2 * len(times) // 3])
    window = await _export(history, event_io.ExportFilter(since=since, until=until))
    assert window == [e for e in everything
                      if since <= dt.datetime.fromisoformat(e["recorded_at"]) < until]
    assert 0 < len(window) < len(everything)

    # the same through the command line, filters combined, to a file
    file = tmp_path / "servers.jsonl"
    assert await _cli("events", "export", "--database-url", history.dsn, "-o", str(file),
                      "--stream", server, "--type", "ServerCreated", "--type", "ServerSpawned",
                      "--since", since.isoformat()) == 0
    got = [orjson.loads(line) for line in file.read_bytes().splitlines()]
    assert got == [e for e in everything if e["stream_id"] == server
                   and e["event_type"] in ("ServerCreated", "ServerSpawned")
                   and dt.datetime.fromisoformat(e["recorded_at"]) >= since]


async def test_an_export_cut_at_a_time_is_a_prefix_and_imports(
        history: System, empty_dsn: str, tmp_path: pathlib.Path) -> None:
    everything = await _export(history)
    until = dt.datetime.fromisoformat(everything[len(everything) // 2]["recorded_at"])
    file = tmp_path / "prefix.jsonl"
    assert await _cli("events", "export", "--database-url", history.dsn, "-o", str(file),
                      "--until", until.isoformat()) == 0
    assert await _cli("events", "import", str(file), "--database-url", empty_dsn) == 0
    target = await db.connect(empty_dsn)
    try:
        report = await audit.verify(target)
        prefix = [e for e in everything if dt.datetime.fromisoformat(e["recorded_at"]) < until]
        assert report.intact and report.events == len(prefix)
        assert report.head_hash == bytes.fromhex(prefix[-1]["chain_hash"])
    finally:
        await target.close()

