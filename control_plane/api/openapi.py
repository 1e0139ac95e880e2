"""GET /openapi.json: an OpenAPI 3.1 document of the compute, image and identity APIs.

Request bodies are the very schema objects the handlers validate with: each handler
declares them with ``@common.request_body`` (the server action route documents a
``oneOf`` over the registered actions' schemas). Responses state what the handlers
render: the success status codes, the top-level key(s) of the body and their types,
and the fault shapes (Nova's ``{"<title>": {"code", "message"}}``, Keystone's
``{"error": {...}}``, Glance's flat ``{"code", "title", "message"}``).

Our schemas are JSON Schema Draft 4; OpenAPI 3.1 speaks 2020-12, so each schema is
published as a converted copy (boolean ``exclusiveMinimum``/``exclusiveMaximum``
become numbers); the route's own schema object is never modified. The tables of what
each operation answers are in ``control_plane.api.openapi_responses``.
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

from control_plane.api.openapi_responses import (
    COMPUTE_RESPONSES,
    GLANCE_FAULT,
    HTML,
    IDENTITY_RESPONSES,
    IMAGE_RESPONSES,
    KEYSTONE_BODIES,
    KEYSTONE_FAULT,
    NOVA_FAULT,
    STR,
    VERSIONS_RESPONSES,
    Responses,
    Schema,
)

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
    from control_plane.api.identity import routes as identity
    from control_plane.api.identity import versions as identity_versions
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
    yield Operation("identity", IDENTITY, "", "GET", identity_versions.versions, None)
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
    ks = KEYSTONE_BODIES.get((op.method, op.path))
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
    from control_plane.api.identity import tokens
    from control_plane.api.identity import versions as identity
    from control_plane.api.image import resources as glance

    return op.handler in (versions.index, versions.show_v21, glance.versions,
                          identity.versions, identity.version, tokens.issue_token)


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

