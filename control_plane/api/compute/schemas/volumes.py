"""JSON Schemas for os-volumes and os-snapshots requests (Nova's, for the 2.1 proxy API)."""

from __future__ import annotations

from typing import Any

from control_plane.api.compute.schemas import types
from control_plane.api.compute.schemas.server_lifecycle import boolean

create: dict[str, Any] = {
    "type": "object",
    "properties": {
        "volume": {
            "type": "object",
            "properties": {
                "volume_type": types.string(),
                "metadata": types.metadata,
                "snapshot_id": types.string(),
                # a volume's size is an int, as Cinder's own column
                "size": types.int_like(1),
                "availability_zone": types.string(),
                "display_name": types.string(),
                "display_description": types.string(),
            },
            "required": ["size"],
            "additionalProperties": False,
        },
    },
    "required": ["volume"],
    "additionalProperties": False,
}

snapshot_create: dict[str, Any] = {
    "type": "object",
    "properties": {
        "snapshot": {
            "type": "object",
            "properties": {
                "volume_id": types.string(),
                "force": boolean,
                "display_name": types.string(),
                "display_description": types.string(),
            },
            "required": ["volume_id"],
            "additionalProperties": False,
        },
    },
    "required": ["snapshot"],
    "additionalProperties": False,
}
