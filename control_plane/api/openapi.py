"""GET /openapi.json: an OpenAPI 3.1 document of the compute, image and identity APIs.

Request bodies are the very schema objects the handlers validate with: each handler
declares them with ``@common.request_body`` (the server action route documents a
``oneOf`` over the registered actions' schemas). Responses state what the handlers
render: the success status codes, the top-level key(s) of the body and their types,
and the fault shapes (Nova's ``{"<title>": {"code", "message"}}``, Keystone's
``{"error": {...}}``, Glance's flat ``{"code", "title", "message"}``).

Our schemas are JSON Schema Draft 4; OpenAPI 3.1 speaks 2020-12, so each schema is
published as a converted copy (boolean ``exclusiveMinimum``/``exclusiveMaximum``
become numbers); the route's own schema object is never modified.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

Schema = dict[str, Any]

COMPUTE, IMAGE, IDENTITY = "/v2.1", "/image", "/identity"
TOKEN_HEADER = "X-Auth-Token"


# --------------------------------------------------------------------------- schemas


def draft4_to_2020(schema: Any) -> Any:
    """A JSON Schema 2020-12 copy of a Draft 4 schema (the input is left untouched)."""
    if isinstance(schema, list):
        return [draft4_to_2020(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: draft4_to_2020(v) for k, v in schema.items() if k != "$schema"}
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        flag = out.get(exclusive)
        if isinstance(flag, bool):
            del out[exclusive]
            if flag and bound in out:
                out[exclusive] = out.pop(bound)
    return out


def obj(required: list[str] | None = None, **properties: Schema) -> Schema:
    out: Schema = {"type": "object"}
    if required:
        out["required"] = required
    if properties:
        out["properties"] = properties
    return out


def arr(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def key(name: str, value: Schema) -> Schema:
    """A body whose top-level key ``name`` holds ``value``."""
    return obj([name], **{name: value})


STR: Schema = {"type": "string"}
NSTR: Schema = {"type": ["string", "null"]}
INT: Schema = {"type": "integer"}
BOOL: Schema = {"type": "boolean"}
OBJ: Schema = {"type": "object"}
LINKS: Schema = arr(obj(["rel", "href"], rel=STR, href=STR))
METADATA: Schema = {"type": "object", "additionalProperties": STR}
SPECS_AS_SENT: Schema = {"type": "object",
                         "additionalProperties": {"type": ["string", "number"]}}

NOVA_FAULT: Schema = {
    "type": "object", "minProperties": 1, "maxProperties": 1,
    "additionalProperties": obj(["code", "message"], code=INT, message=STR),
    "description": "Nova's fault: one key (badRequest, itemNotFound, ...) holding code and "
                   "message",
}
KEYSTONE_FAULT: Schema = key("error", obj(["code", "title", "message"], code=INT, title=STR,
                                          message=STR))
GLANCE_FAULT: Schema = obj(["code", "title", "message"], code=INT, title=STR, message=STR)

SERVER_REF = obj(["id", "links"], id=STR, name=STR, links=LINKS)
SERVER = obj(["id", "name", "status", "links"], id=STR, name=STR, status=STR,
             tenant_id=STR, user_id=STR, metadata=METADATA, links=LINKS,
             addresses=OBJ, created=STR, updated=STR)
FLAVOR = obj(["id", "links"], id=STR, name=STR, links=LINKS)
IMAGE_REF = obj(["id", "links"], id=STR, name=STR, links=LINKS)
VOLUME = obj(["id"], id=STR, status=STR, size=INT)
SNAPSHOT = obj(["id"], id=STR, status=STR, volumeId=STR)
VOLUME_ATTACHMENT = obj(["id", "serverId", "volumeId"], id=STR, serverId=STR, volumeId=STR)
INTERFACE = obj(["port_id"], port_id=STR, net_id=STR, mac_addr=STR, port_state=STR,
                fixed_ips=arr(OBJ))
KEYPAIR = obj(["name", "public_key", "fingerprint"], name=STR, public_key=STR,
              fingerprint=STR)
CONSOLE = obj(["type", "url"], type=STR, url=STR)
QUOTA_SET = key("quota_set", obj(["id"], id=STR))
ACCESS = key("flavor_access", arr(obj(["flavor_id", "tenant_id"], flavor_id=STR,
                                      tenant_id=STR)))
ACTION = obj(["action", "instance_uuid", "request_id"], action=STR, instance_uuid=STR,
             request_id=STR, start_time=STR, message=NSTR)
VERSION = obj(["id", "status", "links"], id=STR, status=STR, links=LINKS)
EMPTY = None  # no body
HTML: Schema = {"type": "string", "contentMediaType": "text/html"}  # an HTML page


def _ks_entity(*required: str) -> Schema:
    return obj(["id", *required], id=STR, name=STR, links=OBJ)


KS_LINKS = obj(["self"], self=STR, previous=NSTR, next=NSTR)


def _ks_list(name: str, item: Schema) -> Schema:
    return obj([name, "links"], **{name: arr(item), "links": KS_LINKS})


TOKEN = key("token", obj(["methods", "user", "expires_at", "issued_at"],
                         methods=arr(STR), user=OBJ, expires_at=STR, issued_at=STR,
                         project=OBJ, roles=arr(OBJ), catalog=arr(OBJ)))
GLANCE_IMAGE = obj(["id", "name", "status", "visibility"], id=STR, name=NSTR, status=STR,
                   visibility=STR, self=STR, file=STR, schema=STR)

# (method, path under the API's root) -> {status: response body schema, or None for none}
Responses = dict[int, Schema | None]
COMPUTE_RESPONSES: dict[tuple[str, str], Responses] = {
    ("GET", ""): {200: key("version", VERSION)},  # /v2.1 and /v2.1/
    ("GET", "/"): {200: key("version", VERSION)},
    ("GET", "/servers"): {200: key("servers", arr(SERVER_REF))},
    ("POST", "/servers"): {202: {"oneOf": [key("server", SERVER_REF),
                                           key("reservation_id", STR)]}},
    ("GET", "/servers/detail"): {200: key("servers", arr(SERVER))},
    ("GET", "/servers/{server_id}"): {200: key("server", SERVER)},
    ("PUT", "/servers/{server_id}"): {200: key("server", SERVER)},
    ("DELETE", "/servers/{server_id}"): {204: EMPTY},
    # empty for most actions; a body for rebuild, consoles, console output, evacuate...
    ("POST", "/servers/{server_id}/action"): {200: OBJ, 202: EMPTY, 204: EMPTY},
    ("GET", "/servers/{server_id}/metadata"): {200: key("metadata", METADATA)},
    ("POST", "/servers/{server_id}/metadata"): {200: key("metadata", METADATA)},
    ("PUT", "/servers/{server_id}/metadata"): {200: key("metadata", METADATA)},
    ("GET", "/servers/{server_id}/metadata/{key}"): {200: key("meta", METADATA)},
    ("PUT", "/servers/{server_id}/metadata/{key}"): {200: key("meta", METADATA)},
    ("DELETE", "/servers/{server_id}/metadata/{key}"): {204: EMPTY},
    ("GET", "/servers/{server_id}/ips"): {200: key("addresses", {
        "type": "object", "additionalProperties": arr(obj(["addr", "version"], addr=STR,
                                                          version=INT))})},
    ("GET", "/servers/{server_id}/ips/{network}"): {200: {
        "type": "object", "minProperties": 1, "maxProperties": 1,
        "additionalProperties": arr(obj(["addr", "version"], addr=STR, version=INT))}},
    ("GET", "/servers/{server_id}/os-server-password"): {200: key("password", STR)},
    ("DELETE", "/servers/{server_id}/os-server-password"): {204: EMPTY},
    ("GET", "/servers/{server_id}/os-volume_attachments"): {
        200: key("volumeAttachments", arr(VOLUME_ATTACHMENT))},
    ("POST", "/servers/{server_id}/os-volume_attachments"): {
        200: key("volumeAttachment", VOLUME_ATTACHMENT)},
    ("GET", "/servers/{server_id}/os-volume_attachments/{volume_id}"): {
        200: key("volumeAttachment", VOLUME_ATTACHMENT)},
    ("PUT", "/servers/{server_id}/os-volume_attachments/{volume_id}"): {202: EMPTY},
    ("DELETE", "/servers/{server_id}/os-volume_attachments/{volume_id}"): {202: EMPTY},
    ("POST", "/servers/{server_id}/remote-consoles"): {
        200: key("remote_console", obj(["protocol", "type", "url"], protocol=STR, type=STR,
                                       url=STR))},
    ("GET", "/servers/{server_id}/consoles"): {200: key("consoles", arr(OBJ))},
    ("POST", "/servers/{server_id}/consoles"): {200: EMPTY},
    ("GET", "/servers/{server_id}/consoles/{console_id}"): {200: key("console", OBJ)},
    ("DELETE", "/servers/{server_id}/consoles/{console_id}"): {202: EMPTY},
    ("GET", "/os-console-auth-tokens/{console_token}"): {200: key("console", obj(
        ["instance_uuid"], instance_uuid=STR))},
    ("GET", "/servers/{server_id}/diagnostics"): {200: OBJ},
    ("GET", "/servers/{server_id}/os-interface"): {
        200: key("interfaceAttachments", arr(INTERFACE))},
    ("POST", "/servers/{server_id}/os-interface"): {200: key("interfaceAttachment", INTERFACE)},
    ("GET", "/servers/{server_id}/os-interface/{port_id}"): {
        200: key("interfaceAttachment", INTERFACE)},
    ("DELETE", "/servers/{server_id}/os-interface/{port_id}"): {202: EMPTY},
    ("GET", "/servers/{server_id}/os-virtual-interfaces"): {
        200: key("virtual_interfaces", arr(obj(["id", "mac_address"], id=STR,
                                               mac_address=STR)))},
    ("GET", "/os-volumes"): {200: key("volumes", arr(VOLUME))},
    ("POST", "/os-volumes"): {200: key("volume", VOLUME)},
    ("GET", "/os-volumes/detail"): {200: key("volumes", arr(VOLUME))},
    ("GET", "/os-volumes/{volume_id}"): {200: key("volume", VOLUME)},
    ("DELETE", "/os-volumes/{volume_id}"): {202: EMPTY},
    ("GET", "/os-volume-types"): {200: key("volume_types", arr(obj(["id", "name"], id=STR,
                                                                     name=STR)))},
    ("GET", "/os-volume-types/{volume_type_id}"): {200: key("volume_type", obj(
        ["id", "name"], id=STR, name=STR))},
    ("GET", "/os-snapshots"): {200: key("snapshots", arr(SNAPSHOT))},
    ("POST", "/os-snapshots"): {200: key("snapshot", SNAPSHOT)},
    ("GET", "/os-snapshots/detail"): {200: key("snapshots", arr(SNAPSHOT))},
    ("GET", "/os-snapshots/{snapshot_id}"): {200: key("snapshot", SNAPSHOT)},
    ("DELETE", "/os-snapshots/{snapshot_id}"): {202: EMPTY},
    ("GET", "/os-migrations"): {200: key("migrations", arr(obj(["id", "status"], id=INT,
                                                                  status=STR)))},
    ("GET", "/servers/{server_id}/os-instance-actions"): {
        200: key("instanceActions", arr(ACTION))},
    ("GET", "/servers/{server_id}/os-instance-actions/{request_id}"): {
        200: key("instanceAction", ACTION)},
    ("GET", "/os-history/servers"): {200: obj(["as_of"], as_of=STR)},
    ("GET", "/os-history/servers/{server_id}"): {200: obj(
        ["server_id", "server", "events"], server_id=STR, as_of=NSTR, server=OBJ,
        events=arr(OBJ))},
    ("GET", "/os-history/servers/{server_id}/timeline"): {200: HTML},
    ("GET", "/flavors"): {200: key("flavors", arr(FLAVOR))},
    ("POST", "/flavors"): {200: key("flavor", FLAVOR)},
    ("GET", "/flavors/detail"): {200: key("flavors", arr(FLAVOR))},
    ("POST", "/flavors/os-flavor-manage"): {200: key("flavor", FLAVOR)},
    ("DELETE", "/flavors/os-flavor-manage/{flavor_id}"): {202: EMPTY},
    ("GET", "/flavors/{flavor_id}"): {200: key("flavor", FLAVOR)},
    ("DELETE", "/flavors/{flavor_id}"): {202: EMPTY},
    ("POST", "/flavors/{flavor_id}/action"): {200: ACCESS},
    ("GET", "/flavors/{flavor_id}/os-flavor-access"): {200: ACCESS},
    ("GET", "/flavors/{flavor_id}/os-extra_specs"): {200: key("extra_specs", METADATA)},
    # create and update answer with the request's own body (values as sent)
    ("POST", "/flavors/{flavor_id}/os-extra_specs"): {200: key("extra_specs", SPECS_AS_SENT)},
    ("GET", "/flavors/{flavor_id}/os-extra_specs/{key}"): {200: METADATA},
    ("PUT", "/flavors/{flavor_id}/os-extra_specs/{key}"): {200: SPECS_AS_SENT},
    ("DELETE", "/flavors/{flavor_id}/os-extra_specs/{key}"): {200: EMPTY},
    ("GET", "/os-keypairs"): {200: key("keypairs", arr(key("keypair", KEYPAIR)))},
    # 200 at 2.1, 201 from 2.2
    ("POST", "/os-keypairs"): {200: key("keypair", KEYPAIR), 201: key("keypair", KEYPAIR)},
    ("GET", "/os-keypairs/{name}"): {200: key("keypair", KEYPAIR)},
    # 202 at 2.1, 204 from 2.2
    ("DELETE", "/os-keypairs/{name}"): {202: EMPTY, 204: EMPTY},
    ("GET", "/limits"): {200: key("limits", obj(["rate", "absolute"], rate=arr(OBJ),
                                                absolute=OBJ))},
    ("GET", "/os-quota-sets/{tenant_id}"): {200: QUOTA_SET},
    ("GET", "/os-quota-sets/{tenant_id}/detail"): {200: QUOTA_SET},
    ("GET", "/os-quota-sets/{tenant_id}/defaults"): {200: QUOTA_SET},
    ("GET", "/os-availability-zone"): {200: key("availabilityZoneInfo", arr(obj(
        ["zoneName", "zoneState"], zoneName=STR, zoneState=OBJ)))},
    ("GET", "/os-availability-zone/detail"): {200: key("availabilityZoneInfo", arr(obj(
        ["zoneName", "zoneState"], zoneName=STR, zoneState=OBJ)))},
    ("GET", "/extensions"): {200: key("extensions", arr(obj(["alias", "name"], alias=STR,
                                                            name=STR)))},
    ("GET", "/extensions/{alias}"): {200: key("extension", obj(["alias", "name"], alias=STR,
                                                               name=STR))},
    ("GET", "/images"): {200: key("images", arr(IMAGE_REF))},
    ("GET", "/images/detail"): {200: key("images", arr(IMAGE_REF))},
    ("GET", "/images/{image_id}"): {200: key("image", IMAGE_REF)},
    ("DELETE", "/images/{image_id}"): {204: EMPTY},
    ("GET", "/images/{image_id}/metadata"): {200: key("metadata", METADATA)},
    ("POST", "/images/{image_id}/metadata"): {200: key("metadata", METADATA)},
    ("PUT", "/images/{image_id}/metadata"): {200: key("metadata", METADATA)},
    ("GET", "/images/{image_id}/metadata/{key}"): {200: key("meta", METADATA)},
    ("PUT", "/images/{image_id}/metadata/{key}"): {200: key("meta", METADATA)},
    ("DELETE", "/images/{image_id}/metadata/{key}"): {204: EMPTY},
}
# the other console paths answer as /servers/{server_id}/consoles does
for _alias in ("/servers/{server_id}/os-consoles", "/servers/{server_id}/os-console"):
    for (_m, _p), _r in list(COMPUTE_RESPONSES.items()):
        if _p.startswith("/servers/{server_id}/consoles"):
            COMPUTE_RESPONSES[(_m, _alias + _p.removeprefix("/servers/{server_id}/consoles"))] = _r

_USER = _ks_entity("domain_id", "enabled")
_PROJECT = _ks_entity("domain_id", "enabled")
_ROLE = _ks_entity()
IDENTITY_RESPONSES: dict[tuple[str, str], Responses] = {
    ("GET", ""): {300: key("versions", key("values", arr(VERSION)))},
    ("GET", "/"): {300: key("versions", key("values", arr(VERSION)))},
    ("GET", "/v3"): {200: key("version", VERSION)},
    ("GET", "/v3/"): {200: key("version", VERSION)},
    ("POST", "/v3/auth/tokens"): {201: TOKEN},
    ("GET", "/v3/auth/tokens"): {200: TOKEN},
    ("DELETE", "/v3/auth/tokens"): {204: EMPTY},
    ("GET", "/v3/auth/projects"): {200: _ks_list("projects", _PROJECT)},
    ("GET", "/v3/users"): {200: _ks_list("users", _USER)},
    ("POST", "/v3/users"): {201: key("user", _USER)},
    ("GET", "/v3/users/{user_id}"): {200: key("user", _USER)},
    ("PATCH", "/v3/users/{user_id}"): {200: key("user", _USER)},
    ("DELETE", "/v3/users/{user_id}"): {204: EMPTY},
    ("GET", "/v3/users/{user_id}/projects"): {200: _ks_list("projects", _PROJECT)},
    ("GET", "/v3/projects"): {200: _ks_list("projects", _PROJECT)},
    ("POST", "/v3/projects"): {201: key("project", _PROJECT)},
    ("GET", "/v3/projects/{project_id}"): {200: key("project", _PROJECT)},
    ("PATCH", "/v3/projects/{project_id}"): {200: key("project", _PROJECT)},
    ("DELETE", "/v3/projects/{project_id}"): {204: EMPTY},
    ("GET", "/v3/projects/{project_id}/users/{user_id}/roles"): {
        200: _ks_list("roles", _ROLE)},
    ("GET", "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}"): {204: EMPTY},
    ("PUT", "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}"): {204: EMPTY},
    ("DELETE", "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}"): {204: EMPTY},
    ("GET", "/v3/roles"): {200: _ks_list("roles", _ROLE)},
    ("POST", "/v3/roles"): {201: key("role", _ROLE)},
    ("GET", "/v3/roles/{role_id}"): {200: key("role", _ROLE)},
    ("DELETE", "/v3/roles/{role_id}"): {204: EMPTY},
    ("GET", "/v3/role_assignments"): {200: _ks_list("role_assignments", obj(
        ["role", "user", "scope"], role=OBJ, user=OBJ, scope=OBJ))},
    ("GET", "/v3/domains"): {200: _ks_list("domains", _ks_entity("enabled"))},
    ("GET", "/v3/domains/{domain_id}"): {200: key("domain", _ks_entity("enabled"))},
}
VERSIONS_RESPONSES: dict[tuple[str, str], Responses] = {
    ("GET", "/"): {200: key("versions", arr(VERSION))},  # the compute API's versions
}
IMAGE_RESPONSES: dict[tuple[str, str], Responses] = {
    ("GET", ""): {300: key("versions", arr(VERSION))},
    ("GET", "/versions"): {300: key("versions", arr(VERSION))},
    ("GET", "/"): {300: key("versions", arr(VERSION))},
    ("GET", "/v2/images"): {200: obj(["images", "first", "schema"], images=arr(GLANCE_IMAGE),
                                     first=STR, schema=STR, next=STR)},
    ("GET", "/v2/images/{image_id}"): {200: GLANCE_IMAGE},
}

# Identity bodies are checked by the handlers field by field (no schema to publish);
# these say what each takes.
_KS_BODIES: dict[tuple[str, str], Schema] = {
    ("POST", "/v3/auth/tokens"): key("auth", obj(["identity"], identity=obj(
        ["methods"], methods=arr(STR), password=OBJ, token=OBJ), scope=OBJ)),
    ("POST", "/v3/users"): key("user", obj(["name"], name=STR, password=STR,
                                           default_project_id=STR, enabled=BOOL)),
    ("PATCH", "/v3/users/{user_id}"): key("user", obj(None, name=STR, password=STR,
                                                      enabled=BOOL)),
    ("POST", "/v3/projects"): key("project", obj(["name"], name=STR, description=STR,
                                                 enabled=BOOL)),
    ("PATCH", "/v3/projects/{project_id}"): key("project", obj(None, name=STR,
                                                               description=STR,
                                                               enabled=BOOL)),
    ("POST", "/v3/roles"): key("role", obj(["name"], name=STR)),
}

# query parameters the handlers read, by (method, path under the API's root)
_PAGING = ["limit", "marker"]
SERVER_FILTERS = [*_PAGING, "name", "status", "image", "flavor", "host", "node",
                  "reservation_id", "availability_zone", "ip", "ip6", "user_id",
                  "changes-since", "all_tenants", "project_id", "tenant_id", "deleted",
                  "sort_key", "sort_dir"]
QUERY: dict[tuple[str, str], list[str]] = {
    ("GET", f"{COMPUTE}/servers"): SERVER_FILTERS,
    ("GET", f"{COMPUTE}/servers/detail"): SERVER_FILTERS,
    ("GET", f"{COMPUTE}/flavors"): [*_PAGING, "minRam", "minDisk", "is_public", "sort_key",
                                    "sort_dir"],
    ("GET", f"{COMPUTE}/flavors/detail"): [*_PAGING, "minRam", "minDisk", "is_public",
                                           "sort_key", "sort_dir"],
    ("GET", f"{COMPUTE}/images"): [*_PAGING, "name", "status", "server", "type",
                                   "changes-since"],
    ("GET", f"{COMPUTE}/images/detail"): [*_PAGING, "name", "status", "server", "type",
                                          "changes-since"],
    ("GET", f"{COMPUTE}/os-keypairs"): ["user_id"],
    ("GET", f"{COMPUTE}/os-keypairs/{{name}}"): ["user_id"],
    ("DELETE", f"{COMPUTE}/os-keypairs/{{name}}"): ["user_id"],
    ("GET", f"{COMPUTE}/os-volumes"): ["limit", "offset"],
    ("GET", f"{COMPUTE}/os-volumes/detail"): ["limit", "offset"],
    ("GET", f"{COMPUTE}/os-snapshots"): ["limit", "offset"],
    ("GET", f"{COMPUTE}/os-snapshots/detail"): ["limit", "offset"],
    ("GET", f"{COMPUTE}/servers/{{server_id}}/os-volume_attachments"): ["limit", "offset"],
    ("GET", f"{COMPUTE}/os-migrations"): ["host", "source_compute", "status",
                                          "migration_type", "instance_uuid"],
    ("GET", f"{COMPUTE}/limits"): ["tenant_id"],
    ("GET", f"{COMPUTE}/os-quota-sets/{{tenant_id}}/detail"): ["user_id"],
    ("GET", f"{COMPUTE}/os-history/servers"): ["as_of"],
    ("GET", f"{COMPUTE}/os-history/servers/{{server_id}}"): ["as_of"],
    ("GET", f"{COMPUTE}/os-history/servers/{{server_id}}/timeline"): ["as_of"],
    ("GET", f"{IMAGE}/v2/images"): [*_PAGING, "name", "status", "visibility", "owner",
                                    "disk_format", "container_format"],
    ("GET", f"{IDENTITY}/v3/users"): ["name", "domain_id", "enabled"],
    ("GET", f"{IDENTITY}/v3/projects"): ["name", "domain_id", "enabled"],
    ("GET", f"{IDENTITY}/v3/roles"): ["name"],
    ("GET", f"{IDENTITY}/v3/role_assignments"): ["user.id", "scope.project.id", "role.id",
                                                 "include_names"],
    ("GET", f"{IDENTITY}/v3/auth/tokens"): ["nocatalog"],
    ("POST", f"{IDENTITY}/v3/auth/tokens"): ["nocatalog"],
}
_INTEGER_QUERY = {"limit", "offset", "minRam", "minDisk"}


# --------------------------------------------------------------------------- operations


@dataclass(frozen=True)
class Operation:
    api: str  # "compute", "image", "identity", or "versions" (the compute root)
    root: str  # the API's prefix: /v2.1, /image, /identity
    path: str  # under the root, as the route table spells it
    method: str
    handler: Callable[..., Any]
    route: Route | None

    @property
    def full_path(self) -> str:
        """The path as the app serves it (path convertors dropped)."""
        return re.sub(r"{([^}:]+):[^}]*}", r"{\1}", self.root + self.path) or "/"


def _methods(route: Route) -> list[str]:
    declared = route.methods or set()
    return sorted(m for m in declared if m != "HEAD" or "GET" not in declared)


def operations() -> Iterator[Operation]:
    """Every operation of the three APIs, from the route tables the app serves."""
    from control_plane.api import app
    from control_plane.api.compute.resources import versions
    from control_plane.api.identity import resources as identity
    from control_plane.api.image import resources as glance

    yield Operation("versions", "", "/", "GET", versions.index, None)
    yield Operation("compute", COMPUTE, "", "GET", versions.show_v21, None)
    yield Operation("compute", COMPUTE, "/", "GET", versions.show_v21, None)
    for route in app.API_ROUTES:
        assert isinstance(route, Route)
        for method in _methods(route):
            yield Operation("compute", COMPUTE, route.path, method,
                            route.handler, route)  # type: ignore[attr-defined]
    yield Operation("image", IMAGE, "", "GET", glance.versions, None)
    for route in glance.routes():
        assert isinstance(route, Route)
        for method in _methods(route):
            yield Operation("image", IMAGE, route.path, method, route.endpoint, route)
    yield Operation("identity", IDENTITY, "", "GET", identity.versions, None)
    for route in identity.routes():
        assert isinstance(route, Route)
        if "{path:path}" in route.path:  # the catch-all 404
            continue
        for method in _methods(route):
            if method == "HEAD":
                continue  # the GET's status without a body
            yield Operation("identity", IDENTITY, route.path, method, route.endpoint, route)


# --------------------------------------------------------------------------- document


def _request_body(op: Operation) -> Schema | None:
    from control_plane.api.compute.routes import SERVER_ACTIONS

    if op.handler is SERVER_ACTIONS:
        variants = [draft4_to_2020(s) for _, (_, s, _) in sorted(SERVER_ACTIONS.actions.items())]
        return {"required": True, "description": "One server action: the body's single key "
                                                 "names it.",
                "content": {"application/json": {"schema": {"oneOf": variants}}}}
    schemas: tuple[Schema, ...] = getattr(op.handler, "request_schemas", ())
    if schemas:
        schema = draft4_to_2020(schemas[0]) if len(schemas) == 1 else \
            {"oneOf": [draft4_to_2020(s) for s in schemas]}
        out: Schema = {"required": not getattr(op.handler, "request_optional", False),
                       "content": {"application/json": {"schema": schema}}}
        note = getattr(op.handler, "request_note", None)
        if note:
            out["description"] = f"The schema depends on the microversion: {note}."
        return out
    ks = _KS_BODIES.get((op.method, op.path))
    if ks is not None:
        return {"required": True, "content": {"application/json": {"schema": ks}}}
    return None


def _json(schema: Schema) -> Schema:
    return {"content": {"application/json": {"schema": schema}}}


def _responses(op: Operation) -> Schema:
    table = {"compute": COMPUTE_RESPONSES, "image": IMAGE_RESPONSES,
             "identity": IDENTITY_RESPONSES, "versions": VERSIONS_RESPONSES}[op.api]
    success: Responses | None = table.get((op.method, op.path))
    if success is None:
        raise KeyError(f"no documented response for {op.method} {op.root}{op.path}")
    out: Schema = {}
    for status, schema in success.items():
        if schema is None:
            out[str(status)] = {"description": "Success, no body."}
        elif schema is HTML:
            out[str(status)] = {"description": "An HTML page.",
                                "content": {"text/html": {"schema": STR}}}
        else:
            out[str(status)] = {"description": "Success.", **_json(schema)}
    fault = {"compute": NOVA_FAULT, "versions": NOVA_FAULT, "image": GLANCE_FAULT,
             "identity": KEYSTONE_FAULT}[op.api]
    codes = {400: "Bad request.", 401: "Not authenticated.", 403: "Forbidden by policy.",
             404: "Not found.", 409: "Conflict with the resource's state."}
    if op.api in ("compute", "versions"):
        codes.update({405: "Method not allowed.", 406: "Microversion not acceptable.",
                      413: "Over a limit.", 415: "Not JSON."})
    for status, text in codes.items():
        # the token check in front of every API answers 401 as Keystone does
        shape = KEYSTONE_FAULT if status == 401 and op.api == "compute" else fault
        out.setdefault(str(status), {"description": text, **_json(shape)})
    return out


def _parameters(op: Operation, full_path: str) -> list[Schema]:
    params: list[Schema] = []
    for name in re.findall(r"{([^}:]+)(?::[^}]*)?}", op.path):
        params.append({"name": name, "in": "path", "required": True, "schema": STR})
    if op.api == "identity" and op.path == "/v3/auth/tokens" and op.method != "POST":
        params.append({"name": "X-Subject-Token", "in": "header", "required": True,
                       "schema": STR, "description": "The token to check or revoke."})
    for name in QUERY.get((op.method, full_path), []):
        schema: Schema = {"type": "integer", "minimum": 0} if name in _INTEGER_QUERY else STR
        params.append({"name": name, "in": "query", "required": False, "schema": schema})
    return params


def _public(op: Operation) -> bool:
    """Version documents and token issue take no token."""
    from control_plane.api.compute.resources import versions
    from control_plane.api.identity import resources as identity
    from control_plane.api.image import resources as glance

    return op.handler in (versions.index, versions.show_v21, glance.versions,
                          identity.versions, identity.version, identity.issue_token)


def build() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for op in operations():
        full_path = op.full_path
        operation: Schema = {
            "operationId": f"{op.api}:{op.method}:{full_path}",
            "tags": [op.api],
            "summary": (op.handler.__doc__ or "").strip().split("\n")[0]
            or f"{op.method} {full_path}",
            "responses": _responses(op),
        }
        params = _parameters(op, full_path)
        if params:
            operation["parameters"] = params
        body = _request_body(op)
        if body is not None:
            operation["requestBody"] = body
        if _public(op):
            operation["security"] = []  # version documents and token issue: no token
        paths.setdefault(full_path, {})[op.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {"title": "control-plane: OpenStack compute, image and identity APIs",
                 "version": "2.1",
                 "description": "Generated from the route table and the JSON Schemas the "
                                "handlers validate request bodies with. Compute answers "
                                "at the microversion given in X-OpenStack-Nova-API-Version "
                                "(2.1 when absent)."},
        "paths": paths,
        "components": {"securitySchemes": {"token": {"type": "apiKey", "in": "header",
                                                     "name": TOKEN_HEADER}}},
        "security": [{"token": []}],
    }


@functools.cache
def document() -> bytes:
    import orjson

    return orjson.dumps(build())


async def serve(request: Request) -> Response:
    """GET /openapi.json (no token needed)."""
    return Response(document(), media_type="application/json")


def declared_schemas(handler: Callable[..., Any]) -> tuple[Schema, ...]:
    """The request body schemas a handler declares (for tests)."""
    return tuple(getattr(handler, "request_schemas", ()))

