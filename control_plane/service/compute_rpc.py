"""Questions to the compute worker that hosts a server, over Postgres LISTEN/NOTIFY.

Console output, console connection details and diagnostics are reads, not state
changes, so they are not events: the API asks the worker serving a host and waits
for its answer.

- Each host has a request channel (``host_channel``); the compute worker holding
  the host (see ``workers.compute.worker``) LISTENs on it with a connection of its own.
- A caller LISTENs on a fresh reply channel of its own, then NOTIFYs the request
  (``{"id", "reply", "host", "method", "args"}``) on the host's channel.
- The worker answers ``{"result": ...}`` or ``{"error": {"kind", "message", ...}}``
  on the reply channel. A NOTIFY payload must stay under 8000 bytes, so the answer
  is sent as ASCII JSON cut into numbered chunks (``"<i>/<n>/<text>"``), all in one
  transaction (so they arrive together and in order); the caller joins them.
- No answer within the timeout: nobody serves the host (its worker is down), and the
  caller gets a 503 ``ComputeUnavailable`` fault.

The same code works when the API and the worker share a process (``control-plane
serve``, tests) and when they do not (``control-plane api`` + ``control-plane compute``):
they only meet in Postgres.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import asyncpg

from control_plane.api.faults import ServiceUnavailable

log = logging.getLogger(__name__)

CHUNK = 7000  # characters of (ASCII) JSON per NOTIFY, under the 8000-byte payload limit
PAYLOAD_LIMIT = 7900


def host_channel(host: str) -> str:
    """The request channel of a host (a hash: channel names are at most 63 bytes)."""
    return "cp_rpc_" + hashlib.sha256(host.encode()).hexdigest()[:32]


class ComputeUnavailable(ServiceUnavailable):
    """Nobody answered for the host in time."""


class RemoteError(Exception):
    """The worker answered with an error: ``kind`` says which, ``data`` has details."""

    def __init__(self, kind: str, message: str, **data: Any) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.data = data

    def as_reply(self) -> dict[str, Any]:
        return {"error": {"kind": self.kind, "message": self.message, **self.data}}


def _dumps(message: Any) -> str:
    return json.dumps(message, ensure_ascii=True, separators=(",", ":"))


def chunks(message: Any) -> list[str]:
    """The NOTIFY payloads that carry ``message``."""
    text = _dumps(message)
    parts = [text[i:i + CHUNK] for i in range(0, len(text), CHUNK)] or [""]
    return [f"{i}/{len(parts)}/{part}" for i, part in enumerate(parts)]


class _Assembler:
    def __init__(self) -> None:
        self.parts: dict[int, str] = {}

    def add(self, payload: str) -> Any | None:
        """Take one chunk; the whole message once every chunk has come, else None."""
        index, total, text = payload.split("/", 2)
        self.parts[int(index)] = text
        if len(self.parts) < int(total):
            return None
        return json.loads("".join(self.parts[i] for i in range(int(total))))


async def call(pool: asyncpg.Pool, host: str, method: str, args: dict[str, Any],
               timeout: float) -> Any:
    """Ask the worker serving ``host`` to run ``method``; its result, or RemoteError."""
    request_id = uuid.uuid4().hex
    reply = f"cp_rpc_reply_{request_id}"
    request = _dumps({"id": request_id, "reply": reply, "host": host, "method": method,
                      "args": args})
    if len(request) > PAYLOAD_LIMIT:
        raise ValueError(f"compute request {method} is too large for NOTIFY")
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[Any] = loop.create_future()
    assembler = _Assembler()

    def on_reply(_conn: Any, _pid: int, _channel: str, payload: str) -> None:
        if answer.done():
            return
        try:
            message = assembler.add(payload)
        except (ValueError, KeyError) as exc:
            answer.set_exception(exc)
            return
        if message is not None:
            answer.set_result(message)

    async with pool.acquire() as conn:
        await conn.add_listener(reply, on_reply)
        try:
            await conn.execute("SELECT pg_notify($1, $2)", host_channel(host), request)
            try:
                async with asyncio.timeout(timeout):
                    message = await answer
            except TimeoutError:
                raise ComputeUnavailable(
                    f"Compute host {host} did not answer within {timeout:g} seconds; "
                    "its compute service may be down.") from None
        finally:
            with contextlib.suppress(asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
                await conn.remove_listener(reply, on_reply)
    if "error" in message:
        error = dict(message["error"])
        raise RemoteError(error.pop("kind"), error.pop("message"), **error)
    return message["result"]


# the server side: (host, method, args) -> result; raises RemoteError for expected errors
Handler = Callable[[str, str, dict[str, Any]], Awaitable[Any]]


class RPCServer:
    """Answers requests for ``hosts`` with ``handler``, until ``stop``.

    It has two connections of its own: one listening, one sending answers (not the
    pool's: callers in the same process hold pool connections while they wait).
    """

    def __init__(self, dsn: str, hosts: Iterable[str], handler: Handler,
                 name: str = "compute") -> None:
        self.dsn = dsn
        self.hosts = sorted(hosts)
        self.handler = handler
        self.name = name
        self._conn: asyncpg.Connection | None = None
        self._sender: asyncpg.Connection | None = None
        self._send_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def listening(self) -> bool:
        return self._conn is not None and not self._conn.is_closed()

    async def start(self) -> None:
        conn = await asyncpg.connect(self.dsn)
        try:
            for host in self.hosts:
                await conn.add_listener(host_channel(host), self._on_request)
        except BaseException:
            await conn.close()
            raise
        self._conn = conn

    async def stop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        sender, self._sender = self._sender, None
        if sender is not None:
            with contextlib.suppress(Exception):
                await sender.close()

    def _on_request(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        task = asyncio.get_running_loop().create_task(self._serve(payload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, payload: str) -> None:
        try:
            request = json.loads(payload)
            reply_to, host = str(request["reply"]), str(request["host"])
            method, args = str(request["method"]), dict(request["args"])
        except (ValueError, KeyError, TypeError):
            log.warning("%s: ignoring a malformed compute request", self.name)
            return
        try:
            message: dict[str, Any] = {"result": await self.handler(host, method, args)}
        except RemoteError as exc:
            message = exc.as_reply()
        except Exception as exc:
            log.exception("%s: %s on %s failed", self.name, method, host)
            message = RemoteError("failed", f"{type(exc).__name__}: {exc}").as_reply()
        for attempt in (1, 2):
            try:
                await self._send(reply_to, chunks(message))
                return
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
                log.exception("%s: could not answer %s (try %d)", self.name, method, attempt)

    async def _send(self, channel: str, parts: list[str]) -> None:
        """All chunks in one transaction: they arrive together, in order."""
        async with self._send_lock:
            if self._sender is None or self._sender.is_closed():
                self._sender = await asyncpg.connect(self.dsn)
            try:
                async with self._sender.transaction():
                    for part in parts:
                        await self._sender.execute("SELECT pg_notify($1, $2)", channel, part)
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
                with contextlib.suppress(Exception):
                    await self._sender.close()
                self._sender = None
                raise
