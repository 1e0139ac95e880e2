"""JSON Schemas for server requests (2.1; later versions add variants, never edits)."""

from __future__ import annotations

from typing import Any

name: dict[str, Any] = {
    "type": "string", "minLength": 1, "maxLength": 255,
    "pattern": r"^(?![\s])[\s\S]*(?<![\s])$",
}
metadata: dict[str, Any] = {
    "type": "object",
    "patternProperties": {
        "^[a-zA-Z0-9-_:. ]{1,255}$": {"type": "string", "maxLength": 255},
    },
    "additionalProperties": False,
}
ipv4: dict[str, Any] = {"type": "string", "format": "ipv4"}
ipv6: dict[str, Any] = {"type": "string", "format": "ipv6"}
disk_config: dict[str, Any] = {"type": "string", "enum": ["AUTO", "MANUAL"]}
positive_int: dict[str, Any] = {
    "type": ["integer", "string"], "pattern": "^[0-9]*$", "minimum": 1, "minLength": 1,
}

_bdm_v2: dict[str, Any] = {
    "type": "object",
    "properties": {
        "uuid": {"type": "string"},
        "source_type": {"type": "string", "enum": ["volume", "image", "snapshot", "blank"]},
        "destination_type": {"type": "string", "enum": ["local", "volume"]},
        "boot_index": {"type": ["integer", "string", "null"]},
        "delete_on_termination": {"type": ["boolean", "string"]},
        "volume_size": {"type": ["integer", "string", "null"]},
        "device_name": {"type": "string"},
        "device_type": {"type": "string"},
        "disk_bus": {"type": "string"},
        "guest_format": {"type": "string"},
        "no_device": {},
        "tag": {"type": "string"},
        "volume_type": {"type": ["string", "null"]},
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
                "imageRef": {"type": "string"},
                "flavorRef": {"type": ["string", "integer"], "minLength": 1},
                "adminPass": {"type": "string"},
                "metadata": metadata,
                "networks": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "fixed_ip": {"type": "string"},
                            "port": {"type": ["string", "null"]},
                            "uuid": {"type": "string"},
                        },
                        "additionalProperties": False,
                    },
                },
                "OS-DCF:diskConfig": disk_config,
                "accessIPv4": ipv4,
                "accessIPv6": ipv6,
                "personality": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"path": {"type": "string"},
                                       "contents": {"type": "string"}},
                        "additionalProperties": False,
                    },
                },
                "key_name": {"type": "string", "minLength": 1, "maxLength": 255},
                "availability_zone": {"type": "string", "minLength": 1, "maxLength": 255},
                "block_device_mapping": {"type": "array"},
                "block_device_mapping_v2": {"type": "array", "items": _bdm_v2},
                "config_drive": {"type": ["boolean", "string"]},
                "min_count": positive_int,
                "max_count": positive_int,
                "return_reservation_id": {"type": ["boolean", "string"]},
                "security_groups": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"name": {"type": "string"}},
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
