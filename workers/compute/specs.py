"""What a driver is told about a server: its InstanceSpec, built from the Server aggregate
(the admin password unsealed here, so drivers never see sealed secrets)."""

from __future__ import annotations

from typing import Any

from control_plane.access.tokens import unseal
from control_plane.domain.servers.aggregate import Server
from control_plane.domain.servers.network import vifs as vifs_of
from drivers.base import InstanceSpec


def spec_of(server: Server, flavor: dict[str, Any] | None = None, image_ref: str | None = None,
            sealed_pass: str | None = None) -> InstanceSpec:
    """What a driver needs to build the server's guest (the admin password unsealed)."""
    f = flavor or server.flavor
    sealed = getattr(server, "admin_pass", "") if sealed_pass is None else sealed_pass
    return InstanceSpec(
        server_id=str(server.id), name=server.name, vcpus=f["vcpus"], memory_mb=f["ram"],
        disk_gb=f["disk"], image_ref=image_ref or server.image_ref, metadata=server.metadata,
        admin_pass=unseal(sealed) if sealed else None,
        files=tuple((x["path"], x["contents"]) for x in getattr(server, "files", [])),
        vifs=tuple(dict(v) for v in vifs_of(server).values()))

