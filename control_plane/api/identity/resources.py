"""/identity: the Keystone v3 subset that OpenStack clients and tempest use.

Version documents, token issue (password and token methods, project scope,
``nocatalog``), validation, revocation, and enough of users, projects, roles,
role assignments and domains for admin workflows. Errors in Keystone's shape:
``{"error": {"code", "title", "message"}}``.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Awaitable, Callable
from typing import Any

import jsonschema
import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from control_plane.access.authentication import DEFAULT_DOMAIN, Authenticator, Validated
from control_plane.api import common
from control_plane.api.faults import (
    BadRequest,
    Fault,
    Forbidden,
    NotFound,
    Unauthorized,
    from_domain,
)
from control_plane.api.identity import schemas
from control_plane.context import RequestContext
from control_plane.domain import commands as c
from control_plane.domain.errors import DomainError

TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
          409: "Conflict", 500: "Internal Server Error", 503: "Service Unavailable"}
UPDATED = "2024-01-01T00:00:00Z"

Handler = Callable[[Request], Awaitable[Response]]


def keystone(fn: Handler) -> Handler:
    """Render faults as Keystone does."""

    @functools.wraps(fn)
    async def wrapper(request: Request) -> Response:
        try:
            return await fn(request)
        except (Fault, DomainError) as error:
            fault = from_domain(error) if isinstance(error, DomainError) else error
            return common.JSON({"error": {"code": fault.code, "title": TITLES.get(
                fault.code, "Error"), "message": fault.message}}, status_code=fault.code)

    return wrapper


def _auth(request: Request) -> Authenticator:
    a: Authenticator = request.app.state.authenticator
    return a


def _root(request: Request) -> str:
    return str(request.base_url)


def _v3(request: Request) -> str:
    return f"{_root(request)}identity/v3"


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")


def version_doc(request: Request) -> dict[str, Any]:
    return {"id": "v3.14", "status": "stable", "updated": UPDATED,
            "links": [{"rel": "self", "href": f"{_v3(request)}/"}],
            "media-types": [{"base": "application/json",
                             "type": "application/vnd.openstack.identity-v3+json"}]}


@keystone
async def versions(request: Request) -> Response:
    return common.JSON({"versions": {"values": [version_doc(request)]}}, status_code=300)


@keystone
async def version(request: Request) -> Response:
    return common.JSON({"version": version_doc(request)})


_VALIDATORS: dict[int, jsonschema.Draft4Validator] = {}


def _problem(error: jsonschema.ValidationError) -> str:
    """Keystone's message for a schema violation, never echoing a long or secret value."""
    if error.validator == "maxLength":
        text = f"is too long (at most {error.validator_value} characters)"
    elif error.validator == "minLength":
        text = f"is too short (at least {error.validator_value} characters)"
    elif error.validator == "pattern":
        text = "contains characters that are not allowed (NUL, or nothing but blanks)"
    else:
        text = error.message if len(error.message) <= 200 else error.message[:200] + "..."
    path = "/".join(str(p) for p in error.absolute_path)
    if not path:
        return text
    return f"Invalid input for field '{path}': {text}"


async def _body(request: Request, schema: dict[str, Any]) -> dict[str, Any]:
    """The JSON body, validated by ``schema`` (400 in Keystone's shape otherwise)."""
    try:
        data = orjson.loads(await request.body() or b"null")
    except orjson.JSONDecodeError:
        raise BadRequest("Malformed request body") from None
    if not isinstance(data, dict):
        raise BadRequest("Malformed request body")
    validator = _VALIDATORS.get(id(schema))
    if validator is None:
        validator = _VALIDATORS[id(schema)] = jsonschema.Draft4Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        raise BadRequest(_problem(error))
    return data


def _path_id(request: Request, name: str, kind: str) -> str:
    """A path's id, or 404 when it cannot name anything (too long, a NUL)."""
    value: str = request.path_params[name]
    if len(value) > schemas.ID_MAX or "\x00" in value:
        raise NotFound(f"Could not find {kind}: {value[:schemas.ID_MAX]}.")
    return value


