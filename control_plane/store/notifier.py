"""Waking followers when new events commit: Postgres LISTEN/NOTIFY, with polling behind it.

The event store notifies ``NOTIFY_CHANNEL`` with the new head position in every append
transaction (the notification is delivered on commit); each process holds one LISTEN
connection here, and followers wait on it between reads of the log. Nothing is lost when
a notification is: a waiter's timeout makes it read the log again anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import asyncpg

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "cp_events"


class Notifier:
    """Wakes followers when new events commit (LISTEN/NOTIFY), with a polling fallback.

    One LISTEN connection per process. ``wait(after, timeout)`` returns when the
    head is known to be past ``after`` or the timeout expires; callers always
    re-read the log, so a lost notification only costs one poll interval. When the
    LISTEN connection is lost (or could not be opened), it is opened again in the
    background with backoff, and waiters poll meanwhile.
    """

    def __init__(self, dsn: str, poll_interval: float = 1.0) -> None:
        self.dsn = dsn
        self.poll_interval = poll_interval
        self._conn: asyncpg.Connection | None = None
        self._cond = asyncio.Condition()
        self._reconnect: asyncio.Task[None] | None = None
        self._stopped = False
        self.head = 0
        self.reconnects = 0

    @property
    def listening(self) -> bool:
        return self._conn is not None and not self._conn.is_closed()

    async def start(self) -> None:
        self._stopped = False
        if not await self._connect():
            log.warning("LISTEN unavailable; followers poll until it is back")
            self._schedule_reconnect()

    async def _connect(self) -> bool:
        conn = None
        try:
            conn = await asyncpg.connect(self.dsn)
            await conn.add_listener(NOTIFY_CHANNEL, self._on_notify)
            conn.add_termination_listener(self._on_lost)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close()
            return False
        self._conn = conn
        return True

    def _on_lost(self, _conn: Any) -> None:
        if self._stopped:
            return
        log.warning("the LISTEN connection was lost; opening it again")
        self._conn = None
        self._schedule_reconnect()
        asyncio.get_running_loop().create_task(self._wake())  # waiters re-read the log

    def _schedule_reconnect(self) -> None:
        if self._reconnect is None or self._reconnect.done():
            self._reconnect = asyncio.get_running_loop().create_task(self._reconnect_loop())

    async def _reconnect_loop(self) -> None:
        attempt = 0
        while not self._stopped:
            attempt += 1
            await asyncio.sleep(min(0.2 * 2 ** (attempt - 1), 5.0))
            if await self._connect():
                self.reconnects += 1
                log.info("LISTEN connection open again (try %d)", attempt)
                await self._wake()
                return

    async def stop(self) -> None:
        self._stopped = True
        if self._reconnect is not None:
            self._reconnect.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reconnect
            self._reconnect = None
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        with contextlib.suppress(ValueError):
            self.head = max(self.head, int(payload))
        asyncio.get_running_loop().create_task(self._wake())

    async def _wake(self) -> None:
        async with self._cond:
            self._cond.notify_all()

    async def wait(self, after: int, timeout: float | None = None,
                   stop: asyncio.Event | None = None) -> None:
        """Until the head is past ``after``, ``timeout`` (default: the poll interval)
        passes, or ``stop`` is set."""
        if self.head > after:
            return
        if stop is not None:
            waiter = asyncio.ensure_future(self.wait(after, timeout))
            stopper = asyncio.ensure_future(stop.wait())
            try:
                await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiter.cancel()
                stopper.cancel()
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout or self.poll_interval), self._cond:
                await self._cond.wait_for(lambda: self.head > after)
