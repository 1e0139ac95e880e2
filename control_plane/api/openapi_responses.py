"""What /openapi.json says each operation answers: the shapes of success bodies, of the
three fault styles, and the identity request bodies, by (method, path under the API's
root).

Kept apart from the document builder (``control_plane.api.openapi``) because it is a
table, not logic: adding a route means adding its row here. The shapes state only the
top-level keys and their types, as the handlers render them.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


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
KEYSTONE_BODIES: dict[tuple[str, str], Schema] = {
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
