"""What the scripts that drive a live control plane share (bench.py, fuzz_api.py,
rebuild_bench.py, tempest_run.py): which Postgres to use, scratch databases made and
dropped on it, a free port, and ``control-plane serve`` as a child process that is
waited for and stopped. One way to do each, so that a fix (a database left behind, a
server left running, a start-up not waited for) is made once for every script.

Importing it puts this checkout first on ``sys.path``, so a script run from any
checkout drives that checkout's code, not an installed copy.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO

import asyncpg
import httpx

REPO = pathlib.Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from control_plane.store import db  # noqa: E402
from projections.hosts import queries as host_queries  # noqa: E402

LOCAL_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
HOST = "127.0.0.1"
IMAGE = "70a599e0-31e7-49b7-b260-868f441e862b"  # cirros, seeded by open_system

Log = Callable[[str], None]


class HarnessError(Exception):
    """The run could not be set up, or its server failed; the message says why."""


def logger(name: str) -> Log:
    """``log(msg)`` printing ``[name HH:MM:SS] msg`` at once (the scripts' progress)."""
    def log(msg: str) -> None:
        print(f"[{name} {time.strftime('%H:%M:%S')}] {msg}", flush=True)
    return log


def admin_url(explicit: str | None = None) -> str:
    """The Postgres to make scratch databases on: ``explicit``, else $DATABASE_URL, else
    the local server."""
    return explicit or os.environ.get("DATABASE_URL") or LOCAL_PG


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


# --------------------------------------------------------------------------- databases


@dataclass
class ScratchDatabases:
    """Creates databases on the admin URL's server and drops only those it made itself.
    With ``log``, each drop (and a drop that fails) is reported."""

    admin_url: str
    log: Log | None = None
    created: list[str] = field(default_factory=list)

    async def create(self, name: str) -> str:
        """A new empty database ``name`` (one left by an earlier run is dropped first);
        returns its URL."""
        conn = await asyncpg.connect(self.admin_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        self.created.append(name)
        return db.with_database(self.admin_url, name)

    async def drop_all(self, keep: Iterable[str] = ()) -> None:
        """Drop every database made here but those named in ``keep``."""
        names = [n for n in self.created if n not in set(keep)]
        self.created.clear()
        if not names:
            return
        conn = await asyncpg.connect(self.admin_url)
        try:
            for name in names:
                try:
                    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                    if self.log is not None:
                        self.log(f"dropped scratch database {name}")
                except asyncpg.PostgresError as exc:
                    if self.log is None:
                        raise
                    self.log(f"WARNING: could not drop {name}: {exc}")
        finally:
            await conn.close()


async def wait_hosts(database: asyncpg.Pool | asyncpg.Connection, count: int,
                     within: float = 60.0, check: Callable[[], None] | None = None) -> None:
    """Wait until ``count`` compute hosts are registered in the hosts view (the database
    may not have its tables yet); ``check`` is called on every round (to fail early)."""
    deadline = time.monotonic() + within
    while True:
        if check is not None:
            check()
        with contextlib.suppress(asyncpg.UndefinedTableError):
            if await host_queries.count(database) >= count:
                return
        if time.monotonic() > deadline:
            raise HarnessError(f"compute hosts were not registered within {within:g}s")
        await asyncio.sleep(0.05)


# --------------------------------------------------------------------------- the server


@dataclass
class ServeProcess:
    """``control-plane serve`` on a free port of this machine, on ``database_url``, run
    from ``tree`` (a checkout) with ``env`` added to this process's environment; its
    output goes to ``log_path``."""

    database_url: str
    log_path: pathlib.Path
    flags: Sequence[str] = ()
    env: dict[str, str] = field(default_factory=dict)
    tree: pathlib.Path = REPO
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def argv(self) -> list[str]:
        return [sys.executable, "-m", "control_plane.cli", "serve", "--host", HOST,
                "--port", str(self.port), "--database-url", self.database_url, *self.flags]

    def start(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env,
               "DATABASE_URL": self.database_url,
               # the tree's packages before an installed copy
               "PYTHONPATH": os.pathsep.join(
                   p for p in (str(self.tree), os.environ.get("PYTHONPATH")) if p)}
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(self.argv, env=env, cwd=self.tree,
                                     stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise HarnessError(f"control-plane serve exited with code {self.proc.returncode}"
                               f"; log tail:\n{self.log_tail()}")

    async def wait_ready(self, within: float = 60.0, path: str = "/v2.1") -> httpx.Response:
        """Wait until ``GET path`` answers 200 (the server must not exit meanwhile)."""
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(base_url=self.base_url, trust_env=False,
                                     timeout=2.0) as client:
            while time.monotonic() < deadline:
                self.check_alive()
                with contextlib.suppress(httpx.HTTPError):
                    r = await client.get(path)
                    if r.status_code == 200:
                        return r
                await asyncio.sleep(0.1)
        raise HarnessError(f"server not ready after {within:g}s; log tail:\n{self.log_tail()}")

    async def wait_hosts(self, count: int, within: float = 60.0) -> None:
        """Wait until the server's compute worker has registered ``count`` hosts."""
        conn = await db.connect(self.database_url)
        try:
            await wait_hosts(conn, count, within, self.check_alive)
        finally:
            await conn.close()

    def stop(self, signals: Sequence[tuple[signal.Signals, float]] = (
                 (signal.SIGINT, 15), (signal.SIGTERM, 10), (signal.SIGKILL, 10)),
             log: Log | None = None) -> int | None:
        """Stop the server, each signal in turn until it exits (SIGINT first: ``serve``
        shuts down cleanly on it); returns its exit code."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            for sig, wait in signals:
                proc.send_signal(sig)
                try:
                    proc.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    if log is not None:
                        log(f"server still running {wait:g}s after {sig.name}")
        if self._log is not None:
            self._log.close()
            self._log = None
        return None if proc is None else proc.returncode

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])
