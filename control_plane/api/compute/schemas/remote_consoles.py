"""JSON Schemas of the remote console actions (2.1-2.5) and POST remote-consoles (2.6+)."""

from __future__ import annotations

import copy
from typing import Any


def console_action(action: str, types: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {action: {
            "type": "object",
            "properties": {"type": {"type": "string", "enum": types}},
            "required": ["type"],
            "additionalProperties": False,
        }},
        "required": [action],
        "additionalProperties": False,
    }


get_vnc_console = console_action("os-getVNCConsole", ["novnc", "xvpvnc"])
get_spice_console = console_action("os-getSPICEConsole", ["spice-html5"])
get_rdp_console = console_action("os-getRDPConsole", ["rdp-html5"])
get_serial_console = console_action("os-getSerialConsole", ["serial"])

create_v26: dict[str, Any] = {
    "type": "object",
    "properties": {
        "remote_console": {
            "type": "object",
            "properties": {
                "protocol": {"type": "string", "enum": ["vnc", "spice", "rdp", "serial"]},
                "type": {"type": "string", "enum": ["novnc", "xvpvnc", "rdp-html5",
                                                    "spice-html5", "serial"]},
            },
            "required": ["protocol", "type"],
            "additionalProperties": False,
        },
    },
    "required": ["remote_console"],
    "additionalProperties": False,
}

create_v28 = copy.deepcopy(create_v26)
create_v28["properties"]["remote_console"]["properties"]["protocol"]["enum"].append("mks")
create_v28["properties"]["remote_console"]["properties"]["type"]["enum"].append("webmks")
