"""JSON Schemas for image metadata requests."""

from __future__ import annotations

from typing import Any

_items: dict[str, Any] = {
    "type": "object",
    "patternProperties": {"^[a-zA-Z0-9-_:. ]{1,255}$": {"type": "string", "maxLength": 255}},
    "additionalProperties": False,
}

metadata: dict[str, Any] = {
    "type": "object",
    "properties": {"metadata": _items},
    "required": ["metadata"],
    "additionalProperties": False,
}

meta_item: dict[str, Any] = {
    "type": "object",
    "properties": {"meta": {**_items, "minProperties": 1, "maxProperties": 1}},
    "required": ["meta"],
    "additionalProperties": False,
}
