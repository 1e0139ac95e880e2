"""Stored records <-> domain events: the one place that crosses between the two.

The event store keeps each event as its stable type name, a schema version and JSON
data; the domain works with the eventsourcing library's event objects. This module
maps one to the other by the explicit list of event types
(``control_plane.domain.registry``), upcasts data stored by an older class version
(``upcast``, the event store's upcaster: aggregates and projections always see the
newest schema), and folds a stream into an aggregate (``replay``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any, TypeVar

from eventsourcing.domain import Aggregate, CanMutateAggregate

from control_plane.domain import registry
from control_plane.store.eventstore import NewEvent, RecordedEvent

A = TypeVar("A", bound=Aggregate)

_BASE_FIELDS = ("originator_id", "originator_version", "timestamp", "originator_topic")

install = registry.install  # bootstrap calls it once; the functions below make sure of it


def upcast(event_type: str, version: int, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Bring stored event data up to the current class version of its event type."""
    cls = registry.known(event_type)
    if cls is None:
        return version, data
    target = getattr(cls, "class_version", 1)
    if version >= target:
        return version, data
    state = dict(data)
    while version < target:
        getattr(cls, f"upcast_v{version}_v{version + 1}")(state)
        version += 1
    return version, state


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def to_new_event(event: CanMutateAggregate[Any]) -> NewEvent:
    cls = type(event)
    data = {k: _jsonable(v) for k, v in vars(event).items() if k not in _BASE_FIELDS[:2]}
    data.pop("originator_topic", None)
    return NewEvent(
        event_type=cls.TOPIC,  # type: ignore[attr-defined]
        data=data,
        schema_version=getattr(cls, "class_version", 1),
    )


def to_domain_event(record: RecordedEvent, aggregate_topic: str) -> CanMutateAggregate[Any]:
    registry.install()  # a Created event resolves its aggregate by topic
    cls = registry.event_class(record.event_type)
    state = dict(record.data)
    state["originator_id"] = uuid.UUID(record.stream_id)
    state["originator_version"] = record.stream_version
    state["timestamp"] = dt.datetime.fromisoformat(state["timestamp"])
    if "originator_topic" in cls.__dataclass_fields__:
        state["originator_topic"] = aggregate_topic
    event = object.__new__(cls)
    object.__setattr__(event, "__dict__", state)
    return event  # type: ignore[no-any-return]


def replay(cls: type[A], records: Iterable[RecordedEvent]) -> A | None:
    """Fold stored events into an aggregate (None for an empty stream)."""
    aggregate: A | None = None
    for record in records:
        event = to_domain_event(record, cls.TOPIC)  # type: ignore[attr-defined]
        aggregate = event.mutate(aggregate)  # type: ignore[arg-type]
    return aggregate
