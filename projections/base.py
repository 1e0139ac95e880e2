"""What a projection is: event handlers writing view tables, with a tracked position.

A projection's position is the row ``projection:<name>`` in ``tracking``. It is
updated in the same transaction as the view, either inline by the event store's
append, or by the runner when the projection is behind; so each event is applied
exactly once. Handlers must not have side effects outside their own tables, so a
projection can always be rebuilt from position 0.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from control_plane.store.eventstore import RecordedEvent

Handler = Callable[[asyncpg.Connection, RecordedEvent], Awaitable[None]]


class Projection:
    """Subclasses set ``name``, ``tables``, ``schema`` and decorate handlers with ``on``."""

    name: str = ""
    tables: tuple[str, ...] = ()
    schema: str = ""
    _handlers: dict[str, str] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        handlers: dict[str, str] = {}
        for base in reversed(cls.__mro__):
            for attr, value in vars(base).items():
                for event_type in getattr(value, "_handles", ()):
                    handlers[event_type] = attr
        cls._handlers = handlers

    @property
    def tracking_name(self) -> str:
        return f"projection:{self.name}"

    @property
    def handles(self) -> frozenset[str]:
        return frozenset(self._handlers)

    async def apply(self, conn: asyncpg.Connection, event: RecordedEvent) -> None:
        attr = self._handlers.get(event.event_type)
        if attr is not None:
            await getattr(self, attr)(conn, event)

    async def create_schema(self, conn: asyncpg.Connection) -> None:
        await conn.execute(self.schema)
        await conn.execute(
            "INSERT INTO tracking (name, position) VALUES ($1, 0) ON CONFLICT DO NOTHING",
            self.tracking_name,
        )

    async def reset(self, conn: asyncpg.Connection) -> None:
        """Empty the view and set the position to 0 (start of a rebuild)."""
        if self.tables:
            await conn.execute("TRUNCATE " + ", ".join(self.tables))
        await conn.execute(
            "UPDATE tracking SET position = 0, updated_at = now() WHERE name = $1",
            self.tracking_name,
        )


def on(*event_types: str) -> Callable[[Any], Any]:
    """Mark a projection method as the handler of the given event types."""

    def mark(fn: Any) -> Any:
        fn._handles = event_types
        return fn

    return mark
