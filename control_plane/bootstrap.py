"""All wiring happens here: database, event store, projections, bus, followers, app."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import asyncpg
import yaml
from starlette.applications import Starlette

from control_plane.access.authentication import Authenticator, ExternalKeystone
from control_plane.access.passwords import verify_password
from control_plane.access.policy import Policy
from control_plane.access.tokens import TokenProvider
from control_plane.api.app import create_app
from control_plane.api.faults import Conflict
from control_plane.config import Settings
from control_plane.context import SYSTEM
from control_plane.domain.flavors.commands import CreateFlavor
from control_plane.domain.identity.commands import (
    CreateProject,
    CreateRole,
    CreateUser,
    GrantRole,
    UpdateUser,
)
from control_plane.domain.images.commands import RegisterImage
from control_plane.ops import defaults
from control_plane.service.bus import MessageBus
from control_plane.service.deps import Deps
from control_plane.service.uow import SnapshotTable, units_of_work
from control_plane.store import db, event_codec
from control_plane.store import schema_migrations as migrations
from control_plane.store.eventstore import EventStore
from control_plane.store.follower import Follower
from control_plane.store.notifier import Notifier
from drivers.base import HypervisorDriver
from projections import all_projections
from projections.identity import queries as identity
from projections.runner import ProjectionRunner
from workers.compute.worker import ComputeWorker
from workers.scheduler import Scheduler

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
    authenticator: Authenticator
    policy: Policy
    external_keystone: ExternalKeystone | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    followers: list[Follower] = field(default_factory=list)

    def start_projection_runner(self) -> None:
        self.tasks.append(asyncio.create_task(self.runner.run(self.notifier, self.stop)))

    def start_follower(self, follower: Follower, stop: asyncio.Event | None = None) -> None:
        """Run a follower until the system stops (or ``stop``, to stop it alone)."""
        self.followers.append(follower)
        self.tasks.append(asyncio.create_task(follower.run(stop or self.stop)))

    def start_scheduler(self) -> Scheduler:
        scheduler = Scheduler(self.store, self.notifier, self.bus)
        self.start_follower(scheduler)
        return scheduler

    def start_compute(self, driver: HypervisorDriver, name: str,
                      stop: asyncio.Event | None = None) -> ComputeWorker:
        worker = ComputeWorker(self.store, self.notifier, self.bus, driver, name)
        self.start_follower(worker, stop)
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
        if self.external_keystone is not None:
            await self.external_keystone.close()
        await self.pool.close()

    def app(self) -> Starlette:
        app = create_app(self.settings)
        app.state.deps = Deps(self.store, self.pool, self.settings, self.bus.deps.unit_of_work)
        app.state.bus = self.bus
        app.state.system = self
        app.state.authenticator = self.authenticator
        app.state.policy = self.policy
        app.state.external_keystone = self.external_keystone
        return app


async def open_system(dsn: str, settings: Settings | None = None, *, seed: bool = True,
                      pool_size: int = 20) -> System:
    settings = settings or Settings()
    event_codec.install()  # the event types, for the eventsourcing library's aggregates
    pool = await db.create_pool(dsn, max_size=pool_size)
    notifier = Notifier(dsn)
    external = None
    try:
        async with pool.acquire() as conn:
            await migrations.migrate(conn)
        projections = all_projections()
        store = EventStore(pool, inline=list(projections), upcaster=event_codec.upcast)
        runner = ProjectionRunner(store, projections)
        await runner.create_schemas()
        await runner.catch_up()
        await notifier.start()
        bus = MessageBus(Deps(store, pool, settings,
                              units_of_work(store, SnapshotTable(pool))))
        authenticator = Authenticator(pool, TokenProvider())
        if settings.auth_strategy == "keystone-external" and settings.keystone_url:
            external = ExternalKeystone(settings.keystone_url,
                                        settings.keystone_service_token)
        system = System(dsn, pool, store, notifier, bus, runner, settings, authenticator,
                        policy_for(settings.policy_file), external)
        if seed:
            await seed_defaults(system)
            await seed_identity(system)
    except BaseException:  # nothing half-open is left behind (the caller may try again)
        with contextlib.suppress(Exception):
            await notifier.stop()
            if external is not None:
                await external.close()
        pool.terminate()
        raise
    return system


async def open_system_retrying(dsn: str, settings: Settings | None = None, *,
                               attempts: int = 30, timeout: float = 120.0) -> System:
    """``open_system`` for a process starting up: a lost or refused connection (the
    database restarting, a backend terminated) or a start-up that hangs is tried again
    with backoff instead of ending the process."""
    for attempt in range(1, attempts + 1):
        try:
            async with asyncio.timeout(timeout):
                return await open_system(dsn, settings)
        except Exception as exc:
            if not db.is_transient(exc) or attempt == attempts:
                raise
            log.warning("start-up failed (%s: %s); trying again (try %d)",
                        type(exc).__name__, exc, attempt)
            await asyncio.sleep(min(0.5 * attempt, 5.0))
    raise AssertionError("unreachable")


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
                    await system.bus.handle(CreateFlavor(**flavor), SYSTEM)
            for image in defaults.IMAGES:
                await system.bus.handle(RegisterImage(**image), SYSTEM)
            await conn.execute(
                "INSERT INTO tracking (name, position) VALUES ('seed:defaults', 1)"
                " ON CONFLICT DO NOTHING")
        finally:
            await conn.execute("SELECT pg_advisory_unlock(7411003)")


@functools.cache
def policy_for(policy_file: str | None) -> Policy:
    """One policy engine per policy file (building one registers ~260 rules)."""
    return Policy(policy_file)


DEFAULT_ROLES = ("admin", "member", "reader", "manager", "service")


async def seed_identity(system: System) -> None:
    """Roles, the bootstrap admin (from settings) and the optional bootstrap file."""
    s = system.settings
    users: list[dict[str, Any]] = [
        {"name": s.admin_user, "password": s.admin_password, "project": s.admin_project,
         "roles": ["admin"]}]
    projects = [s.admin_project]
    if s.bootstrap_file:
        spec = yaml.safe_load(await anyio.Path(s.bootstrap_file).read_text()) or {}
        projects += [p["name"] if isinstance(p, dict) else str(p)
                     for p in spec.get("projects", [])]
        users += list(spec.get("users", []))
        projects += [u["project"] for u in spec.get("users", []) if u.get("project")]
    async with system.pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock(7411004)")
        try:
            await _ensure_identity(system, conn, projects, users)
        finally:
            await conn.execute("SELECT pg_advisory_unlock(7411004)")


async def _ensure_identity(system: System, conn: asyncpg.Connection, projects: list[str],
                           users: list[dict[str, Any]]) -> None:
    bus = system.bus
    roles = await identity.role_ids(conn)
    for name in DEFAULT_ROLES:
        if name not in roles:
            roles[name] = await bus.handle(CreateRole(name), SYSTEM)
    project_ids = {p["name"]: p["id"] for p in await identity.projects(
        conn, {"domain_id": "default"})}
    for name in dict.fromkeys(projects):
        if name not in project_ids:
            project_ids[name] = await bus.handle(CreateProject(name), SYSTEM)
    for user in users:
        row = await identity.user_named(conn, user["name"], "default")
        if row is None:
            user_id = await bus.handle(CreateUser(user["name"], password=user["password"]),
                                       SYSTEM)
        else:
            user_id = row["id"]
            if not verify_password(user["password"], row["password_hash"]):
                await bus.handle(UpdateUser(user_id, {}, password=user["password"]), SYSTEM)
        for role in user.get("roles", []):
            if role not in roles:
                roles[role] = await bus.handle(CreateRole(role), SYSTEM)
            await bus.handle(GrantRole(project_ids[user["project"]], user_id, roles[role]),
                             SYSTEM)


@contextlib.asynccontextmanager
async def running(dsn: str, settings: Settings | None = None) -> AsyncIterator[System]:
    system = await open_system(dsn, settings)
    try:
        yield system
    finally:
        await system.close()
