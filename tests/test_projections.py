"""Projections: rebuilt from zero they equal the incrementally built views; catch-up."""

from __future__ import annotations

import asyncio
from typing import Any

from control_plane.bootstrap import System
from control_plane.context import now
from control_plane.domain.keypairs.aggregate import Keypair
from control_plane.store.event_codec import to_new_event
from control_plane.store.eventstore import EventStore, StreamAppend
from tests.conftest import Api


async def _dump(system: System) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    async with system.pool.acquire() as conn:
        for p in system.runner.projections:
            for table in p.tables:
                rows = await conn.fetch(f"SELECT * FROM {table}")
                out[table] = sorted((tuple(sorted(dict(r).items())) for r in rows), key=repr)
    return out


async def _workload(api: Api, other: Api, admin: Api) -> None:
    servers = [await api.create_server(f"s{i}") for i in range(4)]
    servers.append(await other.create_server("theirs"))
    for s in servers[:2]:
        await api.wait_status(s["id"], "ACTIVE")
    await api.put(f"/servers/{servers[0]['id']}", {"server": {"name": "renamed"}})
    await api.delete(f"/servers/{servers[1]['id']}")
    await api.post("/os-keypairs", {"keypair": {"name": "k1"}})
    await api.post("/os-keypairs", {"keypair": {"name": "k2"}})
    await api.delete("/os-keypairs/k1")
    r = await admin.post("/flavors", {"flavor": {"name": "custom", "ram": 64, "vcpus": 1,
                                                 "disk": 1, "id": "c1",
                                                 "os-flavor-access:is_public": False}})
    assert r.status_code == 200, r.text
    await admin.post("/flavors/c1/action", {"addTenantAccess": {"tenant": "project-a"}})
    await admin.post("/flavors/c1/os-extra_specs", {"extra_specs": {"hw:cpu_policy": "dedicated"}})
    await admin.post("/images/70a599e0-31e7-49b7-b260-868f441e862b/metadata",
                     {"metadata": {"purpose": "test"}})
    for s in servers:
        await api.wait_status(s["id"], "ACTIVE", "DELETED") if s is not servers[-1] else None


async def test_rebuild_equals_incremental(system: System, api: Api, other: Api, admin: Api
                                          ) -> None:
    await _workload(api, other, admin)
    await asyncio.sleep(0.2)
    before = await _dump(system)
    assert before["v_servers"] and before["v_keypairs"] and before["v_instance_actions"]
    for p in system.runner.projections:
        await system.runner.rebuild(p.name)
    after = await _dump(system)
    assert after == before
    positions = await system.runner.positions()
    head = await system.store.head()
    assert all(pos == head for pos in positions.values())


async def test_behind_projection_is_caught_up_and_reads_resume(system: System, api: Api) -> None:
    """Events appended while a projection is behind skip it inline; the runner catches up."""
    async with system.pool.acquire() as conn:
        await conn.execute("UPDATE tracking SET position = position - 1"
                           " WHERE name = 'projection:keypairs'")
    r = await api.post("/os-keypairs", {"keypair": {"name": "late"}})
    assert r.status_code == 200
    assert (await api.get("/os-keypairs/late")).status_code == 404  # not applied inline
    await system.runner.catch_up()
    # the runner re-applied the one event it had "missed" plus the new one
    async with system.pool.acquire() as conn:
        await conn.execute("DELETE FROM v_keypairs")  # make the replay observable
        await conn.execute("UPDATE tracking SET position = 0 WHERE name = 'projection:keypairs'")
    await system.runner.catch_up()
    assert (await api.get("/os-keypairs/late")).status_code == 200
    r = await api.post("/os-keypairs", {"keypair": {"name": "inline-again"}})
    assert (await api.get("/os-keypairs/inline-again")).status_code == 200


async def test_upcasting_old_event_versions(system: System) -> None:
    """A stored version-1 event is upcast when read, when the class has a newer version."""
    sid_event = Keypair.create(__import__("uuid").uuid4(), now(), name="old", user_id="u",
                               project_id="p", public_key="ssh-rsa AAAA", fingerprint="f",
                               type="ssh", generated=False).collect_events()[0]
    new = to_new_event(sid_event)
    data = dict(new.data)
    del data["type"]  # what a version-1 KeypairCreated looked like
    store: EventStore = system.store

    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["type"] = "ssh"

    cls = type(sid_event)
    cls.class_version = 2  # type: ignore[attr-defined]
    cls.upcast_v1_v2 = staticmethod(upcast_v1_v2)  # type: ignore[attr-defined]
    try:
        stream = str(sid_event.originator_id)
        await store.append([StreamAppend(stream, 0, [type(new)(new.event_type, data, 1)])])
        (record,) = await store.read_stream(stream)
        assert record.schema_version == 2 and record.data["type"] == "ssh"
        from control_plane.store.event_codec import replay

        keypair = replay(Keypair, [record])
        assert keypair is not None and keypair.name == "old"
    finally:
        del cls.class_version  # type: ignore[attr-defined]
        del cls.upcast_v1_v2  # type: ignore[attr-defined]