def catalog(request: Request, region: str) -> list[dict[str, Any]]:
    root = _root(request)
    services = [("compute", "nova", f"{root}compute/v2.1"),
                ("identity", "keystone", f"{root}identity"),
                ("image", "glance", f"{root}image")]
    out = []
    for kind, name, url in services:
        endpoints = [{"id": f"{kind}-{iface}", "interface": iface, "region": region,
                      "region_id": region, "url": url}
                     for iface in ("public", "internal", "admin")]
        out.append({"type": kind, "name": name, "id": kind, "endpoints": endpoints})
    return out


def token_body(request: Request, v: Validated, with_catalog: bool) -> dict[str, Any]:
    user = v.user
    token: dict[str, Any] = {
        "methods": list(v.payload.methods),
        "user": {"id": user["id"], "name": user["name"], "password_expires_at": None,
                 "domain": dict(DEFAULT_DOMAIN) if user["domain_id"] == "default"
                 else {"id": user["domain_id"], "name": user["domain_id"]}},
        "audit_ids": [v.payload.audit_id],
        "issued_at": _iso(v.payload.issued_at),
        "expires_at": _iso(v.payload.expires_at),
    }
    if v.project is not None:
        token["project"] = {"id": v.project["id"], "name": v.project["name"],
                            "domain": dict(DEFAULT_DOMAIN)}
        token["roles"] = v.roles
        token["is_domain"] = False
        if with_catalog:
            token["catalog"] = catalog(request, common.deps(request).settings.region)
    return token


async def _validated(request: Request, header: str = "x-auth-token") -> Validated:
    token = request.headers.get(header)
    v = await _auth(request).validate(token) if token else None
    if v is None:
        if header == "x-subject-token":
            raise NotFound(f"Could not find token: {token}.")
        raise Unauthorized("The request you have made requires authentication.")
    return v


def _ctx(request: Request, v: Validated) -> RequestContext:
    return v.context(request.state.request_id)


async def _admin(request: Request) -> Validated:
    v = await _validated(request)
    if not _is_admin(v):
        raise Forbidden("You are not authorized to perform the requested action.")
    return v


def _is_admin(v: Validated) -> bool:
    return "admin" in (r["name"] for r in v.roles)


def _may_act_on_token(caller: Validated, subject: Validated) -> bool:
    """Keystone's identity:validate_token and identity:revoke_token: an admin, a service,
    or the token's own user."""
    return _is_admin(caller) or "service" in (r["name"] for r in caller.roles) or \
        subject.user["id"] == caller.user["id"]


@keystone
async def issue_token(request: Request) -> Response:
    auth = (await _body(request, schemas.auth))["auth"]
    identity = auth["identity"]
    methods: list[str] = identity["methods"]
    authn = _auth(request)
    unauthorized = Unauthorized("The request you have made requires authentication.")
    if "password" in methods and "password" in identity:
        ref = identity["password"]["user"]
        if "id" not in ref and "name" not in ref:
            raise BadRequest("Invalid input for field 'auth/identity/password/user': "
                             "either 'id' or 'name' is required")
        user = await authn.check_password(ref, ref.get("password", ""))
        if user is None:
            raise unauthorized
        user_id, audit, expires = user["id"], None, None
    elif "token" in methods and "token" in identity:
        old = await authn.validate(identity["token"]["id"])
        if old is None:
            raise unauthorized
        user_id, audit, expires = old.user["id"], None, old.payload.expires_at
    else:
        raise unauthorized
    project_id = None
    scope = auth.get("scope")
    if isinstance(scope, dict) and "project" in scope:
        ref = scope["project"]
        if "id" not in ref and "name" not in ref:
            raise BadRequest("Invalid input for field 'auth/scope/project': "
                             "either 'id' or 'name' is required")
        project = await authn.find_project(ref)
        if project is None or not project["enabled"] or not await authn.roles(
                user_id, project["id"]):
            raise unauthorized
        project_id = project["id"]
    token, _payload = authn.tokens.issue(user_id, project_id, tuple(methods), expires, audit)
    v = await authn.validate(token)
    if v is None:
        raise unauthorized
    body = {"token": token_body(request, v, "nocatalog" not in request.query_params)}
    return common.JSON(body, status_code=201, headers={"X-Subject-Token": token})


