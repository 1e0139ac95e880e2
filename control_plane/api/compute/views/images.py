"""The body of an image as Nova's image proxy (/images) shows it: Nova's status and
progress for the catalog's status, the links (with the image service's own), the
snapshot's server."""

from __future__ import annotations

from typing import Any

import asyncpg
from starlette.requests import Request

from control_plane.api import common

# the catalog's status -> Nova's (the list's status filter reads it backwards)
STATUS = {"active": "ACTIVE", "queued": "SAVING", "saving": "SAVING", "deleted": "DELETED",
          "pending_delete": "DELETED", "killed": "ERROR"}
_PROGRESS = {"active": 100, "queued": 25, "saving": 50}


def _glance_url(request: Request) -> str:
    """The image endpoint (``CONTROL_PLANE_IMAGE_PUBLIC_ENDPOINT``), else Nova's default
    glance endpoint: http://<glance host>:9292 (the API host here)."""
    endpoint = common.deps(request).settings.image_public_endpoint
    if endpoint:
        return endpoint.rstrip("/")
    host = request.url.hostname or "localhost"
    return f"http://[{host}]:9292" if ":" in host else f"http://{host}:9292"


def render(request: Request, row: asyncpg.Record, detail: bool = True) -> dict[str, Any]:
    iid = str(row["id"])
    links = common.links(request, "images", iid)
    links.append({"rel": "alternate", "type": "application/vnd.openstack.image",
                  "href": f"{_glance_url(request)}/images/{iid}"})
    out: dict[str, Any] = {"id": iid, "name": row["name"], "links": links}
    if detail:
        status = STATUS.get(row["status"], "UNKNOWN")
        out.update({
            "status": status, "progress": _PROGRESS.get(row["status"], 0),
            "minRam": row["min_ram"], "minDisk": row["min_disk"],
            "metadata": row["metadata"],
            "created": common.isotime(row["created_at"]),
            "updated": common.isotime(row["updated_at"]),
            "OS-EXT-IMG-SIZE:size": row["size"],
        })
        if row["server_id"]:
            out["server"] = {"id": row["server_id"],
                             "links": common.links(request, "servers", row["server_id"])}
    return out
