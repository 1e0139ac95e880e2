"""JSON Schemas for the rescue, password, deferred-delete and move actions."""

from __future__ import annotations

from typing import Any

# Nova's parameter_types.boolean: JSON booleans or the strings oslo's strutils accepts
boolean: dict[str, Any] = {
    "type": ["boolean", "string"],
    "enum": [True, "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes",
             False, "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no"],
}
admin_password: dict[str, Any] = {"type": "string"}
host_name: dict[str, Any] = {"type": ["string", "null"], "minLength": 1, "maxLength": 255,
                             "pattern": r"^[a-zA-Z0-9\-._]*$"}


def _action(key: str, properties: dict[str, Any], required: list[str] | None = None,
            nullable: bool = False) -> dict[str, Any]:
    inner: dict[str, Any] = {"type": ["object", "null"] if nullable else "object",
                             "properties": properties, "additionalProperties": False}
    if required:
        inner["required"] = required
    return {"type": "object", "properties": {key: inner}, "required": [key],
            "additionalProperties": False}


rescue = _action("rescue", {"adminPass": admin_password,
                            "rescue_image_ref": {"type": "string", "format": "uuid"}},
                 nullable=True)
change_password = _action("changePassword", {"adminPass": admin_password}, ["adminPass"])
migrate_live = _action("os-migrateLive", {"host": host_name, "block_migration": boolean,
                                          "disk_over_commit": boolean},
                       ["host", "block_migration", "disk_over_commit"])
# onSharedStorage: required before 2.14, gone from 2.14 (the handler checks which)
evacuate = _action("evacuate", {"host": host_name, "onSharedStorage": boolean,
                                "adminPass": admin_password})
