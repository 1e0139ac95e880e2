"""/identity and /identity/v3: Keystone's version documents (no token needed)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from control_plane.api import common
from control_plane.api.identity.keystone import keystone, v3

UPDATED = "2024-01-01T00:00:00Z"


def version_doc(request: Request) -> dict[str, Any]:
    return {"id": "v3.14", "status": "stable", "updated": UPDATED,
            "links": [{"rel": "self", "href": f"{v3(request)}/"}],
            "media-types": [{"base": "application/json",
                             "type": "application/vnd.openstack.identity-v3+json"}]}


@keystone
async def versions(request: Request) -> Response:
    return common.JSON({"versions": {"values": [version_doc(request)]}}, status_code=300)


@keystone
async def version(request: Request) -> Response:
    return common.JSON({"version": version_doc(request)})

