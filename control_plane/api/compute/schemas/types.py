"""Bounds every request schema shares: what the view columns and events can hold.

An integer that reaches an ``int`` column is at most INT32_MAX; ``minimum`` and
``maximum`` apply to numeric strings too (``common.Validator``, as Nova's). Free
text that reaches a view is at most 255 characters unless the API documents more.
"""

from __future__ import annotations

from typing import Any

INT32_MAX = 2**31 - 1


def string(max_length: int = 255, min_length: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "string", "maxLength": max_length}
    if min_length:
        out["minLength"] = min_length
    return out


def int_like(minimum: int, maximum: int = INT32_MAX, pattern: str = "^[0-9]+$"
             ) -> dict[str, Any]:
    """An integer, or a string of one (as Nova takes both), within [minimum, maximum]."""
    return {"type": ["integer", "string"], "pattern": pattern, "minimum": minimum,
            "maximum": maximum}


# Nova's personality item: a path and base64 contents (the quotas bound both)
personality: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "path": {"type": "string"},
            "contents": {"type": "string", "format": "base64"},
        },
        "additionalProperties": False,
    },
}

# metadata as Nova's and Cinder's: keys of 1-255 characters, values of at most 255
metadata: dict[str, Any] = {
    "type": "object",
    "patternProperties": {
        "^[a-zA-Z0-9-_:. ]{1,255}$": {"type": "string", "maxLength": 255},
    },
    "additionalProperties": False,
}
