"""Event schema evolution on a real change: ServerCreated and ServerRebuildRequested went
from version 1 to version 2 (the sealed admin password and the personality files were
added). tests/fixtures/server_history_v1.jsonl is a server's history as version-1 code
stored it (created, scheduled, spawned, rebuilt, stopped); stored as it is, it must replay
into the same aggregate and views, and the server must go on living under version 2."""

from __future__ import annotations

import pathlib
import uuid

import httpx
import orjson

from control_plane.bootstrap import System
from control_plane.domain.servers.aggregate import Server
from control_plane.service.uow import UnitOfWork
from control_plane.store.eventstore import ANY_VERSION, NewEvent, StreamAppend
from tests.conftest import IMAGE_ALT, Api

FIXTURE = pathlib.Path(__file__).parent / "fixtures" / "server_history_v1.jsonl"
SERVER = "44394e92-4ff7-49af-b6d8-9e7f44ad6e3f"


async def load_fixture(system: System) -> None:
    for line in FIXTURE.read_bytes().splitlines():
        event = orjson.loads(line)
        await system.store.append([StreamAppend(event["stream_id"], ANY_VERSION, [NewEvent(
            event["event_type"], event["data"], event["schema_version"])])],
            event["metadata"])


async def test_version_1_events_replay_and_the_server_lives_on(bare_system: System) -> None:
    system = bare_system
    await load_fixture(system)
    async with system.pool.acquire() as conn:  # stored as version 1, never rewritten
        stored = {r["event_type"]: r["schema_version"] for r in await conn.fetch(
            "SELECT event_type, schema_version FROM events WHERE stream_id = $1", SERVER)}
    assert stored["ServerCreated"] == 1 and stored["ServerRebuildRequested"] == 1

    read = {e.event_type: e for e in await system.store.read_stream(SERVER)}
    for kind in ("ServerCreated", "ServerRebuildRequested"):  # upcast when read
        assert read[kind].schema_version == 2
        assert read[kind].data["admin_pass"] == "" and read[kind].data["files"] == []

    server = await UnitOfWork(system.store).get(Server, uuid.UUID(SERVER))
    assert server is not None
    assert (server.name, server.vm_state, server.image_ref) == (
        "legacy-rebuilt", "stopped", IMAGE_ALT)
    assert server.admin_pass == "" and server.files == []

    for p in system.runner.projections:  # the views, rebuilt from the old events
        await system.runner.rebuild(p.name)
    transport = httpx.ASGITransport(app=system.app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        api = Api(http, "alice", "project-a")
        body = (await api.get(f"/servers/{SERVER}")).json()["server"]
        assert body["status"] == "SHUTOFF" and body["name"] == "legacy-rebuilt"
        assert body["image"]["id"] == IMAGE_ALT and body["metadata"] == {"env": "prod"}
        actions = (await api.get(f"/servers/{SERVER}/os-instance-actions")).json()
        assert [a["action"] for a in actions["instanceActions"]] == [
            "stop", "rebuild", "create"]
        # version-2 code goes on writing on top of the version-1 history
        r = await api.put(f"/servers/{SERVER}", {"server": {"name": "still-here"}})
        assert r.status_code == 200 and r.json()["server"]["name"] == "still-here"
        r = await api.post(f"/servers/{SERVER}/metadata", {"metadata": {"tier": "db"}})
        assert r.json()["metadata"] == {"env": "prod", "tier": "db"}
    server = await UnitOfWork(system.store).get(Server, uuid.UUID(SERVER))
    assert server is not None and server.name == "still-here"
