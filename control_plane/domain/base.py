"""Bridges the eventsourcing library's aggregates and our asyncpg event store.

Every event class declares ``TOPIC``: a stable, explicit type name ("ServerCreated")
that is stored in the log instead of a Python module path, so the log survives
refactors. Event classes may declare ``class_version`` and ``upcast_vN_vN+1``
static methods, as the eventsourcing library does; stored events are upcast on
read (``upcast``) so aggregates and projections always see the newest schema.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any, TypeVar

from eventsourcing.domain import Aggregate, CanMutateAggregate
from eventsourcing.utils import register_topic, resolve_topic

from control_plane.store.eventstore import NewEvent, RecordedEvent

NAMESPACE = uuid.UUID("6b1bd2a8-1f3e-4b69-9b0e-3c1f2d8e4a10")

EVENT_TYPES: dict[str, type[Any]] = {}

A = TypeVar("A", bound=Aggregate)

_BASE_FIELDS = ("originator_id", "originator_version", "timestamp", "originator_topic")


def stable_id(*parts: str) -> uuid.UUID:
    """A deterministic stream id for a natural key (e.g. a keypair's user and name)."""
    return uuid.uuid5(NAMESPACE, "\x1f".join(parts))


def register(aggregate_cls: type[Aggregate]) -> type[Aggregate]:
    """Register an aggregate class and all its nested event classes by their TOPIC."""
    register_topic(aggregate_cls.TOPIC, aggregate_cls)  # type: ignore[attr-defined]
    for value in vars(aggregate_cls).values():
        if isinstance(value, type) and issubclass(value, CanMutateAggregate):
            topic = getattr(value, "TOPIC", None)
            if topic:
                register_topic(topic, value)
                EVENT_TYPES[topic] = value
    return aggregate_cls


def upcast(event_type: str, version: int, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Bring stored event data up to the current class version of its event type."""
    cls = EVENT_TYPES.get(event_type)
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
    cls = resolve_topic(record.event_type)
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


def utc(value: dt.datetime) -> str:
    """Nova's timestamp format: seconds precision, trailing Z."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