async def _subject(request: Request) -> tuple[Validated, Validated]:
    """The caller and the token it asks about, if it may ask (else 403)."""
    caller = await _validated(request)
    subject = await _validated(request, "x-subject-token")
    if not _may_act_on_token(caller, subject):
        raise Forbidden("You are not authorized to perform the requested action: "
                        "identity:validate_token." if request.method != "DELETE" else
                        "You are not authorized to perform the requested action: "
                        "identity:revoke_token.")
    return caller, subject


@keystone
async def check_token(request: Request) -> Response:
    _caller, v = await _subject(request)
    if request.method == "HEAD":
        return Response(status_code=200)
    body = {"token": token_body(request, v, "nocatalog" not in request.query_params)}
    return common.JSON(body, headers={"X-Subject-Token": request.headers["x-subject-token"]})


@keystone
async def revoke_token(request: Request) -> Response:
    caller, subject = await _subject(request)
    await common.bus(request).handle(c.RevokeToken(
        subject.payload.audit_id, subject.user["id"], subject.payload.expires_at.isoformat()),
        _ctx(request, caller))
    _auth(request).forget(request.headers["x-subject-token"])
    return Response(status_code=204)


# -- users, projects, roles, domains ----------------------------------------------------


def _user(request: Request, row: dict[str, Any]) -> dict[str, Any]:
    out = {"id": row["id"], "name": row["name"], "domain_id": row["domain_id"],
           "enabled": row["enabled"], "password_expires_at": None, "options": {},
           "links": {"self": f"{_v3(request)}/users/{row['id']}"}}
    for key in ("email", "description", "default_project_id"):
        if row.get(key) is not None:
            out[key] = row[key]
    return out


def _project(request: Request, row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "name": row["name"], "domain_id": row["domain_id"],
            "description": row["description"] or "", "enabled": row["enabled"],
            "parent_id": row["domain_id"], "is_domain": False, "tags": [], "options": {},
            "links": {"self": f"{_v3(request)}/projects/{row['id']}"}}


def _role(request: Request, row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "name": row["name"], "domain_id": None,
            "description": row.get("description"), "options": {},
            "links": {"self": f"{_v3(request)}/roles/{row['id']}"}}


def _collection(request: Request, name: str, items: list[dict[str, Any]]) -> Response:
    return common.JSON({name: items, "links": {"self": str(request.url), "previous": None,
                                               "next": None}})


async def _rows(sql: str, request: Request, *args: Any) -> list[dict[str, Any]]:
    async with common.deps(request).pool.acquire() as conn:
        return [dict(r) for r in await conn.fetch(sql, *args)]


async def _one(request: Request, table: str, item_id: str, kind: str) -> dict[str, Any]:
    rows = await _rows(f"SELECT * FROM {table} WHERE id = $1", request, item_id)
    if not rows:
        raise NotFound(f"Could not find {kind}: {item_id}.")
    return rows[0]


def _query(request: Request, key: str) -> str:
    """A query filter's value, bounded as the stored values are (400 otherwise)."""
    value = request.query_params[key]
    if len(value) > schemas.NAME_MAX or "\x00" in value:
        raise BadRequest(f"Invalid input for field '{key}': too long or not allowed")
    return value


def _filters(request: Request, allowed: tuple[str, ...]) -> tuple[str, list[Any]]:
    where: list[str] = []
    args: list[Any] = []
    for key in allowed:
        if key in request.query_params:
            args.append(_query(request, key))
            where.append(f"{key} = ${len(args)}")
    if "enabled" in request.query_params:
        args.append(request.query_params["enabled"].lower() in ("true", "1", "yes"))
        where.append(f"enabled = ${len(args)}")
    return " AND ".join(where) or "true", args


