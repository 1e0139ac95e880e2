"""The in-memory event store keeps the promises the unit of work relies on."""

from __future__ import annotations

import datetime as dt

import pytest

from control_plane.domain.quotas.usage import ProjectUsage, usage_stream_id
from control_plane.service.uow import RecentStates, UnitOfWork
from control_plane.store.event_codec import upcast
from control_plane.store.eventstore import (
    ANY_VERSION,
    ConcurrencyError,
    NewEvent,
    StreamAppend,
)
from control_plane.store.memory import MemoryEventStore, MemorySnapshots
from tests.unit.fakes import Fake

T = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
HOLDING = {"instances": 1, "cores": 1, "ram": 512}


def ev(n: int) -> NewEvent:
    return NewEvent("Thing", {"n": n, "when": (T + dt.timedelta(seconds=n)).isoformat()})


async def test_append_checks_every_stream_version_and_is_all_or_nothing() -> None:
    store = MemoryEventStore()
    await store.append([StreamAppend("a", 0, [ev(1), ev(2)])], {"who": "x"})
    with pytest.raises(ConcurrencyError) as caught:
        await store.append([StreamAppend("b", 0, [ev(3)]), StreamAppend("a", 1, [ev(4)])])
    assert (caught.value.stream_id, caught.value.expected, caught.value.actual) == ("a", 1, 2)
    assert await store.read_stream("b") == []
    assert await store.head() == 2
    recorded = await store.append([StreamAppend("a", ANY_VERSION, [ev(5)]),
                                   StreamAppend("b", 0, [ev(6)])])
    assert [(e.position, e.stream_id, e.stream_version) for e in recorded] == [
        (3, "a", 3), (4, "b", 1)]
    assert len({e.recorded_at for e in recorded}) == 1


async def test_reads() -> None:
    store = MemoryEventStore()
    await store.append([StreamAppend("a", 0, [ev(1), ev(2)]), StreamAppend("b", 0, [ev(3)])])
    assert [e.data["n"] for e in await store.read_stream("a", after_version=1)] == [2]
    streams = await store.read_streams(["a", "b", "c"])
    assert {k: len(v) for k, v in streams.items()} == {"a": 2, "b": 1, "c": 0}
    assert [e.position for e in await store.read_all(1, 1)] == [2]
    assert [e.position for e in await store.read_all(0, types=["Other"])] == []


async def test_data_comes_back_as_postgres_gives_it() -> None:
    store = MemoryEventStore()
    data = {"tuple": (1, 2), "nested": {"k": [1]}}
    await store.append([StreamAppend("a", 0, [NewEvent("Thing", data)])])
    (read,) = await store.read_stream("a")
    assert read.data == {"tuple": [1, 2], "nested": {"k": [1]}}
    read.data["nested"]["k"].append(2)  # a reader's change does not reach the log
    assert (await store.read_stream("a"))[0].data["nested"] == {"k": [1]}


async def test_recorded_at_never_goes_back() -> None:
    times = iter([T, T - dt.timedelta(hours=1)])
    store = MemoryEventStore(clock=lambda: next(times))
    first = await store.append([StreamAppend("a", 0, [ev(1)])])
    second = await store.append([StreamAppend("a", 1, [ev(2)])])
    assert second[0].recorded_at == first[0].recorded_at == T


async def test_tracking_is_written_with_the_append() -> None:
    store = MemoryEventStore()
    await store.append([], tracking=("follower", 7))
    assert await store.tracked_position("follower") == 7
    await store.set_tracked_position("follower", 3)
    assert await store.tracked_position("follower") == 7


async def test_the_pool_refuses() -> None:
    with pytest.raises(RuntimeError, match="no database"):
        MemoryEventStore().pool.acquire()


async def test_a_unit_of_work_needs_a_snapshot_store_off_postgres() -> None:
    with pytest.raises(TypeError):
        UnitOfWork(MemoryEventStore())  # type: ignore[arg-type]


async def test_concurrent_units_of_work_clash_and_retry() -> None:
    """Two decisions on one aggregate: the second to commit clashes; ``retrying``
    decides again on the new state."""
    fake = Fake()
    sid = usage_stream_id("p")
    first = fake.deps.unit_of_work()
    first.add(ProjectUsage.open("p", {}, T))
    await first.commit({})
    one, two = fake.deps.unit_of_work(), fake.deps.unit_of_work()
    for uow in (one, two):
        usage = await uow.get(ProjectUsage, sid)
        assert usage is not None
        usage.claim({"server-1": HOLDING}, T)
    await one.commit({})
    with pytest.raises(ConcurrencyError):
        await two.commit({})
    attempts: list[int] = []

    async def work(uow: UnitOfWork) -> None:
        usage = await uow.get(ProjectUsage, sid)
        assert usage is not None
        attempts.append(usage.version)
        if len(attempts) == 1:  # another process decides meanwhile
            other = fake.deps.unit_of_work()
            theirs = await other.get(ProjectUsage, sid)
            assert theirs is not None
            theirs.claim({"server-2": HOLDING}, T)
            await other.commit({})
        usage.claim({"server-3": HOLDING}, T)
        await uow.commit({})

    await fake.deps.retrying(work)
    assert attempts == [2, 3]
    usage = await fake.deps.unit_of_work().get(ProjectUsage, sid)
    assert usage is not None and set(usage.holdings) == {"server-1", "server-2", "server-3"}


async def test_snapshots_are_taken_and_used() -> None:
    """An aggregate class with SNAPSHOT_EVERY is snapshotted in memory as in Postgres,
    and loading from the snapshot gives the same state as replaying the stream."""
    store, snapshots = MemoryEventStore(upcaster=upcast), MemorySnapshots()
    sid = usage_stream_id("p")
    every = ProjectUsage.SNAPSHOT_EVERY
    uow = UnitOfWork(store, snapshots, RecentStates())
    uow.add(ProjectUsage.open("p", {}, T))
    await uow.commit({})
    for i in range(every):
        uow = UnitOfWork(store, snapshots, RecentStates())
        usage = await uow.get(ProjectUsage, sid)
        assert usage is not None
        usage.claim({f"server-{i}": HOLDING}, T)
        await uow.commit({})
    assert len(snapshots) == 1
    from_snapshot = await UnitOfWork(store, snapshots, RecentStates()).get(ProjectUsage, sid)
    replayed = await UnitOfWork(store, MemorySnapshots(), RecentStates()).get(
        ProjectUsage, sid)
    assert from_snapshot is not None and replayed is not None
    assert from_snapshot.version == replayed.version
    assert vars(from_snapshot) == vars(replayed)

