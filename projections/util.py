"""Small helpers shared by the projections."""

from __future__ import annotations

import datetime as dt

from control_plane.store.eventstore import RecordedEvent


def ts(event: RecordedEvent, key: str = "timestamp") -> dt.datetime:
    """The event's own time (set by the command), as a datetime."""
    return dt.datetime.fromisoformat(event.data[key])
