"""A live ``control-plane serve`` subprocess for tests that use real clients over HTTP.

It runs the whole system (API with the built-in identity service, projections,
scheduler, fake compute hosts) on a free loopback port and its own fresh
database, with a ``demo`` user (role member in project ``demo``, password
``secret``) besides the bootstrap admin (``admin``/``secret``).
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import socket
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
FAKE_HOSTS = 2
TIMEOUT = 30.0
BOOTSTRAP = """\
users:
  - {name: demo, password: secret, project: demo, roles: [member]}
  - {name: demo-reader, password: secret, project: demo, roles: [reader]}
  - {name: alt, password: secret, project: alt, roles: [member]}
"""


@dataclass(frozen=True)
class Live:
    root: str  # http://127.0.0.1:PORT

    @property
    def compute_url(self) -> str:
        return f"{self.root}/v2.1"

    @property
    def auth_url(self) -> str:
        return f"{self.root}/identity/v3"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def _wait_ready(proc: asyncio.subprocess.Process, url: str, dsn: str,
                      log: pathlib.Path) -> None:
    """Wait until GET /v2.1 answers and the fake compute hosts have registered."""
    deadline = time.monotonic() + TIMEOUT
    hosts = 0
    async with httpx.AsyncClient(timeout=2.0) as http:
        while time.monotonic() < deadline:
            if proc.returncode is not None:
                output = await asyncio.to_thread(log.read_text)
                raise AssertionError(f"server exited ({proc.returncode}):\n{output}")
            try:
                answered = (await http.get(url)).status_code == 200
            except httpx.TransportError:
                answered = False
            if answered:
                conn = await asyncpg.connect(dsn)
                try:
                    hosts = await conn.fetchval("SELECT count(*) FROM v_hosts")
                finally:
                    await conn.close()
                if hosts >= FAKE_HOSTS:
                    return
            await asyncio.sleep(0.1)
    output = await asyncio.to_thread(log.read_text)
    raise AssertionError(f"server not ready at {url} ({hosts}/{FAKE_HOSTS} compute hosts "
                         f"registered):\n{output}")


@pytest.fixture
async def live_server(fresh_dsn: str, tmp_path: pathlib.Path) -> AsyncIterator[Live]:
    """``control-plane serve`` on a free port and a fresh database."""
    port = free_port()
    log = tmp_path / "server.log"
    bootstrap = tmp_path / "bootstrap.yaml"
    bootstrap.write_text(BOOTSTRAP)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "CONTROL_PLANE_AUTH_STRATEGY": "keystone",
           "CONTROL_PLANE_BOOTSTRAP_FILE": str(bootstrap),
           "CONTROL_PLANE_TOKEN_KEY_FILE": str(tmp_path / "token.key")}
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "control_plane.cli", "serve",
            "--host", "127.0.0.1", "--port", str(port), "--database-url", fresh_dsn,
            "--fake-hosts", str(FAKE_HOSTS), "--latency", "0.01",
            cwd=ROOT, stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out, env=env,
        )
    live = Live(f"http://127.0.0.1:{port}")
    try:
        await _wait_ready(proc, live.compute_url, fresh_dsn, log)
        yield live
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 5.0)
            except TimeoutError:
                proc.kill()
                await proc.wait()
