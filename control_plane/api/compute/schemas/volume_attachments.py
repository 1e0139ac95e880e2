"""JSON Schemas for os-volume_attachments requests (2.1 to 2.48), and the reference's
``attach`` server action."""

from __future__ import annotations

import copy
from typing import Any

# what Nova's block_device.match_device() accepts
device: dict[str, Any] = {"type": ["string", "null"], "maxLength": 255,
                          "pattern": "(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$"}
_volume_id: dict[str, Any] = {"type": "string", "format": "uuid"}

create: dict[str, Any] = {
    "type": "object",
    "properties": {
        "volumeAttachment": {
            "type": "object",
            "properties": {"volumeId": _volume_id, "device": device},
            "required": ["volumeId"],
            "additionalProperties": False,
        },
    },
    "required": ["volumeAttachment"],
    "additionalProperties": False,
}

# before 2.85, PUT only swaps the volume: the new volume's id is all it takes
update = copy.deepcopy(create)
del update["properties"]["volumeAttachment"]["properties"]["device"]

# POST /servers/{id}/action {"attach": ...} as the 2016 reference prints it (1.4.3)
attach_action: dict[str, Any] = {
    "type": "object",
    "properties": {
        "attach": {
            "type": "object",
            "properties": {
                "volume_id": _volume_id,
                "device": device,
                "disk_bus": {"type": ["string", "null"], "maxLength": 255},
                "device_type": {"type": ["string", "null"], "maxLength": 255},
            },
            "required": ["volume_id"],
            "additionalProperties": False,
        },
    },
    "required": ["attach"],
    "additionalProperties": False,
}
