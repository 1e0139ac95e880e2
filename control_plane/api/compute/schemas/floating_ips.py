"""JSON Schemas for the addFloatingIp and removeFloatingIp server actions."""

from __future__ import annotations

from typing import Any

from control_plane.api.compute.schemas.attach_interfaces import ip_address

add_floating_ip: dict[str, Any] = {
    "type": "object",
    "properties": {
        "addFloatingIp": {
            "type": "object",
            "properties": {"address": ip_address, "fixed_address": ip_address},
            "required": ["address"],
            "additionalProperties": False,
        },
    },
    "required": ["addFloatingIp"],
    "additionalProperties": False,
}

remove_floating_ip: dict[str, Any] = {
    "type": "object",
    "properties": {
        "removeFloatingIp": {
            "type": "object",
            "properties": {"address": ip_address},
            "required": ["address"],
            "additionalProperties": False,
        },
    },
    "required": ["removeFloatingIp"],
    "additionalProperties": False,
}
