"""A Server aggregate's whole state as JSON, and back: what the servers view keeps.

The servers view stores each server's folded state beside its row, folds every new
event into it with the aggregate's own ``apply``, and writes the row from the result
(``projections.servers``), so the view and the aggregate are one state machine.
Pure: times become ISO 8601 strings and come back as datetimes.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from control_plane.domain.servers.aggregate import Server

_TIMES = ("_created_on", "_modified_on", "launched_at", "terminated_at", "soft_deleted_at")
_NOT_STATE = ("_pending_events",)


def to_state(server: Server) -> dict[str, Any]:
    out = {k: v for k, v in vars(server).items() if k not in _NOT_STATE}
    out["_id"] = str(server.id)
    for key in _TIMES:
        if isinstance(out.get(key), dt.datetime):
            out[key] = out[key].isoformat()
    return out


def from_state(state: dict[str, Any]) -> Server:
    values = dict(state)
    values["_id"] = uuid.UUID(values["_id"])
    for key in _TIMES:
        if isinstance(values.get(key), str):
            values[key] = dt.datetime.fromisoformat(values[key])
    server = Server.__new__(Server)
    server.__dict__.update(values)
    server.__dict__["_pending_events"] = []
    return server
