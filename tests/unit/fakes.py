"""The fast tier's fakes: ``Deps`` and a message bus on the in-memory event store.

The handlers, the unit of work and the aggregates are the real ones; only the store is
in memory (``control_plane.store.memory``). ``Fake.given`` writes a history to the store
by stored type name and data (as the log holds it), ``Fake.since`` reads back what a
command appended, so tests speak the log's language and survive moves of classes.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from control_plane.config import Settings
from control_plane.domain import registry
from control_plane.domain.servers.aggregate import Server
from control_plane.service.bus import MessageBus
from control_plane.service.deps import Deps
from control_plane.service.uow import RecentStates, units_of_work
from control_plane.store.event_codec import upcast
from control_plane.store.eventstore import EventStore, NewEvent, RecordedEvent, StreamAppend
from control_plane.store.memory import MemoryEventStore, MemorySnapshots

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def event_types() -> dict[str, type[Any]]:
    """Every event type the domain declares, by its stored type name."""
    return dict(registry.EVENT_TYPES)


def server_event_types() -> set[str]:
    """The stored type names of every event on a Server stream."""
    return {t for t, cls in event_types().items() if issubclass(cls, Server.Event)}


def schema_version(event_type: str) -> int:
    return int(getattr(event_types()[event_type], "class_version", 1))


@dataclass
class Fake:
    store: MemoryEventStore = field(default_factory=lambda: MemoryEventStore(upcaster=upcast))
    snapshots: MemorySnapshots = field(default_factory=MemorySnapshots)
    settings: Settings = field(default_factory=Settings)

    def __post_init__(self) -> None:
        registry.install()
        # the real store's type for the read API's sake; handlers use only unit_of_work
        self.deps = Deps(cast(EventStore, self.store), self.store.pool, self.settings,
                         units_of_work(self.store, self.snapshots, RecentStates()))
        self.bus = MessageBus(self.deps)

    async def given(self, stream_id: uuid.UUID | str,
                    events: Iterable[tuple[str, dict[str, Any]]]) -> None:
        """Append a history to a stream: (stored type name, data) pairs, each stamped
        a second after the previous one unless its data names a timestamp."""
        stream = str(stream_id)
        current = len(await self.store.read_stream(stream))
        new = []
        for i, (event_type, data) in enumerate(events, start=current):
            stamped = {"timestamp": (T0 + dt.timedelta(seconds=i)).isoformat(), **data}
            new.append(NewEvent(event_type, stamped, schema_version(event_type)))
        await self.store.append([StreamAppend(stream, current, new)])

    async def since(self, position: int, stream_id: uuid.UUID | str | None = None
                    ) -> list[RecordedEvent]:
        """What was appended after ``position`` (on one stream, if named)."""
        found = await self.store.read_all(position, 10_000)
        return [e for e in found if stream_id is None or e.stream_id == str(stream_id)]
