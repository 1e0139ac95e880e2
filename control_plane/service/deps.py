"""What command handlers need: the event store, the pool for view lookups, settings, and
the factory of units of work (built by bootstrap, or by a test on the in-memory store).

Handlers never build a unit of work themselves: they ask ``deps.unit_of_work()`` for
one, or hand their work to ``deps.retrying``, so whatever built ``Deps`` decides which
store the decisions are made on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import asyncpg

from control_plane.config import Settings
from control_plane.service import uow
from control_plane.service.uow import UnitOfWork
from control_plane.store.eventstore import EventStore

T = TypeVar("T")


@dataclass
class Deps:
    store: EventStore  # for reads of the log itself (history); handlers use unit_of_work
    pool: asyncpg.Pool
    settings: Settings
    unit_of_work: Callable[[], UnitOfWork]

    async def retrying(
        self,
        work: Callable[[UnitOfWork], Awaitable[T]],
        *,
        key: str | None = None,
        attempts: int = 30,
        conflict_message: str = "Request conflicted with a concurrent change; please retry.",
    ) -> T:
        """``work`` on a fresh unit of work, again on a concurrency clash (see
        ``control_plane.service.uow.retrying``)."""
        return await uow.retrying(self.unit_of_work, work, key=key, attempts=attempts,
                                  conflict_message=conflict_message)
