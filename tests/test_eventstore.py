"""The event store against real Postgres: appends, concurrency, ordering for followers."""

from __future__ import annotations

import asyncio
import random
import uuid

import pytest

from control_plane.bootstrap import System
from control_plane.store.eventstore import (
    ANY_VERSION,
    ConcurrencyError,
    EventStore,
    NewEvent,
    StreamAppend,
    follow,
)


def ev(n: int, kind: str = "TestHappened") -> NewEvent:
    return NewEvent(kind, {"n": n})


@pytest.fixture
def store(bare_system: System) -> EventStore:
    # a store without inline projections: these tests are about the log itself
    return EventStore(bare_system.pool)


async def test_append_and_read_stream(store: EventStore) -> None:
    sid = str(uuid.uuid4())
    recorded = await store.append([StreamAppend(sid, 0, [ev(1), ev(2)])],
                                  {"request_id": "req-1", "user_id": "u", "project_id": "p"})
    assert [r.stream_version for r in recorded] == [1, 2]
    assert recorded[1].position == recorded[0].position + 1
    await store.append([StreamAppend(sid, 2, [ev(3)])])
    events = await store.read_stream(sid)
    assert [e.data["n"] for e in events] == [1, 2, 3]
    assert events[0].metadata["request_id"] == "req-1"
    assert events[0].event_type == "TestHappened"
    assert events[0].recorded_at is not None
    assert [e.data["n"] for e in await store.read_stream(sid, after_version=2)] == [3]


async def test_wrong_expected_version_writes_nothing(store: EventStore) -> None:
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    await store.append([StreamAppend(a, 0, [ev(1)])])
    head = await store.head()
    with pytest.raises(ConcurrencyError) as info:
        # b is fine, a is stale: the whole append must be refused
        await store.append([StreamAppend(b, 0, [ev(1)]), StreamAppend(a, 0, [ev(2)])])
    assert info.value.stream_id == a and info.value.actual == 1
    assert await store.read_stream(b) == []
    assert await store.head() == head
    # the positions handed out by the failed append are not lost: no gap appears
    recorded = await store.append([StreamAppend(b, 0, [ev(1)])])
    assert recorded[0].position == head + 1


async def test_any_version_appends_without_check(store: EventStore) -> None:
    sid = str(uuid.uuid4())
    await store.append([StreamAppend(sid, ANY_VERSION, [ev(1)])])
    await store.append([StreamAppend(sid, ANY_VERSION, [ev(2)])])
    assert [e.stream_version for e in await store.read_stream(sid)] == [1, 2]


async def test_racing_appenders_on_one_stream_never_lose_or_duplicate(store: EventStore) -> None:
    sid = str(uuid.uuid4())
    wins = 0

    async def writer(i: int) -> None:
        nonlocal wins
        while True:
            version = len(await store.read_stream(sid))
            try:
                await store.append([StreamAppend(sid, version, [ev(i)])])
                wins += 1
                return
            except ConcurrencyError:
                await asyncio.sleep(random.random() / 1000)

    await asyncio.gather(*(writer(i) for i in range(40)))
    events = await store.read_stream(sid)
    assert wins == 40
    assert sorted(e.data["n"] for e in events) == list(range(40))
    assert [e.stream_version for e in events] == list(range(1, 41))


async def test_follower_sees_every_event_once_in_order(bare_system: System,
                                                       store: EventStore) -> None:
    """Many concurrent appenders (with random delays inside their transactions) and a
    follower reading by position: no event is skipped, none is seen twice."""
    start = await store.head()
    writers, per_writer = 12, 25
    expected = writers * per_writer
    seen: list[int] = []
    positions: list[int] = []
    stop = asyncio.Event()

    async def follower() -> None:
        async for batch in follow(store, bare_system.notifier, start, batch_size=7, stop=stop):
            for e in batch:
                positions.append(e.position)
                seen.append(e.data["n"])
            if len(seen) >= expected:
                return

    async def writer(w: int) -> None:
        for i in range(per_writer):
            n = w * per_writer + i
            sid = str(uuid.uuid4())
            if i % 3 == 0:
                # hold the transaction open a little: a slow committer
                async with bare_system.pool.acquire() as conn, conn.transaction():
                    await store._append_in(conn, [StreamAppend(sid, 0, [ev(n)])], {}, 1)
                    await asyncio.sleep(random.random() / 200)
            else:
                await store.append([StreamAppend(sid, 0, [ev(n)])])

    task = asyncio.create_task(follower())
    await asyncio.gather(*(writer(w) for w in range(writers)))
    await asyncio.wait_for(task, 20)
    stop.set()
    assert sorted(seen) == list(range(expected))
    assert len(seen) == len(set(seen))
    assert positions == sorted(positions)
    assert positions == list(range(start + 1, start + expected + 1))


async def test_read_all_in_batches_and_by_type(store: EventStore) -> None:
    start = await store.head()
    sid = str(uuid.uuid4())
    await store.append([StreamAppend(sid, 0, [ev(i, "A" if i % 2 else "B") for i in range(10)])])
    first = await store.read_all(start, 4)
    second = await store.read_all(first[-1].position, 100)
    assert [e.data["n"] for e in first + second] == list(range(10))
    only_a = await store.read_all(start, 100, types=["A"])
    assert [e.data["n"] for e in only_a] == [1, 3, 5, 7, 9]


async def test_notifier_wakes_a_waiting_follower(bare_system: System, store: EventStore) -> None:
    head = await store.head()
    bare_system.notifier.poll_interval = 30  # prove the wake-up is the notification
    waiter = asyncio.create_task(bare_system.notifier.wait(head))
    await asyncio.sleep(0.05)
    assert not waiter.done()
    await store.append([StreamAppend(str(uuid.uuid4()), 0, [ev(1)])])
    await asyncio.wait_for(waiter, 5)
    assert bare_system.notifier.head > head


async def test_tracking_recorded_with_append(store: EventStore) -> None:
    sid = str(uuid.uuid4())
    recorded = await store.append([StreamAppend(sid, 0, [ev(1)])], tracking=("follower:t", 41))
    assert recorded
    assert await store.tracked_position("follower:t") == 41
    # the tracked position never goes backwards
    await store.append([], tracking=("follower:t", 7))
    assert await store.tracked_position("follower:t") == 41
