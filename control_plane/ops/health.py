"""Readiness: can this process serve requests right now?

Each check is reported on its own: the database answers ``SELECT 1`` within a short
timeout; every schema migration this code knows is applied; no projection is paused
or further behind the head of the log than the configured limit (the API reads
projections, so a far-behind one means stale answers); no projection or follower has
events it could not handle (dead letters); every follower that has announced itself
(its ``liveness`` row) is up and not too far behind. Everything comes from one query,
the same that feeds the metrics (``positions``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from control_plane.store import schema_migrations as migrations

POSITIONS = """
SELECT h.position AS head,
  (SELECT coalesce(jsonb_object_agg(t.name, jsonb_build_array(t.position, t.paused)), '{}')
     FROM tracking t WHERE t.name LIKE 'projection:%' OR t.name LIKE 'follower:%')
     AS tracked,
  (SELECT coalesce(jsonb_object_agg(d.consumer, d.n), '{}') FROM (
     SELECT consumer, count(*) AS n FROM dead_letters WHERE status = 'failed'
     GROUP BY consumer) d) AS dead,
  (SELECT coalesce(jsonb_object_agg(l.name, extract(epoch FROM now() - l.seen_at)), '{}')
     FROM liveness l) AS seen
FROM event_head h
"""


@dataclass(frozen=True)
class Positions:
    head: int
    tracked: dict[str, tuple[int, bool]]  # tracking name -> (position, paused)
    dead_letters: dict[str, int] = field(default_factory=dict)  # consumer -> failed events
    seen: dict[str, float] = field(default_factory=dict)  # follower -> seconds since a beat

    def projection_lag(self, names: Sequence[str]) -> dict[str, int]:
        return {n: self.head - self.tracked.get(f"projection:{n}", (0, False))[0]
                for n in names}

    def paused(self, names: Sequence[str]) -> list[str]:
        return [n for n in names if self.tracked.get(f"projection:{n}", (0, False))[1]]

    def follower_lag(self) -> dict[str, int]:
        return {n: self.head - self.tracked.get(f"follower:{n}", (0, False))[0]
                for n in self.seen}


async def positions(conn: asyncpg.Connection) -> Positions:
    """The log's head, the tracked positions of projections and followers, the open dead
    letters and the followers' liveness (one query)."""
    row = await conn.fetchrow(POSITIONS)
    if row is None:
        return Positions(0, {})
    return Positions(int(row["head"]),
                     {k: (int(v[0]), bool(v[1])) for k, v in row["tracked"].items()},
                     {k: int(v) for k, v in row["dead"].items()},
                     {k: float(v) for k, v in row["seen"].items()})


@dataclass
class Readiness:
    ready: bool
    checks: dict[str, dict[str, Any]]

    def body(self) -> dict[str, Any]:
        return {"status": "ready" if self.ready else "unavailable", "checks": self.checks}


async def readiness(pool: asyncpg.Pool, projections: Sequence[str], *, max_lag: int,
                    timeout: float, down_after: float = 60.0,
                    local_followers: dict[str, str] | None = None) -> Readiness:
    """Check the database, the migrations, the projections, the dead letters and the
    followers (``max_lag < 0``: lag is reported but never makes the process unready).
    ``local_followers`` (name -> state) are this process's own: one that is
    reconnecting is down whatever its last beat said."""
    checks: dict[str, dict[str, Any]] = {}
    expected = max(v for v, _ in migrations.MIGRATIONS)
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout), pool.acquire() as conn:
            await conn.fetchval("SELECT 1")
            latency = time.perf_counter() - started
            applied = await conn.fetchval("SELECT max(version) FROM schema_migrations")
            pos = await positions(conn)
    except Exception as exc:  # any failure to reach the database makes us unready
        reason = "timed out" if isinstance(exc, TimeoutError) else \
            f"{type(exc).__name__}: {exc}"
        checks["database"] = {"ok": False, "error": reason}
        for name in ("migrations", "projections", "dead_letters", "followers"):
            checks[name] = {"ok": False, "error": "database unavailable"}
        return Readiness(False, checks)
    checks["database"] = {"ok": True, "latency_ms": round(latency * 1000, 2)}
    checks["migrations"] = {"ok": applied is not None and applied >= expected,
                            "applied": applied, "expected": expected}
    lag = pos.projection_lag(projections)
    behind = sorted(n for n, v in lag.items() if max_lag >= 0 and v > max_lag)
    paused = pos.paused(projections)
    checks["projections"] = {"ok": not behind and not paused, "head": pos.head,
                             "max_lag": max_lag, "lag": lag, "behind": behind,
                             "paused": paused}
    checks["dead_letters"] = {"ok": not pos.dead_letters, "failed": pos.dead_letters}
    checks["followers"] = followers_check(pos, max_lag, down_after, local_followers or {})
    return Readiness(all(c["ok"] for c in checks.values()), checks)


def followers_check(pos: Positions, max_lag: int, down_after: float,
                    local: dict[str, str]) -> dict[str, Any]:
    seen = dict(pos.seen)
    down = sorted({n for n, age in seen.items() if age > down_after}
                  | {n for n, state in local.items() if state == "reconnecting"})
    lag = pos.follower_lag()
    behind = sorted(n for n, v in lag.items() if max_lag >= 0 and v > max_lag)
    return {"ok": not down and not behind, "down": down, "behind": behind, "lag": lag,
            "seconds_since_beat": {n: round(v, 1) for n, v in seen.items()},
            "here": local}
