"""JSON Schemas for flavor manage, flavor access and extra specs requests."""

from __future__ import annotations

from typing import Any

_name: dict[str, Any] = {
    "type": "string", "minLength": 1, "maxLength": 255,
    "pattern": r"^(?![\s])[\s\S]*(?<![\s])$",
}
_int_like: dict[str, Any] = {"type": ["integer", "string"]}

create: dict[str, Any] = {
    "type": "object",
    "properties": {
        "flavor": {
            "type": "object",
            "properties": {
                "name": _name,
                "id": {  # Nova takes integers too (tempest sends them)
                    "type": ["string", "integer", "null"], "minLength": 1, "maxLength": 255,
                    "pattern": r"^(?! )[a-zA-Z0-9. _-]+(?<! )$",
                },
                "ram": _int_like,
                "vcpus": _int_like,
                "disk": _int_like,
                "OS-FLV-EXT-DATA:ephemeral": _int_like,
                "swap": _int_like,
                "rxtx_factor": {"type": ["number", "string"]},
                "os-flavor-access:is_public": {"type": ["boolean", "string"]},
            },
            "required": ["name", "ram", "vcpus", "disk"],
            "additionalProperties": False,
        },
    },
    "required": ["flavor"],
    "additionalProperties": False,
}

_tenant: dict[str, Any] = {
    "type": "object",
    "properties": {"tenant": {"type": "string", "minLength": 1, "maxLength": 255}},
    "required": ["tenant"],
    "additionalProperties": False,
}

access_action: dict[str, Any] = {
    "type": "object",
    "properties": {"addTenantAccess": _tenant, "removeTenantAccess": _tenant},
    "minProperties": 1,
    "maxProperties": 1,
    "additionalProperties": False,
}

_spec_key = r"^[a-zA-Z0-9-_:. ]{1,255}$"
_spec_value: dict[str, Any] = {"type": ["string", "number"], "maxLength": 255}

extra_specs: dict[str, Any] = {
    "type": "object",
    "properties": {
        "extra_specs": {
            "type": "object",
            "patternProperties": {_spec_key: _spec_value},
            "additionalProperties": False,
        },
    },
    "required": ["extra_specs"],
    "additionalProperties": False,
}

extra_spec_item: dict[str, Any] = {
    "type": "object",
    "patternProperties": {_spec_key: _spec_value},
    "additionalProperties": False,
    "minProperties": 1,
    "maxProperties": 1,
}
