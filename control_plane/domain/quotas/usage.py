"""A project's quota usage: what each of its live servers holds (instances, cores, ram).

Quotas are an invariant across many servers, so they cannot be checked on a view
that lags or races: two creates reading "9 of 10 used" would both be accepted.
Instead every project has one usage stream. A create, a resize up or a delete
appends to it in the same atomic append as the server events it guards, with the
stream's expected version; a racing writer clashes and retries on fresh usage.

Holdings are keyed by server id, so claiming again or releasing twice changes
nothing (the events are idempotent). While a resize is pending a server holds the
larger of its old and new flavors per resource (Nova claims the increase when it
accepts the resize); confirming keeps the new flavor's, reverting the old one's.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from eventsourcing.domain import Aggregate

from control_plane.domain.base import stable_id
from control_plane.domain.errors import QuotaExceeded

RESOURCES = ("instances", "cores", "ram")

Holding = dict[str, int]


def usage_stream_id(project_id: str) -> uuid.UUID:
    return stable_id("project-usage", project_id)


def flavor_holding(*flavors: dict[str, Any] | None) -> Holding:
    """What a server of these flavors holds: one instance, the largest cores and ram."""
    present = [f for f in flavors if f]
    return {"instances": 1, "cores": max(int(f["vcpus"]) for f in present),
            "ram": max(int(f["ram"]) for f in present)}


def server_holding(server: Any) -> Holding | None:
    """What a Server aggregate holds now (None once it is deleted)."""
    if server.deleted:
        return None
    return flavor_holding(server.flavor, getattr(server, "new_flavor", None))


class ProjectUsage(Aggregate):
    TOPIC = "ProjectUsage"
    SNAPSHOT_EVERY = 50  # a claim and a release per server the project has run
    # read on every create: kept in the process after use (control_plane.service.uow); the
    # events below replace ``holdings``, never change it in place, as that requires
    KEEP_RECENT = True

    class Created(Aggregate.Created):
        """The stream's first event; ``holdings`` are the servers the project had then."""

        TOPIC = "ProjectUsageOpened"
        project_id: str
        holdings: dict[str, dict[str, int]]

        def apply(self, u: ProjectUsage) -> None:
            u.project_id = self.project_id
            u.holdings = {k: dict(v) for k, v in self.holdings.items()}

    class Claimed(Aggregate.Event):
        TOPIC = "ProjectUsageClaimed"
        holdings: dict[str, dict[str, int]]  # server id -> what it holds from now on

        def apply(self, u: ProjectUsage) -> None:
            u.holdings = {**u.holdings, **{k: dict(v) for k, v in self.holdings.items()}}

    class Released(Aggregate.Event):
        TOPIC = "ProjectUsageReleased"
        servers: list[str]

        def apply(self, u: ProjectUsage) -> None:
            u.holdings = {k: v for k, v in u.holdings.items() if k not in self.servers}

    project_id: str
    holdings: dict[str, dict[str, int]]

    def __init__(self) -> None:
        pass

    @classmethod
    def open(cls, project_id: str, holdings: dict[str, Holding], now: dt.datetime
             ) -> ProjectUsage:
        return cls._create(cls.Created, id=usage_stream_id(project_id), project_id=project_id,
                           holdings=holdings, timestamp=now)

    def used(self, *, without: str | None = None) -> Holding:
        total = dict.fromkeys(RESOURCES, 0)
        for server_id, held in self.holdings.items():
            if server_id != without:
                for res in RESOURCES:
                    total[res] += held.get(res, 0)
        return total

    def fit(self, per: Holding, min_count: int, max_count: int, limits: dict[str, int]) -> int:
        """How many servers of ``per`` (between min and max) fit; 403 if not min_count."""
        used = self.used()
        allowed = max_count
        for res in RESOURCES:
            if limits[res] >= 0 and per[res]:
                allowed = min(allowed, (limits[res] - used[res]) // per[res])
        if allowed < min_count:
            res = next(r for r in RESOURCES
                       if limits[r] >= 0 and used[r] + per[r] * min_count > limits[r])
            raise QuotaExceeded(
                f"Quota exceeded for {res}: Requested {per[res] * min_count}, but already "
                f"used {used[res]} of {limits[res]} {res}")
        return allowed

    def claim(self, holdings: dict[str, Holding], now: dt.datetime) -> None:
        """Record what servers hold (no check: ``fit`` or ``hold`` decided)."""
        changed = {k: v for k, v in holdings.items() if self.holdings.get(k) != v}
        if changed:
            self.trigger_event(self.Claimed, holdings=changed, timestamp=now)

    def hold(self, server_id: str, held: Holding | None, now: dt.datetime,
             limits: dict[str, int] | None = None) -> None:
        """Set what one server holds (None: release it). With ``limits``, an increase
        must fit (403 naming the first resource over, with the increase requested)."""
        if held is None:
            if server_id in self.holdings:
                self.trigger_event(self.Released, servers=[server_id], timestamp=now)
            return
        before = self.holdings.get(server_id, dict.fromkeys(RESOURCES, 0))
        if limits is not None:
            used = self.used()
            for res in RESOURCES:
                delta = held[res] - before.get(res, 0)
                if limits[res] >= 0 and delta > 0 and used[res] + delta > limits[res]:
                    raise QuotaExceeded(f"Quota exceeded for {res}: Requested {delta}, but "
                                        f"already used {used[res]} of {limits[res]} {res}")
        self.claim({server_id: held}, now)
