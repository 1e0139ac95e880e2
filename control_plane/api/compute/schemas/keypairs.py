"""JSON Schemas for keypair requests: 2.1, 2.2 (type), 2.10 (user_id)."""

from __future__ import annotations

import copy
from typing import Any

_name: dict[str, Any] = {
    "type": "string", "minLength": 1, "maxLength": 255,
    "pattern": r"^(?![\s])[\s\S]*(?<![\s])$",
}

create: dict[str, Any] = {
    "type": "object",
    "properties": {
        "keypair": {
            "type": "object",
            "properties": {"name": _name, "public_key": {"type": "string"}},
            "required": ["name"],
            "additionalProperties": False,
        },
    },
    "required": ["keypair"],
    "additionalProperties": False,
}

create_v22 = copy.deepcopy(create)
create_v22["properties"]["keypair"]["properties"]["type"] = {
    "type": "string", "enum": ["ssh", "x509"],
}

create_v210 = copy.deepcopy(create_v22)
create_v210["properties"]["keypair"]["properties"]["user_id"] = {"type": "string",
                                                                "maxLength": 255}
