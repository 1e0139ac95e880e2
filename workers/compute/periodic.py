"""What a compute worker's periodic check finds due on its hosts (read from the views):
soft-deleted servers past the reclaim interval, resizes past the confirm window,
shelved servers past the offload time. Each becomes a command; the command's handler
checks the aggregate again, so a stale view never does harm."""

from __future__ import annotations

import asyncpg

from control_plane.config import Settings
from control_plane.domain.base import Command
from control_plane.domain.servers import commands as c
from projections.servers import queries as server_queries

# setting -> (vm_state, column holding the time it entered that state, command)
_RULES: tuple[tuple[str, str, str, type[c.ReclaimServer] | type[c.AutoConfirmResize]
                    | type[c.OffloadShelvedServer]], ...] = (
    ("reclaim_instance_interval", "soft-delete", "soft_deleted_at", c.ReclaimServer),
    ("resize_confirm_window", "resized", "updated_at", c.AutoConfirmResize),
    ("shelved_offload_time", "shelved", "updated_at", c.OffloadShelvedServer),
)


async def due(conn: asyncpg.Connection, hosts: list[str], settings: Settings
              ) -> list[tuple[str, Command]]:
    """(project id, command) for each server on ``hosts`` whose time has come."""
    out: list[tuple[str, Command]] = []
    for setting, vm_state, since, command in _RULES:
        seconds = getattr(settings, setting)
        if seconds <= 0:
            continue
        rows = await server_queries.idle_since(conn, hosts, vm_state, since, float(seconds))
        out.extend((r["project_id"], command(r["id"], r["host"])) for r in rows)
    return out


async def to_sync(conn: asyncpg.Connection, hosts: list[str]) -> list[tuple[str, str]]:
    """(server id, host) of the servers on ``hosts`` whose power state the power-state
    sync checks: those with no task in progress, in a state with a power expectation."""
    rows = await server_queries.idle_in_states(conn, hosts, ["active", "paused", "stopped"])
    return [(r["id"], r["host"]) for r in rows]