@keystone
async def users_index(request: Request) -> Response:
    await _admin(request)
    where, args = _filters(request, ("name", "domain_id"))
    rows = await _rows(f"SELECT * FROM v_users WHERE {where} ORDER BY name", request, *args)
    return _collection(request, "users", [_user(request, r) for r in rows])


@keystone
async def users_create(request: Request) -> Response:
    ctx = _ctx(request, await _admin(request))
    u = (await _body(request, schemas.user_create))["user"]
    user_id = await common.bus(request).handle(c.CreateUser(
        name=u["name"], domain_id=u.get("domain_id", "default"), password=u.get("password"),
        enabled=u.get("enabled", True), email=u.get("email"),
        description=u.get("description"), default_project_id=u.get("default_project_id")),
        ctx)
    row = await _one(request, "v_users", user_id, "user")
    return common.JSON({"user": _user(request, row)}, status_code=201)


@keystone
async def users_show(request: Request) -> Response:
    v = await _validated(request)
    user_id = _path_id(request, "user_id", "user")
    if user_id != v.user["id"]:
        await _admin(request)
    return common.JSON({"user": _user(request, await _one(request, "v_users", user_id,
                                                          "user"))})


@keystone
async def users_update(request: Request) -> Response:
    ctx = _ctx(request, await _admin(request))
    user_id = _path_id(request, "user_id", "user")
    u = (await _body(request, schemas.user_update))["user"]
    changes = {k: u[k] for k in ("name", "enabled", "email", "description",
                                 "default_project_id") if k in u}
    await _one(request, "v_users", user_id, "user")
    await common.bus(request).handle(c.UpdateUser(user_id, changes, u.get("password")), ctx)
    _auth(request).invalidate()
    return common.JSON({"user": _user(request, await _one(request, "v_users", user_id,
                                                          "user"))})


@keystone
async def users_delete(request: Request) -> Response:
    ctx = _ctx(request, await _admin(request))
    user_id = _path_id(request, "user_id", "user")
    await _one(request, "v_users", user_id, "user")
    await common.bus(request).handle(c.DeleteUser(user_id), ctx)
    _auth(request).invalidate()
    return Response(status_code=204)


@keystone
async def user_projects(request: Request) -> Response:
    v = await _validated(request)
    user_id = _path_id(request, "user_id", "user") if "user_id" in request.path_params \
        else v.user["id"]
    if user_id != v.user["id"]:
        await _admin(request)
    rows = await _rows("SELECT DISTINCT p.* FROM v_projects p JOIN v_assignments a"
                       " ON a.project_id = p.id WHERE a.user_id = $1 ORDER BY p.name",
                       request, user_id)
    return _collection(request, "projects", [_project(request, r) for r in rows])


@keystone
async def projects_index(request: Request) -> Response:
    await _admin(request)
    where, args = _filters(request, ("name", "domain_id"))
    rows = await _rows(f"SELECT * FROM v_projects WHERE {where} ORDER BY name", request,
                       *args)
    return _collection(request, "projects", [_project(request, r) for r in rows])


@keystone
async def projects_create(request: Request) -> Response:
    ctx = _ctx(request, await _admin(request))
    p = (await _body(request, schemas.project_create))["project"]
    project_id = await common.bus(request).handle(c.CreateProject(
        name=p["name"], domain_id=p.get("domain_id") or "default",
        description=p.get("description"), enabled=p.get("enabled", True)), ctx)
    row = await _one(request, "v_projects", project_id, "project")
    return common.JSON({"project": _project(request, row)}, status_code=201)


