"""JSON Schemas for POST /servers/{id}/action bodies (one key each)."""

from __future__ import annotations

from typing import Any

from control_plane.api.compute.schemas import types

reboot: dict[str, Any] = {
    "type": "object",
    "properties": {
        "reboot": {
            "type": "object",
            "properties": {
                "type": {"type": "string",
                         "pattern": "^(HARD|Hard|hard|SOFT|Soft|soft)$"},
            },
            "required": ["type"],
            "additionalProperties": False,
        },
    },
    "required": ["reboot"],
    "additionalProperties": False,
}


def security_group(action: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {action: {
            "type": "object",
            "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 255}},
            "required": ["name"],
            "additionalProperties": False,
        }},
        "required": [action],
        "additionalProperties": False,
    }


def no_argument(action: str) -> dict[str, Any]:
    """Actions without arguments: Nova takes null or an (ignored) object, as clients send."""
    return {
        "type": "object",
        "properties": {action: {"type": ["null", "object"]}},
        "required": [action],
        "additionalProperties": False,
    }


def rebuild() -> dict[str, Any]:
    from control_plane.api.compute.schemas import servers

    return {
        "type": "object",
        "properties": {
            "rebuild": {
                "type": "object",
                "properties": {
                    "imageRef": servers.image_ref,
                    "name": servers.name,
                    "adminPass": {"type": "string"},
                    "metadata": servers.metadata,
                    "personality": types.personality,
                    "accessIPv4": servers.ipv4,
                    "accessIPv6": servers.ipv6,
                    "OS-DCF:diskConfig": servers.disk_config,
                    "preserve_ephemeral": {"type": "boolean"},
                },
                "required": ["imageRef"],
                "additionalProperties": False,
            },
        },
        "required": ["rebuild"],
        "additionalProperties": False,
    }


resize: dict[str, Any] = {
    "type": "object",
    "properties": {
        "resize": {
            "type": "object",
            "properties": {
                "flavorRef": {"type": ["string", "integer"], "minLength": 1,
                              "maxLength": 255, "minimum": 0, "maximum": 2**63 - 1},
                "OS-DCF:diskConfig": {"type": "string", "enum": ["AUTO", "MANUAL"]},
            },
            "required": ["flavorRef"],
            "additionalProperties": False,
        },
    },
    "required": ["resize"],
    "additionalProperties": False,
}


reset_state: dict[str, Any] = {
    "type": "object",
    "properties": {
        "os-resetState": {
            "type": "object",
            "properties": {"state": {"type": "string", "enum": ["active", "error"]}},
            "required": ["state"],
            "additionalProperties": False,
        },
    },
    "required": ["os-resetState"],
    "additionalProperties": False,
}


def create_image() -> dict[str, Any]:
    from control_plane.api.compute.schemas import servers

    return {
        "type": "object",
        "properties": {"createImage": {
            "type": "object",
            "properties": {"name": servers.name, "metadata": servers.metadata},
            "required": ["name"],
            "additionalProperties": False,
        }},
        "required": ["createImage"],
        "additionalProperties": False,
    }


def create_backup() -> dict[str, Any]:
    from control_plane.api.compute.schemas import servers

    return {
        "type": "object",
        "properties": {"createBackup": {
            "type": "object",
            "properties": {
                "name": servers.name,
                "backup_type": types.string(),
                "rotation": types.int_like(0),
                "metadata": servers.metadata,
            },
            "required": ["name", "backup_type", "rotation"],
            "additionalProperties": False,
        }},
        "required": ["createBackup"],
        "additionalProperties": False,
    }
