"""JSON Schemas for identity (Keystone v3) requests.

Bounds are Keystone's and match what the identity projection stores: ids up to 64
characters, names up to 255, passwords up to 4096 (Keystone's max_password_length),
and no NUL character anywhere (Postgres text and jsonb cannot hold one). Like Keystone,
unknown attributes are tolerated (and not stored); the ones we store are typed.
"""

from __future__ import annotations

from typing import Any

NO_NUL = "^[^\\x00]*$"
# at least one non-blank character, and no NUL
VISIBLE = "^[^\\x00]*[^\\s\\x00][^\\x00]*$"

ID_MAX, NAME_MAX, PASSWORD_MAX, EMAIL_MAX, DESCRIPTION_MAX = 64, 255, 4096, 255, 65535
ROLE_DESCRIPTION_MAX = 255
TOKEN_MAX = 8192  # a Fernet token is a few hundred characters


def string(max_length: int, min_length: int = 0, pattern: str = NO_NUL) -> dict[str, Any]:
    return {"type": "string", "minLength": min_length, "maxLength": max_length,
            "pattern": pattern}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "type": ["string", "null"]}


ID = string(ID_MAX, 1)
NAME = string(NAME_MAX, 1, VISIBLE)
BOOLEAN: dict[str, Any] = {"type": "boolean"}

_domain_ref: dict[str, Any] = {
    "type": "object", "properties": {"id": ID, "name": NAME}}

_user_ref: dict[str, Any] = {
    "type": "object",
    "properties": {"id": ID, "name": NAME, "password": string(PASSWORD_MAX),
                   "domain": _domain_ref},
}

_project_ref: dict[str, Any] = {
    "type": "object", "properties": {"id": ID, "name": NAME, "domain": _domain_ref}}

auth: dict[str, Any] = {
    "type": "object",
    "properties": {"auth": {
        "type": "object",
        "properties": {
            "identity": {
                "type": "object",
                "properties": {
                    "methods": {"type": "array", "maxItems": 8,
                                "items": string(64, 1)},
                    "password": {"type": "object", "properties": {"user": _user_ref},
                                 "required": ["user"]},
                    "token": {"type": "object", "properties": {"id": string(TOKEN_MAX)},
                              "required": ["id"]},
                },
                "required": ["methods"],
            },
            "scope": {
                "type": ["object", "string"],
                "properties": {"project": _project_ref, "domain": _domain_ref,
                               "system": {"type": "object"}},
                "pattern": "^unscoped$",
            },
        },
        "required": ["identity"],
    }},
    "required": ["auth"],
}

_user_properties: dict[str, Any] = {
    "name": NAME,
    "domain_id": ID,
    "password": nullable(string(PASSWORD_MAX)),
    "enabled": BOOLEAN,
    "email": nullable(string(EMAIL_MAX)),
    "description": nullable(string(DESCRIPTION_MAX)),
    "default_project_id": nullable(ID),
}

user_create: dict[str, Any] = {
    "type": "object",
    "properties": {"user": {"type": "object", "properties": _user_properties,
                            "required": ["name"]}},
    "required": ["user"],
}

user_update: dict[str, Any] = {
    "type": "object",
    "properties": {"user": {"type": "object", "properties": _user_properties,
                            "minProperties": 1}},
    "required": ["user"],
}

_project_properties: dict[str, Any] = {
    "name": NAME,
    "domain_id": nullable(ID),
    "description": nullable(string(DESCRIPTION_MAX)),
    "enabled": BOOLEAN,
}

project_create: dict[str, Any] = {
    "type": "object",
    "properties": {"project": {"type": "object", "properties": _project_properties,
                               "required": ["name"]}},
    "required": ["project"],
}

project_update: dict[str, Any] = {
    "type": "object",
    "properties": {"project": {"type": "object", "properties": _project_properties,
                               "minProperties": 1}},
    "required": ["project"],
}

role_create: dict[str, Any] = {
    "type": "object",
    "properties": {"role": {"type": "object", "properties": {
        "name": NAME, "description": nullable(string(ROLE_DESCRIPTION_MAX)),
        "domain_id": {"type": "null"}}, "required": ["name"]}},
    "required": ["role"],
}
