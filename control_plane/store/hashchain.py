"""Tamper evidence for the event log: the hashes that chain every event to the last.

Each event carries two SHA-256 hashes, computed at append time while the
``event_head`` row lock is held (so the global order is the commit order):

``stream_hash = SHA-256("cp-stream" || previous stream_hash of its stream || canonical(event))``
``chain_hash  = SHA-256("cp-chain"  || previous chain_hash of the log    || stream_hash)``

The first event of a stream, and the first event of the log, chain from 32 zero
bytes. ``canonical(event)`` is compact JSON with sorted keys of
``[position, stream_id, stream_version, event_type, schema_version, data,
metadata, recorded_at]``, with ``recorded_at`` in ISO 8601 (UTC, microseconds).
So the stream hash covers an event's content and its place in its stream, and the
chain hash covers the whole log up to and including it; ``event_head`` keeps the
last chain hash (the head hash).

The bytes hashed at append time come from the Python values, the bytes
recomputed by a verifier come from the values Postgres gives back, and ``jsonb``
normalises numbers (``1e16`` is stored as ``10000000000000000``, ``123.0``
keeps its scale, ``-0.0`` becomes ``0.0``). ``normalise`` maps both sides to the
same value: an integral float in orjson's integer range is hashed as that
integer, which is exactly what orjson reads back from jsonb's output. Key order
does not matter (keys are sorted); strings are stored as they are.

The hashes are not keyed: anyone who can rewrite the table can recompute the
whole chain up to the head. They prove that the log is what it was when a head
hash was recorded elsewhere (``control-plane audit verify`` prints it; ``--anchor``
checks one), and they show every edit that was not followed by such a rewrite.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import orjson

ZERO = bytes(32)
_STREAM = b"cp-stream\x00"
_CHAIN = b"cp-chain\x00"
_INT_MIN, _INT_MAX = -(2**63), 2**64  # the integers orjson reads as int, not float


def timestamp(value: dt.datetime) -> str:
    """The canonical (and export) form of a timestamp: ISO 8601 in UTC, microseconds."""
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def normalise(value: Any) -> Any:
    """The value as it reads back from jsonb (see the module docstring)."""
    kind = type(value)
    if kind is dict:
        return {k: normalise(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [normalise(v) for v in value]
    if kind is float:
        if value.is_integer() and _INT_MIN <= value < _INT_MAX:
            return int(value)
        return value
    if kind is str or kind is int or kind is bool or value is None:
        return value
    # anything else orjson knows (UUID, datetime, dataclass, enum, ...) is stored as
    # its JSON form, so hash that form
    return normalise(orjson.loads(orjson.dumps(value)))


def canonical(
    position: int,
    stream_id: str,
    stream_version: int,
    event_type: str,
    schema_version: int,
    data: Any,
    metadata: Any,
    recorded_at: str,
) -> bytes:
    """The bytes an event's stream hash covers (``recorded_at`` as ``timestamp`` gives it)."""
    return orjson.dumps(
        [position, stream_id, stream_version, event_type, schema_version,
         normalise(data), normalise(metadata), recorded_at],
        option=orjson.OPT_SORT_KEYS,
    )


def stream_hash(previous: bytes | None, event: bytes) -> bytes:
    return hashlib.sha256(_STREAM + (previous or ZERO) + event).digest()


def chain_hash(previous: bytes | None, stream: bytes) -> bytes:
    return hashlib.sha256(_CHAIN + (previous or ZERO) + stream).digest()
