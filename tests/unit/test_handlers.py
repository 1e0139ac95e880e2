"""Command handlers on the in-memory store: the real bus, handlers and unit of work.

Only handlers that decide without reading a view are tested here (the in-memory store
has no views: its pool refuses); the others are covered on Postgres.
"""

from __future__ import annotations

import uuid

import pytest

from control_plane.config import DEFAULT_QUOTAS, Settings
from control_plane.context import SYSTEM, RequestContext
from control_plane.domain.errors import Conflict as DomainConflict
from control_plane.domain.flavors.aggregate import Flavor
from control_plane.domain.flavors.commands import CreateFlavor, DeleteFlavor
from control_plane.domain.keypairs.commands import CreateKeypair, DeleteKeypair
from control_plane.domain.servers.commands import CompleteServerAction, RequestServerAction
from control_plane.store.eventstore import RecordedEvent
from tests.unit.fakes import Fake

USER = RequestContext("user-a", "project-a", ("member",))
PUBLIC_KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGhJp3bTtK3xJ1bT2i0b7h3g6f8J0b0pJt5o6d6hN1kH"
              " test@example")


def fake() -> Fake:
    # key pairs: no quota, whose check counts a view
    return Fake(settings=Settings(quotas={**DEFAULT_QUOTAS, "key_pairs": -1}))


def types(events: list[RecordedEvent]) -> list[str]:
    return [e.event_type for e in events]


async def test_create_and_delete_a_flavor() -> None:
    f = fake()
    flavorid = await f.bus.handle(CreateFlavor("m1.tiny", 512, 1, 1, flavorid="1"), SYSTEM)
    assert flavorid == "1"
    created = await f.since(0)
    assert sorted(types(created)) == ["FlavorCreated", "ReservationClaimed",
                                      "ReservationClaimed", "ReservationOpened",
                                      "ReservationOpened"]
    flavor = next(e for e in created if e.event_type == "FlavorCreated")
    assert {"flavorid": "1", "name": "m1.tiny", "ram": 512, "vcpus": 1}.items() \
        <= flavor.data.items()
    assert all(e.metadata["request_id"] == SYSTEM.request_id for e in created)

    head = await f.store.head()
    await f.bus.handle(DeleteFlavor("1"), SYSTEM)
    deleted = await f.since(head)
    assert sorted(types(deleted)) == ["FlavorDeleted", "ReservationReleased",
                                      "ReservationReleased"]
    loaded = await f.deps.unit_of_work().get(Flavor, uuid.UUID(flavor.stream_id))
    assert loaded is not None and loaded.deleted


async def test_a_flavor_id_is_taken_once() -> None:
    f = fake()
    await f.bus.handle(CreateFlavor("m1.tiny", 512, 1, 1, flavorid="1"), SYSTEM)
    head = await f.store.head()
    with pytest.raises(Exception, match="already exists"):
        await f.bus.handle(CreateFlavor("other", 512, 1, 1, flavorid="1"), SYSTEM)
    with pytest.raises(Exception, match="already exists"):
        await f.bus.handle(CreateFlavor("m1.tiny", 512, 1, 1, flavorid="2"), SYSTEM)
    assert await f.since(head) == []


async def test_a_missing_flavor_is_not_found() -> None:
    with pytest.raises(Exception, match="could not be found"):
        await fake().bus.handle(DeleteFlavor("nope"), SYSTEM)


async def test_import_and_delete_a_keypair() -> None:
    f = fake()
    made = await f.bus.handle(CreateKeypair("k1", USER.user_id, public_key=PUBLIC_KEY),
                              USER)
    assert made.private_key is None and made.public_key == PUBLIC_KEY
    created = await f.since(0)
    keypair = next(e for e in created if e.event_type == "KeypairCreated")
    assert {"name": "k1", "user_id": "user-a", "project_id": "project-a",
            "fingerprint": made.fingerprint, "generated": False}.items() \
        <= keypair.data.items()

    with pytest.raises(Exception, match="already exists"):
        await f.bus.handle(CreateKeypair("k1", USER.user_id, public_key=PUBLIC_KEY), USER)

    head = await f.store.head()
    await f.bus.handle(DeleteKeypair("k1", USER.user_id), USER)
    assert sorted(types(await f.since(head))) == ["KeypairDeleted", "ReservationReleased"]
    with pytest.raises(Exception, match="not found"):
        await f.bus.handle(DeleteKeypair("k1", USER.user_id), USER)
    # the name is free again
    await f.bus.handle(CreateKeypair("k1", USER.user_id, public_key=PUBLIC_KEY), USER)


async def test_a_handler_that_reads_a_view_fails_loudly() -> None:
    f = Fake()  # key pairs have a quota: its check counts the keypairs view
    with pytest.raises(RuntimeError, match="no database"):
        await f.bus.handle(CreateKeypair("k1", USER.user_id, public_key=PUBLIC_KEY), USER)


async def test_a_server_stop_through_the_bus() -> None:
    from tests.unit.test_server_events import ACTIVE, SID

    f = fake()
    await f.given(SID, ACTIVE)
    await f.bus.handle(RequestServerAction(str(SID), "stop"), USER)
    with pytest.raises(DomainConflict):  # stopping already
        await f.bus.handle(RequestServerAction(str(SID), "stop"), USER)
    await f.bus.handle(CompleteServerAction(str(SID), "h1", "stop", "t"), SYSTEM)
    events = await f.since(len(ACTIVE))
    assert types(events) == ["ServerStopRequested", "ServerStopped"]
    assert events[0].metadata["user_id"] == "user-a"
    assert events[1].metadata["host"] == "h1"
