"""Readiness: can this process serve requests right now?

Three checks, each reported on its own: the database answers ``SELECT 1`` within
a short timeout; every schema migration this code knows is applied; no projection
is further behind the head of the log than the configured limit (the API reads
projections, so a far-behind one means stale answers). The projections' lag comes
from the same query that feeds the metrics (``positions``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from control_plane import migrations

POSITIONS = (
    "SELECT h.position AS head, t.name, t.position, t.paused"
    " FROM event_head h LEFT JOIN tracking t"
    " ON t.name LIKE 'projection:%' OR t.name LIKE 'follower:%'"
)


@dataclass(frozen=True)
class Positions:
    head: int
    tracked: dict[str, tuple[int, bool]]  # tracking name -> (position, paused)

    def projection_lag(self, names: Sequence[str]) -> dict[str, int]:
        return {n: self.head - self.tracked.get(f"projection:{n}", (0, False))[0]
                for n in names}

    def paused(self, names: Sequence[str]) -> list[str]:
        return [n for n in names if self.tracked.get(f"projection:{n}", (0, False))[1]]


async def positions(conn: asyncpg.Connection) -> Positions:
    """The log's head and the tracked positions of projections and followers (one query)."""
    rows = await conn.fetch(POSITIONS)
    head = int(rows[0]["head"]) if rows else 0
    return Positions(head, {r["name"]: (int(r["position"]), bool(r["paused"]))
                            for r in rows if r["name"] is not None})


@dataclass
class Readiness:
    ready: bool
    checks: dict[str, dict[str, Any]]

    def body(self) -> dict[str, Any]:
        return {"status": "ready" if self.ready else "unavailable", "checks": self.checks}


async def readiness(pool: asyncpg.Pool, projections: Sequence[str], *, max_lag: int,
                    timeout: float) -> Readiness:
    """Check the database, the migrations and the projections' lag (``max_lag < 0``:
    lag is reported but never makes the process unready)."""
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
        checks["migrations"] = {"ok": False, "error": "database unavailable"}
        checks["projections"] = {"ok": False, "error": "database unavailable"}
        return Readiness(False, checks)
    checks["database"] = {"ok": True, "latency_ms": round(latency * 1000, 2)}
    checks["migrations"] = {"ok": applied is not None and applied >= expected,
                            "applied": applied, "expected": expected}
    lag = pos.projection_lag(projections)
    behind = sorted(n for n, v in lag.items() if max_lag >= 0 and v > max_lag)
    checks["projections"] = {"ok": not behind, "head": pos.head, "max_lag": max_lag,
                             "lag": lag, "behind": behind, "paused": pos.paused(projections)}
    return Readiness(all(c["ok"] for c in checks.values()), checks)
