"""JSON Schemas for /servers/{id}/os-interface (Nova's, 2.1 to 2.48: no ``tag``)."""

from __future__ import annotations

from typing import Any

ip_address: dict[str, Any] = {"type": "string", "oneOf": [{"format": "ipv4"},
                                                           {"format": "ipv6"}]}

create: dict[str, Any] = {
    "type": "object",
    "properties": {
        "interfaceAttachment": {
            "type": "object",
            "properties": {
                "net_id": {"type": "string", "format": "uuid"},
                "port_id": {"type": "string", "format": "uuid"},
                "fixed_ips": {
                    "type": "array", "minItems": 1, "maxItems": 1,
                    "items": {
                        "type": "object",
                        "properties": {"ip_address": ip_address},
                        "required": ["ip_address"],
                        "additionalProperties": False,
                    },
                },
            },
            "additionalProperties": False,
        },
    },
    "additionalProperties": False,
}
