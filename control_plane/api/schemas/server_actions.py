"""JSON Schemas for POST /servers/{id}/action bodies (one key each)."""

from __future__ import annotations

from typing import Any

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


def no_argument(action: str) -> dict[str, Any]:
    """Actions without arguments: Nova takes null or an (ignored) object, as clients send."""
    return {
        "type": "object",
        "properties": {action: {"type": ["null", "object"]}},
        "required": [action],
        "additionalProperties": False,
    }
