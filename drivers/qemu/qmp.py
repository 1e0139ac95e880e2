"""A thin async layer over qemu.qmp's QMPClient: one connection to one guest's monitor.

It connects to the guest's QMP unix socket (retrying while QEMU starts), runs commands
with timeouts (turning qemu.qmp's errors into DriverErrors that name the command),
forwards lifecycle events to a callback, lets a caller wait for a given event, and
disconnects cleanly.

QEMU's QMP monitor serves one client at a time: a second client's connection is
accepted by the kernel but gets no greeting until the first one leaves, so the
driver keeps one connection per guest.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from qemu.qmp import (
    ConnectError,
    EventListener,
    ExecInterruptedError,
    ExecuteError,
    QMPClient,
    QMPError,
    Runstate,
    StateError,
)

from drivers.base import DriverError

log = logging.getLogger(__name__)

# the events that change a guest's power state
LIFECYCLE_EVENTS = ("SHUTDOWN", "POWERDOWN", "STOP", "RESUME", "RESET")

EventCallback = Callable[[str, dict[str, Any]], Awaitable[None] | None]
DisconnectCallback = Callable[[], Awaitable[None] | None]

# sockaddr_un.sun_path holds 108 bytes with its NUL
_MAX_SOCKET_PATH = 107


class QMPFailure(DriverError):
    """A QMP command failed, timed out, or the monitor could not be reached."""


class QMPCommandError(QMPFailure):
    """QEMU answered a command with an error."""

    def __init__(self, command: str, error_class: str, description: str) -> None:
        super().__init__(f"QMP command {command} failed: {error_class}: {description}")
        self.command = command
        self.error_class = error_class
        self.description = description


class QMPDisconnected(QMPFailure):
    """The monitor went away (QEMU exited or closed the connection)."""


def _connect_socket(path: Path) -> socket.socket:
    """A unix socket connected to ``path``, even one longer than sun_path allows (through
    /proc/self/fd/N/name with N an O_PATH descriptor of its directory)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        if len(os.fsencode(path)) <= _MAX_SOCKET_PATH:
            sock.connect(str(path))
        else:
            dir_fd = os.open(path.parent, os.O_PATH | os.O_DIRECTORY)
            try:
                sock.connect(f"/proc/self/fd/{dir_fd}/{path.name}")
            finally:
                os.close(dir_fd)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def _data(event: dict[str, Any]) -> dict[str, Any]:
    data = event.get("data")
    return dict(data) if isinstance(data, dict) else {}


