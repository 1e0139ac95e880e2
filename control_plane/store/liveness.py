"""The ``liveness`` table: each running follower's heartbeat (and the hosts it serves).

A follower beats once a second on the connection that holds its lock, so a fresh row
proves both that it runs and that it still holds the lock; health checks and the
scheduler read these rows to tell live compute hosts from dead ones. The beat also
collects the follower's dead letters an operator asked to try again.
"""

from __future__ import annotations

import asyncpg

_BEAT = (
    "WITH beat AS (INSERT INTO liveness (name, hosts) VALUES ($1, $2)"
    " ON CONFLICT (name) DO UPDATE SET hosts = EXCLUDED.hosts, seen_at = now())"
    " UPDATE dead_letters SET status = 'failed' WHERE consumer = $3 AND status = 'retry'"
    " RETURNING position"
)


async def beat(conn: asyncpg.Connection, name: str, hosts: list[str], consumer: str
               ) -> list[int]:
    """Write the follower's heartbeat; returns the positions of the dead letters of
    ``consumer`` to try again (they are open again from now on)."""
    return [r["position"] for r in await conn.fetch(_BEAT, name, hosts, consumer)]


async def forget(conn: asyncpg.Connection, name: str) -> None:
    """A clean stop: the follower (and its hosts) is down from now on."""
    await conn.execute("DELETE FROM liveness WHERE name = $1", name)