@keystone
async def projects_show(request: Request) -> Response:
    v = await _validated(request)
    project_id = _path_id(request, "project_id", "project")
    if v.project is None or project_id != v.project["id"]:
        await _admin(request)
    return common.JSON({"project": _project(request, await _one(
        request, "v_projects", project_id, "project"))})


@keystone
async def projects_update(request: Request) -> Response:
    ctx = _ctx(request, await _admin(request))
    project_id = _path_id(request, "project_id", "project")
    p = (await _body(request, schemas.project_update))["project"]
    changes = {k: p[k] for k in ("name", "enabled", "description") if k in p}
    await _one(request, "v_projects", project_id, "project")
    await common.bus(request).handle(c.UpdateProject(project_id, changes), ctx)
    _auth(request).invalidate()
    return common.JSON({"project": _project(request, await _one(
        request, "v_projects", project_id, "project"))})


@keystone
async def projects_delete(request: Request) -> Response:
    ctx = _ctx(request, await _admin(request))
    project_id = _path_id(request, "project_id", "project")
    await _one(request, "v_projects", project_id, "project")
    await common.bus(request).handle(c.DeleteProject(project_id), ctx)
    _auth(request).invalidate()
    return Response(status_code=204)


@keystone
async def roles_index(request: Request) -> Response:
    await _validated(request)
    where, args = _filters(request, ("name",))
    rows = await _rows(f"SELECT * FROM v_roles WHERE {where} ORDER BY name", request, *args)
    return _collection(request, "roles", [_role(request, r) for r in rows])


@keystone
async def roles_create(request: Request) -> Response:
    ctx = _ctx(request, await _admin(request))
    r = (await _body(request, schemas.role_create))["role"]
    role_id = await common.bus(request).handle(
        c.CreateRole(r["name"], r.get("description")), ctx)
    return common.JSON({"role": _role(request, await _one(request, "v_roles", role_id,
                                                          "role"))}, status_code=201)


@keystone
async def roles_show(request: Request) -> Response:
    await _validated(request)
    return common.JSON({"role": _role(request, await _one(
        request, "v_roles", _path_id(request, "role_id", "role"), "role"))})


@keystone
async def roles_delete(request: Request) -> Response:
    ctx = _ctx(request, await _admin(request))
    role_id = _path_id(request, "role_id", "role")
    await _one(request, "v_roles", role_id, "role")
    await common.bus(request).handle(c.DeleteRole(role_id), ctx)
    _auth(request).invalidate()
    return Response(status_code=204)


@keystone
async def grant_list(request: Request) -> Response:
    await _admin(request)
    rows = await _rows(
        "SELECT r.* FROM v_assignments a JOIN v_roles r ON r.id = a.role_id"
        " WHERE a.project_id = $1 AND a.user_id = $2 ORDER BY r.name", request,
        _path_id(request, "project_id", "project"), _path_id(request, "user_id", "user"))
    return _collection(request, "roles", [_role(request, r) for r in rows])


@keystone
async def grant(request: Request) -> Response:
    v = await _admin(request)
    p = {name: _path_id(request, name, kind) for name, kind in (
        ("project_id", "project"), ("user_id", "user"), ("role_id", "role"))}
    if request.method in ("GET", "HEAD"):
        rows = await _rows("SELECT 1 FROM v_assignments WHERE project_id = $1 AND"
                           " user_id = $2 AND role_id = $3", request, p["project_id"],
                           p["user_id"], p["role_id"])
        if not rows:
            raise NotFound(f"Could not find role assignment with role: {p['role_id']}, "
                           f"user or group: {p['user_id']}, project, domain, or system: "
                           f"{p['project_id']}.")
        return Response(status_code=204)
    cmd_type = c.GrantRole if request.method == "PUT" else c.RevokeRole
    await common.bus(request).handle(cmd_type(p["project_id"], p["user_id"], p["role_id"]),
                                     _ctx(request, v))
    _auth(request).invalidate()
    return Response(status_code=204)


