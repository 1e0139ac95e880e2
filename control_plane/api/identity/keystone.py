"""What every identity handler shares: Keystone's fault shape, request bodies validated
against the schemas, path ids and query filters bounded as the views store them, and
the caller's token (validated, admin or not).

Errors render as Keystone's ``{"error": {"code", "title", "message"}}``; the
``keystone`` decorator wraps each handler so a fault raised anywhere below it comes
out in that shape.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import jsonschema
import orjson
from starlette.requests import Request
from starlette.responses import Response

from control_plane.access.authentication import Authenticator, Validated
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
from control_plane.domain.errors import DomainError

TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
          409: "Conflict", 500: "Internal Server Error", 503: "Service Unavailable"}

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


def authenticator(request: Request) -> Authenticator:
    a: Authenticator = request.app.state.authenticator
    return a


def root(request: Request) -> str:
    return str(request.base_url)


def v3(request: Request) -> str:
    return f"{root(request)}identity/v3"


def iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")


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


async def body(request: Request, schema: dict[str, Any]) -> dict[str, Any]:
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


def path_id(request: Request, name: str, kind: str) -> str:
    """A path's id, or 404 when it cannot name anything (too long, a NUL)."""
    value: str = request.path_params[name]
    if len(value) > schemas.ID_MAX or "\x00" in value:
        raise NotFound(f"Could not find {kind}: {value[:schemas.ID_MAX]}.")
    return value


def query_value(request: Request, key: str) -> str:
    """A query filter's value, bounded as the stored values are (400 otherwise)."""
    value = request.query_params[key]
    if len(value) > schemas.NAME_MAX or "\x00" in value:
        raise BadRequest(f"Invalid input for field '{key}': too long or not allowed")
    return value


def filters(request: Request, allowed: tuple[str, ...]) -> dict[str, Any]:
    """Column filters from the query: each of ``allowed`` given, and ``enabled``."""
    out: dict[str, Any] = {}
    for key in allowed:
        if key in request.query_params:
            out[key] = query_value(request, key)
    if "enabled" in request.query_params:
        out["enabled"] = request.query_params["enabled"].lower() in ("true", "1", "yes")
    return out


def found(row: dict[str, Any] | None, kind: str, item_id: str) -> dict[str, Any]:
    """The row, or Keystone's 404 for it."""
    if row is None:
        raise NotFound(f"Could not find {kind}: {item_id}.")
    return row


def collection(request: Request, name: str, items: list[dict[str, Any]]) -> Response:
    return common.JSON({name: items, "links": {"self": str(request.url), "previous": None,
                                               "next": None}})


async def validated(request: Request, header: str = "x-auth-token") -> Validated:
    token = request.headers.get(header)
    v = await authenticator(request).validate(token) if token else None
    if v is None:
        if header == "x-subject-token":
            raise NotFound(f"Could not find token: {token}.")
        raise Unauthorized("The request you have made requires authentication.")
    return v


def context(request: Request, v: Validated) -> RequestContext:
    return v.context(request.state.request_id)


async def admin(request: Request) -> Validated:
    v = await validated(request)
    if not is_admin(v):
        raise Forbidden("You are not authorized to perform the requested action.")
    return v


def is_admin(v: Validated) -> bool:
    return "admin" in (r["name"] for r in v.roles)


def pool(request: Request) -> asyncpg.Pool:
    """Where the identity views are read from."""
    p: asyncpg.Pool = common.deps(request).pool
    return p
