"""/os-availability-zone: the zones of the registered compute hosts (and their hosts)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from control_plane.api import common
from control_plane.api.common import P
from projections.hosts import queries as host_queries


async def _zones(request: Request) -> dict[str, list[Any]]:
    async with common.deps(request).pool.acquire() as conn:
        rows = await host_queries.zones(conn)
    zones: dict[str, list[Any]] = {}
    for r in rows:
        zones.setdefault(r["availability_zone"], []).append(r)
    return zones


async def index(request: Request) -> Response:
    zones = await _zones(request)
    info = [{"zoneName": name, "zoneState": {"available": True}, "hosts": None}
            for name in zones]
    return common.JSON({"availabilityZoneInfo": info})


async def detail(request: Request) -> Response:
    zones = await _zones(request)
    info = []
    for name, hosts in zones.items():
        info.append({
            "zoneName": name, "zoneState": {"available": True},
            "hosts": {h["host"]: {"nova-compute": {
                "available": True, "active": True,
                "updated_at": h["updated_at"].replace(tzinfo=None).isoformat(
                    timespec="microseconds")}} for h in hosts},
        })
    return common.JSON({"availabilityZoneInfo": info})


ROUTES: list[BaseRoute] = [
    P("/os-availability-zone", index, "GET", "os_compute_api:os-availability-zone:list"),
    P("/os-availability-zone/detail", detail, "GET", "os_compute_api:os-availability-zone:detail"),
]
