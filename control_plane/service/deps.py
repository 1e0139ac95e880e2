"""What command handlers need: the event store, the pool for view lookups, settings."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from control_plane.config import Settings
from control_plane.store.eventstore import EventStore


@dataclass
class Deps:
    store: EventStore
    pool: asyncpg.Pool
    settings: Settings
