"""Fixtures: a real Postgres (local service or embedded), a fresh database per test.

A template database is migrated and seeded once per session; each test gets its
own copy (CREATE DATABASE ... TEMPLATE), so tests are isolated and fast.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import httpx
import pytest

from control_plane.bootstrap import System, open_system
from control_plane.config import Settings
from control_plane.store import db, event_codec
from drivers.base import HostSpec
from drivers.fake import FakeDriver

event_codec.install()  # as bootstrap does: domain tests trigger events without a system

IMAGE = "70a599e0-31e7-49b7-b260-868f441e862b"


@contextlib.contextmanager
def root_logging_kept() -> Iterator[None]:
    """For tests that run ``cli.main`` in this process: it points the root logger at the
    stream pytest captures for that one test; put the root logger back afterwards, or
    later records go to a closed stream ("--- Logging error ---")."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def NOAUTH() -> Settings:
    """Most HTTP tests speak as users by header (the development strategy)."""
    return Settings(auth_strategy="noauth", periodic_interval=0.05)

IMAGE_ALT = "0b2c1a7e-9d3f-4c55-8e6a-3f1d2c4b5a69"




def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tiers: a test that needs Postgres (any fixture built on ``server_url``) is marked
    ``integration``, so ``pytest -m "not integration"`` runs the fast tier alone."""
    for item in items:
        if "server_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def server_url() -> str:
    return os.environ.get("DATABASE_URL") or db.embedded_database_url()


@pytest.fixture(scope="session")
async def template_db(server_url: str) -> AsyncIterator[str]:
    name = f"cp_tpl_{os.getpid()}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    await admin.execute(f'CREATE DATABASE "{name}"')
    system = await open_system(db.with_database(server_url, name), NOAUTH(), pool_size=4)
    await system.close()
    try:
        yield name
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@contextlib.asynccontextmanager
async def scratch_database(server_url: str, template: str | None = None
                           ) -> AsyncIterator[str]:
    """A new database (a copy of ``template``, or empty), dropped afterwards."""
    name = f"cp_t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_url)
    copy = f' TEMPLATE "{template}"' if template else ""
    await admin.execute(f'CREATE DATABASE "{name}"{copy}')
    try:
        yield db.with_database(server_url, name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def fresh_dsn(server_url: str, template_db: str) -> AsyncIterator[str]:
    async with scratch_database(server_url, template_db) as dsn:
        yield dsn


def fake_driver(hosts: int = 2, vcpus: int = 64, ram: int = 262144, disk: int = 4000
                ) -> FakeDriver:
    return FakeDriver([HostSpec(f"host{i + 1}", vcpus, ram, disk) for i in range(hosts)])


@pytest.fixture
def driver() -> FakeDriver:
    return fake_driver()


@pytest.fixture
async def bare_system(fresh_dsn: str) -> AsyncIterator[System]:
    """A system with no followers running (tests start what they need)."""
    system = await open_system(fresh_dsn, NOAUTH(), pool_size=10)
    try:
        yield system
    finally:
        await system.close()


async def wait_hosts(system: System, count: int) -> None:
    """Wait until ``count`` compute hosts have registered."""
    for _ in range(500):
        async with system.pool.acquire() as conn:
            if await conn.fetchval("SELECT count(*) FROM v_hosts") >= count:
                return
        await asyncio.sleep(0.01)
    raise AssertionError("compute hosts did not register")


@pytest.fixture
async def system(bare_system: System, driver: FakeDriver) -> AsyncIterator[System]:
    """API, inline projections, a scheduler and a fake compute worker with two hosts."""
    bare_system.start_scheduler()
    worker = bare_system.start_compute(driver, "fake")
    await wait_hosts(bare_system, len(worker.hosts))
    yield bare_system


def assert_error(r: httpx.Response, status: int, title: str, message: str | None = None
                 ) -> None:
    """The response is Nova's fault: ``{title: {"code": status, "message": message}}``."""
    assert r.status_code == status, r.text
    body = r.json()
    assert list(body) == [title], body
    assert body[title]["code"] == status
    if message is not None:
        assert body[title]["message"] == message


class Api:
    """An HTTP client for the app, acting as one user in one project."""

    def __init__(self, http: httpx.AsyncClient, user: str, project: str,
                 version: str | None = None, roles: str | None = None) -> None:
        self.http = http
        self.user = user
        self.project = project
        self.version = version
        self.roles = roles

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        if self.roles is not None:
            h = {"X-User-Id": self.user, "X-Project-Id": self.project, "X-Roles": self.roles}
        else:
            h = {"X-Auth-Token": f"{self.user}:{self.project}"}
        if self.version:
            h["X-OpenStack-Nova-API-Version"] = self.version
        h.update(extra or {})
        return h

    def at(self, version: str) -> Api:
        return Api(self.http, self.user, self.project, version, self.roles)

    async def request(self, method: str, path: str, json: Any = None,
                      headers: dict[str, str] | None = None, **kw: Any) -> httpx.Response:
        return await self.http.request(method, "/v2.1" + path, json=json,
                                       headers=self.headers(headers), **kw)

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.request("GET", path, **kw)

    async def post(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return await self.request("POST", path, json=json, **kw)

    async def put(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return await self.request("PUT", path, json=json, **kw)

    async def delete(self, path: str, **kw: Any) -> httpx.Response:
        return await self.request("DELETE", path, **kw)

    async def create_server(self, name: str = "vm", flavor: str = "1", image: str = IMAGE,
                            **extra: Any) -> dict[str, Any]:
        r = await self.post("/servers", {"server": {"name": name, "flavorRef": flavor,
                                                    "imageRef": image, **extra}})
        assert r.status_code == 202, r.text
        server: dict[str, Any] = r.json()["server"]
        return server

    async def wait_status(self, server_id: str, *statuses: str, timeout: float = 10.0
                          ) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            r = await self.get(f"/servers/{server_id}")
            if r.status_code == 200 and r.json()["server"]["status"] in statuses:
                body: dict[str, Any] = r.json()["server"]
                return body
            if "DELETED" in statuses and r.status_code == 404:
                return {"status": "DELETED"}
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"server {server_id} never reached {statuses}: {r.text}")
            await asyncio.sleep(0.02)


@pytest.fixture
async def http(system: System) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=system.app())
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def api(http: httpx.AsyncClient) -> Api:
    return Api(http, "alice", "project-a")


@pytest.fixture
def other(http: httpx.AsyncClient) -> Api:
    return Api(http, "bob", "project-b")


@pytest.fixture
def admin(http: httpx.AsyncClient) -> Api:
    return Api(http, "admin", "admin")
