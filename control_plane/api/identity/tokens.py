"""/identity/v3/auth/tokens: issue (password or token method, optional project scope,
``nocatalog``), check and revoke a token, with the service catalog a scoped token
carries."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from control_plane.access.authentication import DEFAULT_DOMAIN, Validated
from control_plane.api import common
from control_plane.api.faults import BadRequest, Forbidden, Unauthorized
from control_plane.api.identity import schemas
from control_plane.api.identity.keystone import (
    authenticator,
    body,
    context,
    is_admin,
    iso,
    keystone,
    root,
    validated,
)
from control_plane.domain.identity import commands as c


def catalog(request: Request, region: str) -> list[dict[str, Any]]:
    base = root(request)
    services = [("compute", "nova", f"{base}compute/v2.1"),
                ("identity", "keystone", f"{base}identity"),
                ("image", "glance", f"{base}image")]
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
        "issued_at": iso(v.payload.issued_at),
        "expires_at": iso(v.payload.expires_at),
    }
    if v.project is not None:
        token["project"] = {"id": v.project["id"], "name": v.project["name"],
                            "domain": dict(DEFAULT_DOMAIN)}
        token["roles"] = v.roles
        token["is_domain"] = False
        if with_catalog:
            token["catalog"] = catalog(request, common.deps(request).settings.region)
    return token


def _may_act_on_token(caller: Validated, subject: Validated) -> bool:
    """Keystone's identity:validate_token and identity:revoke_token: an admin, a service,
    or the token's own user."""
    return is_admin(caller) or "service" in (r["name"] for r in caller.roles) or \
        subject.user["id"] == caller.user["id"]


@keystone
async def issue_token(request: Request) -> Response:
    auth = (await body(request, schemas.auth))["auth"]
    identity = auth["identity"]
    methods: list[str] = identity["methods"]
    authn = authenticator(request)
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
    out = {"token": token_body(request, v, "nocatalog" not in request.query_params)}
    return common.JSON(out, status_code=201, headers={"X-Subject-Token": token})


async def _subject(request: Request) -> tuple[Validated, Validated]:
    """The caller and the token it asks about, if it may ask (else 403)."""
    caller = await validated(request)
    subject = await validated(request, "x-subject-token")
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
    out = {"token": token_body(request, v, "nocatalog" not in request.query_params)}
    return common.JSON(out, headers={"X-Subject-Token": request.headers["x-subject-token"]})


@keystone
async def revoke_token(request: Request) -> Response:
    caller, subject = await _subject(request)
    await common.bus(request).handle(c.RevokeToken(
        subject.payload.audit_id, subject.user["id"], subject.payload.expires_at.isoformat()),
        context(request, caller))
    authenticator(request).forget(request.headers["x-subject-token"])
    return Response(status_code=204)
