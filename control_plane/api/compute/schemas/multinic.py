"""JSON Schemas for the addFixedIp and removeFixedIp server actions."""

from __future__ import annotations

from typing import Any

from control_plane.api.compute.schemas.attach_interfaces import ip_address

add_fixed_ip: dict[str, Any] = {
    "type": "object",
    "properties": {
        "addFixedIp": {
            "type": "object",
            "properties": {
                "networkId": {"type": ["string", "number"], "minLength": 1,
                              "maxLength": 36},
            },
            "required": ["networkId"],
            "additionalProperties": False,
        },
    },
    "required": ["addFixedIp"],
    "additionalProperties": False,
}

remove_fixed_ip: dict[str, Any] = {
    "type": "object",
    "properties": {
        "removeFixedIp": {
            "type": "object",
            "properties": {"address": ip_address},
            "required": ["address"],
            "additionalProperties": False,
        },
    },
    "required": ["removeFixedIp"],
    "additionalProperties": False,
}
