"""JSON Schema of the os-getConsoleOutput action."""

from __future__ import annotations

from typing import Any

get_console_output: dict[str, Any] = {
    "type": "object",
    "properties": {
        "os-getConsoleOutput": {
            "type": "object",
            "properties": {
                "length": {
                    # an integer, a string of one, or null (all); -1 also means all
                    "type": ["integer", "string", "null"],
                    "pattern": "^-?[0-9]+$",
                    "minimum": -1,
                    "maximum": 2**31 - 1,
                },
            },
            "additionalProperties": False,
        },
    },
    "required": ["os-getConsoleOutput"],
    "additionalProperties": False,
}
