"""What every aggregate shares: stable stream ids for natural keys, Nova's time format.

Every event class declares ``TOPIC``: a stable, explicit type name ("ServerCreated")
that is stored in the log instead of a Python module path, so the log survives
refactors. Event classes may declare ``class_version`` and ``upcast_vN_vN+1``
static methods, as the eventsourcing library does. The list of every event type is
``control_plane.domain.registry``; turning stored records into events (and upcasting
them) is the event store's side (``control_plane.store.event_codec``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

NAMESPACE = uuid.UUID("6b1bd2a8-1f3e-4b69-9b0e-3c1f2d8e4a10")


def stable_id(*parts: str) -> uuid.UUID:
    """A deterministic stream id for a natural key (e.g. a keypair's user and name)."""
    return uuid.uuid5(NAMESPACE, "\x1f".join(parts))


def utc(value: dt.datetime) -> str:
    """Nova's timestamp format: seconds precision, trailing Z."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Command:
    """What a caller asks the system to do. Imperative names (``CreateServers``); each
    resource's commands are in its package (``control_plane.domain.<resource>.commands``)
    and each is handled by exactly one function (``control_plane.service.bus``)."""