class EventWaiter:
    """Events of the given names that arrive while it is registered (see QMPConnection.watch)."""

    def __init__(self, listener: EventListener) -> None:
        self._listener = listener

    async def wait(self, timeout: float, name: str | None = None,
                   where: Callable[[dict[str, Any]], bool] | None = None
                   ) -> dict[str, Any] | None:
        """The next matching event (``{"event", "data", "timestamp"}``), or None when none
        arrives within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                msg = await asyncio.wait_for(self._listener.get(), remaining)
            except TimeoutError:
                return None
            event = dict(msg)
            if name is not None and event.get("event") != name:
                continue
            if where is not None and not where(_data(event)):
                continue
            return event
        return None

    def seen(self) -> list[str]:
        """Names of the events received so far (for logs and tests)."""
        return [str(m["event"]) for m in self._listener.history]


class QMPConnection:
    """One guest's monitor connection."""

    def __init__(self, socket_path: Path, name: str = "qmp",
                 on_event: EventCallback | None = None,
                 events: tuple[str, ...] = LIFECYCLE_EVENTS,
                 on_disconnect: DisconnectCallback | None = None) -> None:
        self.socket_path = socket_path
        self.name = name
        self.on_event = on_event
        self.events = events
        self.on_disconnect = on_disconnect  # called when QEMU drops the connection
        self._client: QMPClient | None = None
        self._pump: asyncio.Task[None] | None = None
        self._watcher: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.runstate == Runstate.RUNNING

    @property
    def greeting(self) -> dict[str, Any] | None:
        if self._client is None or self._client.greeting is None:
            return None
        return dict(self._client.greeting._asdict())

    async def connect(self, timeout: float = 10.0, interval: float = 0.05) -> None:
        """Connect and negotiate capabilities, retrying while the socket is not there yet
        or refuses connections, for up to ``timeout`` seconds."""
        if self.connected:
            return
        await self.close()
        deadline = time.monotonic() + timeout
        last: BaseException | None = None
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise QMPFailure(f"Could not connect to the QMP monitor {self.socket_path} "
                                 f"within {timeout:g} s: {last}")
            client = QMPClient(self.name)
            try:
                sock = _connect_socket(self.socket_path)
                await asyncio.wait_for(client.connect(sock), remaining)
            except (OSError, ConnectError, TimeoutError, EOFError) as exc:
                last = exc
                with contextlib.suppress(Exception):
                    await client.disconnect()
                await asyncio.sleep(min(interval, max(0.0, deadline - time.monotonic())))
                continue
            self._client = client
            self._pump = asyncio.create_task(self._forward_events(client),
                                             name=f"qmp-events-{self.name}")
            self._watcher = asyncio.create_task(self._watch(client),
                                                name=f"qmp-watch-{self.name}")
            return

    async def _watch(self, client: QMPClient) -> None:
        """Tell ``on_disconnect`` when QEMU goes away (not when we close)."""
        while client.runstate == Runstate.RUNNING:
            await client.runstate_changed()
        if self._client is not client:
            return  # closed by us
        log.info("%s: QMP monitor %s went away", self.name, self.socket_path)
        if self.on_disconnect is not None:
            try:
                result = self.on_disconnect()
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                log.exception("%s: disconnect handler failed", self.name)

    async def _forward_events(self, client: QMPClient) -> None:
        """Drain the client's default (all-events) listener, whose queue and history would
        otherwise grow for as long as the connection lives, and pass lifecycle events on."""
        listener = client.events
        async for msg in listener:
            with contextlib.suppress(AttributeError):
                listener._history.clear()  # qemu.qmp keeps every event otherwise
            name = str(msg.get("event"))
            if name not in self.events or self.on_event is None:
                continue
            try:
                result = self.on_event(name, _data(dict(msg)))
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                log.exception("%s: event handler failed for %s", self.name, name)

    def _require(self) -> QMPClient:
        if self._client is None or self._client.runstate != Runstate.RUNNING:
            raise QMPDisconnected(f"QMP monitor {self.socket_path} is not connected")
        return self._client

    async def execute(self, command: str, arguments: dict[str, Any] | None = None,
                      timeout: float = 10.0) -> Any:
        """Run a QMP command and return its ``return`` value."""
        client = self._require()
        try:
            return await asyncio.wait_for(client.execute(command, arguments), timeout)
        except TimeoutError:
            raise QMPFailure(f"QMP command {command} timed out after {timeout:g} s") from None
        except ExecuteError as exc:
            raise QMPCommandError(command, exc.error_class, str(exc)) from None
        except (ExecInterruptedError, StateError, EOFError, ConnectionError) as exc:
            raise QMPDisconnected(f"QMP monitor went away during {command}: {exc}") from None
        except QMPError as exc:
            raise QMPFailure(f"QMP command {command} failed: {exc}") from None

    async def hmp(self, command_line: str, timeout: float = 10.0) -> str:
        """Run a human monitor command (for what QMP lacks); returns its text output."""
        out = await self.execute("human-monitor-command", {"command-line": command_line},
                                 timeout)
        return str(out)

    async def status(self, timeout: float = 10.0) -> str:
        """The VM's run state as query-status names it (running, paused, shutdown, ...)."""
        result = await self.execute("query-status", timeout=timeout)
        return str(result["status"])

    @contextlib.contextmanager
    def watch(self, *names: str) -> Iterator[EventWaiter]:
        """Collect events of ``names`` while the block runs; register before sending the
        command whose event you wait for, so that a quick event is not missed."""
        client = self._require()
        listener = EventListener(names or None)
        with client.listen(listener):
            yield EventWaiter(listener)

    async def close(self) -> None:
        """Disconnect (QEMU keeps running); errors of a dead connection are ignored."""
        client, self._client = self._client, None
        for task in (self._pump, self._watcher):
            if task is not None and task is not asyncio.current_task():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._pump = self._watcher = None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.disconnect()
