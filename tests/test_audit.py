"""Tamper evidence: real history through the API, tampered with in SQL, caught by verify."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

import asyncpg
import pytest

from control_plane import cli
from control_plane.bootstrap import System
from control_plane.ops import audit
from control_plane.ops.audit import AuditReport
from control_plane.store import db, hashchain
from control_plane.store import schema_migrations as migrations
from control_plane.store.eventstore import EventStore, NewEvent, StreamAppend
from tests.conftest import Api, root_logging_kept, scratch_database


async def build_history(system: System, api: Api) -> None:
    """Servers created, stopped, started, rebooted and deleted through the HTTP API; then
    the followers stop, so nothing appends while a test tampers with the log."""
    ids = []
    for name in ("a1", "a2", "a3"):
        ids.append((await api.create_server(name))["id"])
    for sid in ids:
        await api.wait_status(sid, "ACTIVE")
    assert (await api.post(f"/servers/{ids[0]}/action", {"os-stop": None})).status_code == 202
    await api.wait_status(ids[0], "SHUTOFF")
    assert (await api.post(f"/servers/{ids[0]}/action", {"os-start": None})).status_code == 202
    await api.wait_status(ids[0], "ACTIVE")
    r = await api.post(f"/servers/{ids[1]}/action", {"reboot": {"type": "HARD"}})
    assert r.status_code == 202
    await api.wait_status(ids[1], "ACTIVE")
    assert (await api.delete(f"/servers/{ids[2]}")).status_code == 204
    await api.wait_status(ids[2], "DELETED")
    await system.stop_tasks()


@dataclass
class Row:
    position: int
    stream_id: str
    stream_version: int
    last_of_stream: bool


async def rows(system: System) -> list[Row]:
    async with system.pool.acquire() as conn:
        records = await conn.fetch(
            "SELECT position, stream_id, stream_version, stream_version = max(stream_version)"
            " OVER (PARTITION BY stream_id) AS last FROM events ORDER BY position")
    return [Row(r["position"], r["stream_id"], r["stream_version"], r["last"]) for r in records]


def kinds(report: AuditReport) -> set[tuple[str, int | None]]:
    return {(f.kind, f.position) for f in report.findings}


async def sql(system: System, query: str, *args: object) -> None:
    async with system.pool.acquire() as conn:
        await conn.execute(query, *args)


async def middle(system: System) -> Row:
    """An event in the middle of the log and of a long stream (it has a successor)."""
    all_rows = await rows(system)
    head = all_rows[-1].position
    streams: dict[str, int] = {}
    for r in all_rows:
        streams[r.stream_id] = streams.get(r.stream_id, 0) + 1
    return next(r for r in all_rows if r.position > head // 2 and not r.last_of_stream
                and r.stream_version > 1 and streams[r.stream_id] >= 4)


@pytest.fixture
async def history(system: System, api: Api) -> System:
    await build_history(system, api)
    return system


async def test_untampered_log_verifies(history: System) -> None:
    report = await audit.verify(history.pool)
    head = await history.store.head()
    assert report.intact, report.lines()
    assert report.events == head and report.head_position == head > 20
    assert report.unchained == 0 and report.chain_start == 1
    assert f"{head} events, chain intact" in report.summary()
    async with history.pool.acquire() as conn:
        assert report.head_hash == await conn.fetchval(
            "SELECT chain_hash FROM events WHERE position = $1", head)


async def test_changed_data_is_found(history: System) -> None:
    target = await middle(history)
    await sql(history, "UPDATE events SET data = data || '{\"flavor_id\": \"x\"}'"
              " WHERE position = $1", target.position)
    report = await audit.verify(history.pool)
    assert kinds(report) == {("changed", target.position)}
    finding = report.findings[0]
    assert finding.stream_id == target.stream_id
    assert finding.stream_version == target.stream_version and finding.event_type


async def test_changed_metadata_is_found(history: System) -> None:
    target = await middle(history)
    await sql(history, "UPDATE events SET metadata = metadata || '{\"user_id\": \"mallory\"}'"
              " WHERE position = $1", target.position)
    assert kinds(await audit.verify(history.pool)) == {("changed", target.position)}


async def test_changed_time_and_type_are_found(history: System) -> None:
    target = await middle(history)
    await sql(history, "UPDATE events SET recorded_at = recorded_at - interval '1 second'"
              " WHERE position = $1", target.position)
    await sql(history, "UPDATE events SET schema_version = 7 WHERE position = $1",
              target.position + 1)
    assert kinds(await audit.verify(history.pool)) == {
        ("changed", target.position), ("changed", target.position + 1)}


async def test_deleted_event_in_the_middle_is_found(history: System) -> None:
    target = await middle(history)
    await sql(history, "DELETE FROM events WHERE position = $1", target.position)
    report = await audit.verify(history.pool)
    assert kinds(report) == {("removed", target.position), ("removed", None)}
    stream_gap = next(f for f in report.findings if f.position is None)
    assert (stream_gap.stream_id, stream_gap.stream_version) == (
        target.stream_id, target.stream_version)


async def test_deleted_last_event_of_a_stream_is_found(history: System) -> None:
    all_rows = await rows(history)
    target = next(r for r in reversed(all_rows[:-3]) if r.last_of_stream)
    await sql(history, "DELETE FROM events WHERE position = $1", target.position)
    report = await audit.verify(history.pool)
    assert kinds(report) == {("removed", target.position)}
    # the very last event too: the head says it existed
    last = all_rows[-1].position
    await sql(history, "DELETE FROM events WHERE position = $1", last)
    report = await audit.verify(history.pool)
    assert kinds(report) == {("removed", target.position), ("removed", last)}
    assert "at the end of the log" in report.findings[-1].detail


async def test_inserted_event_is_found(history: System) -> None:
    """A forged event with hashes computed as an append would, but behind the head's back."""
    async with history.pool.acquire() as conn:
        last = await conn.fetchrow("SELECT * FROM events ORDER BY position DESC LIMIT 1")
        prev = await conn.fetchrow(
            "SELECT stream_version, stream_hash FROM events WHERE stream_id = $1"
            " ORDER BY stream_version DESC LIMIT 1", last["stream_id"])
        position, version = last["position"] + 1, prev["stream_version"] + 1
        stamp = last["recorded_at"]
        data = {"note": "forged"}
        s = hashchain.stream_hash(prev["stream_hash"], hashchain.canonical(
            position, last["stream_id"], version, "ServerLocked", 1, data, {},
            hashchain.timestamp(stamp)))
        c = hashchain.chain_hash(last["chain_hash"], s)
        await conn.execute(
            "INSERT INTO events (position, stream_id, stream_version, event_type, data,"
            " metadata, recorded_at, stream_hash, chain_hash)"
            " VALUES ($1, $2, $3, 'ServerLocked', $4, '{}', $5, $6, $7)",
            position, last["stream_id"], version, data, stamp, s, c)
    report = await audit.verify(history.pool)
    assert kinds(report) == {("inserted", position)}
    assert report.findings[0].detail == "beyond the head of the log"


