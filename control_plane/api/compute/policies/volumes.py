"""Policy defaults of /os-volumes, /os-snapshots, /os-volume-types and assisted volume
snapshots (Nova's volumes.py, assisted_volume_snapshots.py)."""

from __future__ import annotations

from control_plane.api.compute.policies.base import MEMBER, READER, SERVICE, Section

SECTIONS: list[Section] = [
    ("os_compute_api:", "", [
        ("os-assisted-volume-snapshots:create", SERVICE, "POST /os-assisted-volume-snapshots"),
        ("os-assisted-volume-snapshots:delete", SERVICE,
         "DELETE /os-assisted-volume-snapshots/{snapshot_id}"),
    ]),
    ("os_compute_api:os-volumes:", "", [
        ("list", READER, "GET /os-volumes"),
        ("detail", READER, "GET /os-volumes/detail"),
        ("show", READER, "GET /os-volumes/{volume_id}"),
        ("create", MEMBER, "POST /os-volumes"),
        ("delete", MEMBER, "DELETE /os-volumes/{volume_id}"),
        ("snapshots:list", READER, "GET /os-snapshots"),
        ("snapshots:detail", READER, "GET /os-snapshots/detail"),
        ("snapshots:show", READER, "GET /os-snapshots/{snapshot_id}"),
        ("snapshots:create", MEMBER, "POST /os-snapshots"),
        ("snapshots:delete", MEMBER, "DELETE /os-snapshots/{snapshot_id}"),
    ]),
    # Not a Nova API: os-volume-types is in the 2016 reference only (a read of Cinder's
    # volume types); named like the os-volumes reads, with the same defaults.
    ("os_compute_api:os-volume-types:", "/os-volume-types", [
        ("list", READER, "GET"),
        ("show", READER, "GET /{volume_type_id}"),
    ]),
]
