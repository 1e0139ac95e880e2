"""Fixtures for tests of the identity service itself: a system authenticating with its own
Keystone (``ks``) and an HTTP client to it (``http``, in place of conftest's noauth one).
A test module uses them by importing both names."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from control_plane.bootstrap import System, open_system
from control_plane.config import Settings


@pytest.fixture
async def ks(fresh_dsn: str) -> AsyncIterator[System]:
    system = await open_system(fresh_dsn, Settings(auth_strategy="keystone"), pool_size=6)
    try:
        yield system
    finally:
        await system.close()


@pytest.fixture
async def http(ks: System) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=ks.app())
    async with httpx.AsyncClient(transport=transport, base_url="http://cloud") as client:
        yield client
