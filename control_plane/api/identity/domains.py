"""/identity/v3/domains: the one domain this identity service has ("default"),
readable with any token."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from control_plane.access.authentication import DEFAULT_DOMAIN
from control_plane.api import common
from control_plane.api.faults import NotFound
from control_plane.api.identity.keystone import collection, keystone, v3, validated


def _domain(request: Request) -> dict[str, Any]:
    return {**DEFAULT_DOMAIN, "description": "The default domain", "enabled": True,
            "tags": [], "options": {}, "links": {"self": f"{v3(request)}/domains/default"}}


@keystone
async def index(request: Request) -> Response:
    await validated(request)
    return collection(request, "domains", [_domain(request)])


@keystone
async def show(request: Request) -> Response:
    await validated(request)
    if request.path_params["domain_id"] != "default":
        raise NotFound(f"Could not find domain: {request.path_params['domain_id']}.")
    return common.JSON({"domain": _domain(request)})

