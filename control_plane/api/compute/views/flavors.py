"""The body of a flavor as /flavors shows it (brief in the list, full in detail, show and
the flavor manage and access responses)."""

from __future__ import annotations

from typing import Any

import asyncpg
from starlette.requests import Request

from control_plane.api import common


def render(request: Request, row: asyncpg.Record, detail: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row["flavorid"], "name": row["name"],
        "links": common.links(request, "flavors", row["flavorid"]),
    }
    if detail:
        out.update({
            "ram": row["ram"], "disk": row["disk"], "vcpus": row["vcpus"],
            "OS-FLV-EXT-DATA:ephemeral": row["ephemeral"],
            "OS-FLV-DISABLED:disabled": row["disabled"],
            "swap": row["swap"] or "",
            "rxtx_factor": row["rxtx_factor"],
            "os-flavor-access:is_public": row["is_public"],
        })
    return out
