"""API version documents: GET / (all versions) and GET /v2.1 (this version)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from control_plane.api import common
from control_plane.api.microversion import MAX_VERSION, MIN_VERSION

MEDIA_TYPES = [{"base": "application/json",
                "type": "application/vnd.openstack.compute+json;version=2.1"}]


def _v21(root: str) -> dict[str, Any]:
    return {
        "id": "v2.1", "status": "CURRENT", "version": str(MAX_VERSION),
        "min_version": str(MIN_VERSION), "updated": "2013-07-23T11:33:21Z",
        "links": [{"rel": "self", "href": f"{root}v2.1/"}],
    }


def _v20(root: str) -> dict[str, Any]:
    return {
        "id": "v2.0", "status": "SUPPORTED", "version": "", "min_version": "",
        "updated": "2011-01-21T11:33:21Z",
        "links": [{"rel": "self", "href": f"{root}v2/"}],
    }


async def index(request: Request) -> Response:
    root = common.base_url(request)
    return common.JSON({"versions": [_v20(root), _v21(root)]})


async def show_v21(request: Request) -> Response:
    root = common.base_url(request)
    doc = _v21(root)
    doc["links"] = [
        {"rel": "self", "href": f"{root}v2.1/"},
        {"rel": "describedby", "type": "text/html",
         "href": "http://docs.openstack.org/"},
    ]
    doc["media-types"] = MEDIA_TYPES
    return common.JSON({"version": doc})


async def show_v20(request: Request) -> Response:
    root = common.base_url(request)
    doc = _v20(root)
    doc["links"] = [
        {"rel": "self", "href": f"{root}v2/"},
        {"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"},
    ]
    doc["media-types"] = [{"base": "application/json",
                           "type": "application/vnd.openstack.compute+json;version=2"}]
    return common.JSON({"version": doc})