async def test_inserted_event_in_the_middle_is_found(history: System) -> None:
    """Room made by moving the tail up one position (hashes kept), a forged event put in."""
    target = await middle(history)
    async with history.pool.acquire() as conn, conn.transaction():
        await conn.execute("UPDATE events SET position = -position - 1 WHERE position >= $1",
                           target.position)
        await conn.execute("UPDATE events SET position = -position WHERE position < 0")
        await conn.execute(
            "INSERT INTO events (position, stream_id, stream_version, event_type, data,"
            " stream_hash, chain_hash) VALUES ($1, 'forged', 1, 'ServerLocked', '{}',"
            " $2, $2)", target.position, b"\x01" * 32)
        await conn.execute("UPDATE event_head SET position = position + 1")
    report = await audit.verify(history.pool)
    assert ("inserted", target.position) in kinds(report)
    # every event after it moved: each one is found at its new place
    moved = {p for k, p in kinds(report) if k == "reordered"}
    head = await history.store.head()
    assert moved == set(range(target.position + 1, head + 1))


async def test_swapped_events_are_found(history: System) -> None:
    all_rows = await rows(history)
    a = all_rows[len(all_rows) // 3]
    b = next(r for r in all_rows[len(all_rows) // 2:] if r.stream_id != a.stream_id)
    async with history.pool.acquire() as conn, conn.transaction():
        await conn.execute("UPDATE events SET position = -position WHERE position = any($1)",
                           [a.position, b.position])
        await conn.execute(
            "UPDATE events SET position = CASE WHEN position = $1::bigint THEN $2::bigint"
            " ELSE $3::bigint END WHERE position < 0", -a.position, b.position, a.position)
    report = await audit.verify(history.pool)
    assert kinds(report) == {("reordered", a.position), ("reordered", b.position)}
    by_position = {f.position: f for f in report.findings}
    assert by_position[a.position].detail == f"recorded at position {b.position}, now here"
    assert by_position[a.position].stream_id == b.stream_id


async def test_swapped_versions_of_one_stream_are_found(history: System) -> None:
    target = await middle(history)
    after = next(r for r in await rows(history) if r.stream_id == target.stream_id
                 and r.stream_version == target.stream_version + 1)
    async with history.pool.acquire() as conn:
        await conn.execute(
            "UPDATE events SET stream_version = -stream_version"
            " WHERE stream_id = $1 AND stream_version IN ($2, $2 + 1)",
            target.stream_id, target.stream_version)
        await conn.execute(
            "UPDATE events SET stream_version = CASE WHEN stream_version = -$2::int"
            " THEN $2::int + 1 ELSE $2::int END WHERE stream_id = $1 AND stream_version < 0",
            target.stream_id, target.stream_version)
    report = await audit.verify(history.pool)
    # the earlier position now holds the later version; the other one's version changed
    assert kinds(report) == {("reordered", target.position), ("changed", after.position)}


async def _recompute_stream_hash(conn: asyncpg.Connection, position: int) -> bytes:
    row = await conn.fetchrow(
        "SELECT e.*, p.stream_hash AS prev_hash FROM events e LEFT JOIN events p"
        " ON p.stream_id = e.stream_id AND p.stream_version = e.stream_version - 1"
        " WHERE e.position = $1", position)
    s = hashchain.stream_hash(row["prev_hash"], hashchain.canonical(
        position, row["stream_id"], row["stream_version"], row["event_type"],
        row["schema_version"], row["data"], row["metadata"],
        hashchain.timestamp(row["recorded_at"])))
    await conn.execute("UPDATE events SET stream_hash = $2 WHERE position = $1", position, s)
    return s


@pytest.mark.parametrize("with_chain_hash", [False, True])
async def test_recomputed_hash_is_found(history: System, with_chain_hash: bool) -> None:
    """Data changed and the event's hash recomputed to match (locally consistent), and
    even its chain hash: the chain still breaks at the next event, and the stream's next
    event no longer follows it."""
    target = await middle(history)
    async with history.pool.acquire() as conn:
        await conn.execute("UPDATE events SET data = data || '{\"name\": \"evil\"}'"
                           " WHERE position = $1", target.position)
        s = await _recompute_stream_hash(conn, target.position)
        if with_chain_hash:
            prev = await conn.fetchval("SELECT chain_hash FROM events WHERE position = $1",
                                       target.position - 1)
            await conn.execute("UPDATE events SET chain_hash = $2 WHERE position = $1",
                               target.position, hashchain.chain_hash(prev, s))
    report = await audit.verify(history.pool)
    assert kinds(report) == {("rewritten", target.position)}
    assert "recomputed" in report.findings[0].detail


async def test_rewritten_chain_is_caught_by_the_head_and_an_anchor(history: System) -> None:
    """Every hash after an edit recomputed (all but the head): the head hash tells; with the
    head rewritten too, only a head hash recorded elsewhere (an anchor) can tell."""
    before = await audit.verify(history.pool)
    assert before.head_hash is not None
    anchor = (before.head_position, before.head_hash)
    target = await middle(history)
    async with history.pool.acquire() as conn:
        await conn.execute("UPDATE events SET data = data || '{\"name\": \"evil\"}'"
                           " WHERE position = $1", target.position)
        rows_after = await conn.fetch(
            "SELECT position FROM events WHERE position >= $1 ORDER BY position",
            target.position)
        chain = await conn.fetchval("SELECT chain_hash FROM events WHERE position = $1",
                                    target.position - 1)
        for r in rows_after:
            s = await _recompute_stream_hash(conn, r["position"])
            chain = hashchain.chain_hash(chain, s)
            await conn.execute("UPDATE events SET chain_hash = $2 WHERE position = $1",
                               r["position"], chain)
        report = await audit.verify(history.pool)
        assert kinds(report) == {("head", before.head_position)}
        await conn.execute("UPDATE event_head SET chain_hash = $1", chain)
    assert (await audit.verify(history.pool)).intact
    report = await audit.verify(history.pool, anchor=anchor)
    assert kinds(report) == {("anchor", before.head_position)}


async def test_hashes_survive_jsonb_normalisation(bare_system: System) -> None:
    """Numbers jsonb rewrites, unicode, key order, nesting: the hashes computed from the
    appended values equal the ones recomputed from the values read back."""
    store = EventStore(bare_system.pool)
    tricky = {
        "floats": [0.1, 1e16, 1e19, 1e20, 1e300, -1e19, 123.0, -0.0, 1.5e-7, 5e-324, 2.5],
        "ints": [0, -1, 2**62, 2**63, 2**64 - 1, -(2**63)],
        "text": ["é", "日本語", "😀", "\u2028", "tab\t", "quote\"", "back\\slash", ""],
        "nested": {"z": {"b": 1, "a": [None, True, False]}, "a": {}, "ä": []},
        "uuid": uuid.UUID(int=7), "tuple": (1, 2.0),
    }
    sid = str(uuid.uuid4())
    await store.append([StreamAppend(sid, 0, [NewEvent("Tricky", tricky),
                                              NewEvent("Tricky", {"b": 1, "a": 2})])],
                       {"request_id": "req-ü", "ratio": 1.0})
    await store.append([StreamAppend(sid, 2, [NewEvent("Tricky", {"x": [1e16]})])])
    report = await audit.verify(bare_system.pool)
    assert report.intact, report.lines()


async def test_appends_chain_across_concurrent_writers(bare_system: System) -> None:
    store = EventStore(bare_system.pool)

    async def writer(w: int) -> None:
        sid = str(uuid.uuid4())
        for i in range(10):
            await store.append([StreamAppend(sid, i, [NewEvent("T", {"w": w, "i": i})]),
                                StreamAppend(str(uuid.uuid4()), 0, [NewEvent("U", {})])])

    await asyncio.gather(*(writer(w) for w in range(8)))
    assert (await audit.verify(bare_system.pool)).intact


async def _cli(*argv: str) -> int:
    try:
        with root_logging_kept():
            return await asyncio.to_thread(cli.main, list(argv))
    except SystemExit as exc:
        return int(exc.code or 0)


async def test_cli_exit_codes(history: System, capsys: pytest.CaptureFixture[str]) -> None:
    assert await _cli("audit", "verify", "--database-url", history.dsn) == 0
    out = capsys.readouterr().out
    assert "chain intact" in out
    target = await middle(history)
    await sql(history, "UPDATE events SET data = '{}' WHERE position = $1", target.position)
    await sql(history, "DELETE FROM events WHERE position = $1", target.position + 1)
    assert await _cli("audit", "verify", "--database-url", history.dsn) == 1
    out = capsys.readouterr().out
    assert f"CHANGED    position {target.position} " in out
    assert f"REMOVED    position {target.position + 1} " in out
    assert "chain BROKEN" in out
    head = await history.store.head()
    last_hash = (await audit.verify(history.pool)).head_hash
    assert last_hash is not None
    assert await _cli("audit", "verify", "--database-url", history.dsn,
                      "--anchor", f"{head}:{'00' * 32}") == 1


async def test_events_from_before_hashing_are_counted_not_chained(server_url: str) -> None:
    """A store migrated to hashing with events already in it: those stay unhashed, the
    chain starts after them, and a hash removed later is found."""
    async with scratch_database(server_url) as dsn:  # empty: no migrations yet
        await _before_hashing(dsn)


async def _before_hashing(dsn: str) -> None:
    conn = await db.connect(dsn)
    try:
        await conn.execute("CREATE TABLE schema_migrations (version integer PRIMARY KEY,"
                           " applied_at timestamptz NOT NULL DEFAULT now())")
        for version, statements in migrations.MIGRATIONS[:3]:
            await conn.execute(statements)
            await conn.execute("INSERT INTO schema_migrations VALUES ($1)", version)
        await conn.execute(
            "INSERT INTO events (position, stream_id, stream_version, event_type, data)"
            " VALUES (1, 's', 1, 'Old', '{}'), (2, 's', 2, 'Old', '{\"n\": 1.0}'),"
            " (3, 't', 1, 'Old', '{}')")
        await conn.execute("UPDATE event_head SET position = 3")
        assert 4 in await migrations.migrate(conn)
        store = EventStore(await db.create_pool(dsn, min_size=1, max_size=2))
        try:
            await store.append([StreamAppend("s", 2, [NewEvent("New", {"n": 2})]),
                                StreamAppend("u", 0, [NewEvent("New", {})])])
            await store.append([StreamAppend("t", 1, [NewEvent("New", {})])])
        finally:
            await store.pool.close()
        report = await audit.verify(conn)
        assert report.intact, report.lines()
        assert (report.events, report.unchained, report.chain_start) == (6, 3, 4)
        assert "3 events before position 4 were recorded before hashing" in \
            report.summary()
        await conn.execute("UPDATE events SET stream_hash = NULL, chain_hash = NULL"
                           " WHERE position = 4")
        report = await audit.verify(conn)
        assert kinds(report) == {("rewritten", 4)}
        assert report.findings[0].detail == "its hashes are missing"
    finally:
        await conn.close()
