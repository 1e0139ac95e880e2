"""Structured logs: the request id (and the event being handled) on every record.

A context variable holds the fields of the work in hand: the API binds the
request id of each request (``control_plane.api.observe``), the message bus binds
the request id of each command's context, and followers bind each event's request
id, type and server (``control_plane.store.follower``). ``ContextFilter`` copies them onto
every record that passes a handler, so one request can be followed from its HTTP
line through its events, the compute worker and the driver, to the command that
reports the outcome.

``configure()`` sets up the root logger: human text by default, JSON Lines (one
object per record, via python-json-logger) with ``CONTROL_PLANE_LOG_FORMAT=json``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import Any

from pythonjsonlogger.orjson import OrjsonFormatter

# the fields a record may carry, in the order text logs show them
FIELDS = ("request_id", "event_type", "event_position", "server_id")

_CURRENT: ContextVar[Mapping[str, Any] | None] = ContextVar("control_plane_log_fields",
                                                            default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"

# control characters (C0, DEL, C1) and Unicode's line and paragraph separators: in a text
# log line, any of them from a client (a path's %0a) could forge or hide a line
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_BUT_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(text: str) -> str:
    """``text`` with its control characters written as escapes (``\\n`` as ``\\x0a``),
    and backslashes doubled, so an escape in the text cannot pass for one of ours."""
    return _CONTROL.sub(_escape_char, text.replace("\\", "\\\\"))


class TextFormatter(logging.Formatter):
    """Human text, one line per record whatever its message or fields hold: the message
    (with its arguments) and the context fields are escaped; a traceback, appended
    after, keeps its lines, each indented (so that no line of it, an exception's message
    included, can pass for a record of its own)."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        head, newline, tail = text.partition("\n")
        if not newline:
            return text
        tail = _CONTROL_BUT_NEWLINE.sub(_escape_char, tail)
        return head + "".join("\n    " + line for line in tail.split("\n"))

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = escape(record.message)
        for name in FIELDS:
            value = record.__dict__.get(name)
            if isinstance(value, str):
                setattr(record, name, escape(value))
        return super().formatMessage(record)


def current() -> Mapping[str, Any]:
    """The fields bound for the work in hand (empty outside any request or event)."""
    return _CURRENT.get() or {}


def request_id() -> str | None:
    value = current().get("request_id")
    return str(value) if value is not None else None


@contextlib.contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Add ``fields`` to every record logged inside the block (None values are left out)."""
    merged = {**current(), **{k: v for k, v in fields.items() if v is not None}}
    token = _CURRENT.set(merged)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def event_fields(event_type: str, position: int, stream_id: str,
                 metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of an event being handled: its request (from its metadata), type,
    position and, for a server's event, the server."""
    return {
        "request_id": metadata.get("request_id"),
        "event_type": event_type,
        "event_position": position,
        "server_id": stream_id if event_type.startswith("Server") else None,
    }


class ContextFilter(logging.Filter):
    """Puts the bound fields on each record (``-`` for the request id when there is
    none, so text formats can always show it); fields given with ``extra=`` win."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = current()
        for name in FIELDS:
            if name not in record.__dict__ and name in fields:
                setattr(record, name, fields[name])
        if "request_id" not in record.__dict__:
            record.request_id = "-"
        return True


def json_formatter() -> logging.Formatter:
    return OrjsonFormatter(
        "%(levelname)s %(name)s %(message)s",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp=True,
    )


def configure(level: int = logging.INFO, fmt: str | None = None) -> logging.Handler:
    """Log to stderr in ``fmt`` (``text`` or ``json``; default ``$CONTROL_PLANE_LOG_FORMAT``
    or text), with the context fields on every record. Returns the handler installed."""
    fmt = (fmt or os.environ.get("CONTROL_PLANE_LOG_FORMAT") or "text").lower()
    if fmt not in ("text", "json"):
        raise ValueError(f"unknown CONTROL_PLANE_LOG_FORMAT {fmt!r} (text or json)")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(json_formatter() if fmt == "json" else TextFormatter(TEXT_FORMAT))
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler
