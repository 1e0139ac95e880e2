"""All wiring happens here: database, event store, projections, bus, followers, app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import asyncpg
from starlette.applications import Starlette

from control_plane import commands as c
from control_plane import db, defaults, migrations
from control_plane.api.app import create_app
from control_plane.bus import MessageBus
from control_plane.config import Settings
from control_plane.context import SYSTEM
from control_plane.deps import Deps
from control_plane.domain.base import upcast
from control_plane.eventstore import EventStore, Notifier
from control_plane.faults import Conflict
from control_plane.follower import Follower
from control_plane.scheduler import Scheduler
from drivers.base import HypervisorDriver
from drivers.worker import ComputeWorker
from projections import all_projections
from projections.runner import ProjectionRunner

log = logging.getLogger(__name__)


@dataclass
class System:
    dsn: str
    pool: asyncpg.Pool
    store: EventStore
    notifier: Notifier
    bus: MessageBus
    runner: ProjectionRunner
    settings: Settings
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    followers: list[Follower] = field(default_factory=list)

    def start_projection_runner(self) -> None:
        self.tasks.append(asyncio.create_task(self.runner.run(self.notifier, self.stop)))

    def start_follower(self, follower: Follower) -> None:
        self.followers.append(follower)
        self.tasks.append(asyncio.create_task(follower.run(self.stop)))

    def start_scheduler(self) -> Scheduler:
        scheduler = Scheduler(self.store, self.notifier, self.bus)
        self.start_follower(scheduler)
        return scheduler

    def start_compute(self, driver: HypervisorDriver, name: str) -> ComputeWorker:
        worker = ComputeWorker(self.store, self.notifier, self.bus, driver, name)
        self.start_follower(worker)
        return worker

    async def stop_tasks(self) -> None:
        self.stop.set()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks.clear()
        self.followers.clear()
        self.stop = asyncio.Event()

    async def close(self) -> None:
        await self.stop_tasks()
        await self.notifier.stop()
        await self.pool.close()

    def app(self) -> Starlette:
        app = create_app(self.settings)
        app.state.deps = Deps(self.store, self.pool, self.settings)
        app.state.bus = self.bus
        app.state.system = self
        return app


async def open_system(dsn: str, settings: Settings | None = None, *, seed: bool = True,
                      pool_size: int = 20) -> System:
    settings = settings or Settings()
    pool = await db.create_pool(dsn, max_size=pool_size)
    async with pool.acquire() as conn:
        await migrations.migrate(conn)
    projections = all_projections()
    store = EventStore(pool, inline=list(projections), upcaster=upcast)
    runner = ProjectionRunner(store, projections)
    await runner.create_schemas()
    await runner.catch_up()
    notifier = Notifier(dsn)
    await notifier.start()
    bus = MessageBus(Deps(store, pool, settings))
    system = System(dsn, pool, store, notifier, bus, runner, settings)
    if seed:
        await seed_defaults(system)
    return system


async def seed_defaults(system: System) -> None:
    """Create Nova's default flavors and the built-in images, once per event store."""
    async with system.pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock(7411003)")
        try:
            done = await conn.fetchval("SELECT 1 FROM tracking WHERE name = 'seed:defaults'")
            if done:
                return
            for flavor in defaults.FLAVORS:
                with contextlib.suppress(Conflict):
                    await system.bus.handle(c.CreateFlavor(**flavor), SYSTEM)
            for image in defaults.IMAGES:
                await system.bus.handle(c.RegisterImage(**image), SYSTEM)
            await conn.execute(
                "INSERT INTO tracking (name, position) VALUES ('seed:defaults', 1)"
                " ON CONFLICT DO NOTHING")
        finally:
            await conn.execute("SELECT pg_advisory_unlock(7411003)")


@contextlib.asynccontextmanager
async def running(dsn: str, settings: Settings | None = None) -> AsyncIterator[System]:
    system = await open_system(dsn, settings)
    try:
        yield system
    finally:
        await system.close()