@keystone
async def role_assignments(request: Request) -> Response:
    await _admin(request)
    q = request.query_params
    where, args = [], []
    for param, col in (("user.id", "a.user_id"), ("scope.project.id", "a.project_id"),
                       ("role.id", "a.role_id")):
        if param in q:
            args.append(_query(request, param))
            where.append(f"{col} = ${len(args)}")
    rows = await _rows(
        "SELECT a.*, r.name AS role_name FROM v_assignments a JOIN v_roles r"
        f" ON r.id = a.role_id WHERE {' AND '.join(where) or 'true'}"
        " ORDER BY a.project_id, a.user_id, r.name", request, *args)
    items = []
    for r in rows:
        role: dict[str, Any] = {"id": r["role_id"]}
        if "include_names" in q:
            role["name"] = r["role_name"]
        items.append({
            "role": role, "user": {"id": r["user_id"]},
            "scope": {"project": {"id": r["project_id"]}},
            "links": {"assignment": f"{_v3(request)}/projects/{r['project_id']}/users/"
                                    f"{r['user_id']}/roles/{r['role_id']}"}})
    return _collection(request, "role_assignments", items)


def _domain(request: Request) -> dict[str, Any]:
    return {**DEFAULT_DOMAIN, "description": "The default domain", "enabled": True,
            "tags": [], "options": {}, "links": {"self": f"{_v3(request)}/domains/default"}}


@keystone
async def domains_index(request: Request) -> Response:
    await _validated(request)
    return _collection(request, "domains", [_domain(request)])


@keystone
async def domains_show(request: Request) -> Response:
    await _validated(request)
    if request.path_params["domain_id"] != "default":
        raise NotFound(f"Could not find domain: {request.path_params['domain_id']}.")
    return common.JSON({"domain": _domain(request)})


@keystone
async def not_found(request: Request) -> Response:
    raise NotFound("The resource could not be found.")


def routes() -> list[BaseRoute]:
    R = Route
    return [
        R("/", versions, methods=["GET"]),
        R("/v3", version, methods=["GET"]),
        R("/v3/", version, methods=["GET"]),
        R("/v3/auth/tokens", issue_token, methods=["POST"]),
        R("/v3/auth/tokens", check_token, methods=["GET", "HEAD"]),
        R("/v3/auth/tokens", revoke_token, methods=["DELETE"]),
        R("/v3/auth/projects", user_projects, methods=["GET"]),
        R("/v3/users", users_index, methods=["GET"]),
        R("/v3/users", users_create, methods=["POST"]),
        R("/v3/users/{user_id}", users_show, methods=["GET"]),
        R("/v3/users/{user_id}", users_update, methods=["PATCH"]),
        R("/v3/users/{user_id}", users_delete, methods=["DELETE"]),
        R("/v3/users/{user_id}/projects", user_projects, methods=["GET"]),
        R("/v3/projects", projects_index, methods=["GET"]),
        R("/v3/projects", projects_create, methods=["POST"]),
        R("/v3/projects/{project_id}", projects_show, methods=["GET"]),
        R("/v3/projects/{project_id}", projects_update, methods=["PATCH"]),
        R("/v3/projects/{project_id}", projects_delete, methods=["DELETE"]),
        R("/v3/projects/{project_id}/users/{user_id}/roles", grant_list, methods=["GET"]),
        R("/v3/projects/{project_id}/users/{user_id}/roles/{role_id}", grant,
          methods=["GET", "HEAD", "PUT", "DELETE"]),
        R("/v3/roles", roles_index, methods=["GET"]),
        R("/v3/roles", roles_create, methods=["POST"]),
        R("/v3/roles/{role_id}", roles_show, methods=["GET"]),
        R("/v3/roles/{role_id}", roles_delete, methods=["DELETE"]),
        R("/v3/role_assignments", role_assignments, methods=["GET"]),
        R("/v3/domains", domains_index, methods=["GET"]),
        R("/v3/domains/{domain_id}", domains_show, methods=["GET"]),
        R("/{path:path}", not_found, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
    ]
