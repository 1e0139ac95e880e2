"""JSON Schemas for server requests (2.1; later versions add variants, never edits)."""

from __future__ import annotations

from typing import Any

from control_plane.api.compute.schemas import types
from control_plane.api.compute.schemas.attach_interfaces import ip_address

name: dict[str, Any] = {
    "type": "string", "minLength": 1, "maxLength": 255,
    "pattern": r"^(?![\s])[\s\S]*(?<![\s])$",
}
metadata: dict[str, Any] = types.metadata
ipv4: dict[str, Any] = {"type": "string", "format": "ipv4"}
ipv6: dict[str, Any] = {"type": "string", "format": "ipv6"}
disk_config: dict[str, Any] = {"type": "string", "enum": ["AUTO", "MANUAL"]}
positive_int: dict[str, Any] = {
    "type": ["integer", "string"], "pattern": "^[0-9]*$", "minimum": 1, "minLength": 1,
    "maximum": types.INT32_MAX,
}
image_ref: dict[str, Any] = types.string()
flavor_ref: dict[str, Any] = {"type": ["string", "integer"], "minLength": 1, "maxLength": 255,
                              "minimum": 0, "maximum": 2**63 - 1}

_bdm_v2: dict[str, Any] = {
    "type": "object",
    "properties": {
        "uuid": {"type": "string", "minLength": 1, "maxLength": 255,
                 "pattern": "^[a-zA-Z0-9._-]*$"},
        "source_type": {"type": "string", "enum": ["volume", "image", "snapshot", "blank"]},
        "destination_type": {"type": "string", "enum": ["local", "volume"]},
        "boot_index": {"type": ["integer", "string", "null"], "pattern": "^-?[0-9]+$",
                       "minimum": -types.INT32_MAX - 1, "maximum": types.INT32_MAX},
        "delete_on_termination": {"type": ["boolean", "string"], "maxLength": 255},
        "volume_size": {"type": ["integer", "string", "null"], "pattern": "^[0-9]+$",
                        "minimum": 1, "maximum": types.INT32_MAX},
        "device_name": {"type": "string", "minLength": 1, "maxLength": 255,
                        "pattern": "^[a-zA-Z0-9._/-]*$"},
        "device_type": types.string(),
        "disk_bus": types.string(),
        "guest_format": types.string(),
        "no_device": {},
        "tag": types.string(60),
        "volume_type": {"type": ["string", "null"], "maxLength": 255},
    },
    "additionalProperties": False,
}

create: dict[str, Any] = {
    "type": "object",
    "properties": {
        "server": {
            "type": "object",
            "properties": {
                "name": name,
                "imageRef": image_ref,
                "flavorRef": flavor_ref,
                "adminPass": {"type": "string"},
                "metadata": metadata,
                "networks": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "fixed_ip": ip_address,
                            "port": {"type": ["string", "null"], "maxLength": 255},
                            "uuid": types.string(),
                        },
                        "additionalProperties": False,
                    },
                },
                "OS-DCF:diskConfig": disk_config,
                "accessIPv4": ipv4,
                "accessIPv6": ipv6,
                "personality": types.personality,
                "key_name": {"type": "string", "minLength": 1, "maxLength": 255},
                "availability_zone": {"type": "string", "minLength": 1, "maxLength": 255},
                "block_device_mapping": {"type": "array", "items": {"type": "object"}},
                "block_device_mapping_v2": {"type": "array", "items": _bdm_v2},
                "config_drive": {"type": ["boolean", "string"]},
                "min_count": positive_int,
                "max_count": positive_int,
                "return_reservation_id": {"type": ["boolean", "string"]},
                "security_groups": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"name": types.string()},
                        "additionalProperties": False,
                    },
                },
                "user_data": {"type": "string", "maxLength": 65535},
            },
            "required": ["name", "flavorRef"],
            "additionalProperties": False,
        },
        "os:scheduler_hints": {"type": "object"},
        "OS-SCH-HNT:scheduler_hints": {"type": "object"},
    },
    "required": ["server"],
    "additionalProperties": False,
}

update: dict[str, Any] = {
    "type": "object",
    "properties": {
        "server": {
            "type": "object",
            "properties": {
                "name": name,
                "accessIPv4": ipv4,
                "accessIPv6": ipv6,
                "OS-DCF:diskConfig": disk_config,
            },
            "additionalProperties": False,
        },
    },
    "required": ["server"],
    "additionalProperties": False,
}
