"""Helpers every resource module uses: context, body validation, links, paging."""

from __future__ import annotations

import base64
import datetime as dt
import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import jsonschema
import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from control_plane.api.faults import BadRequest, NotFound
from control_plane.api.microversion import MIN_VERSION, APIVersion
from control_plane.context import RequestContext
from control_plane.service.bus import MessageBus
from control_plane.service.deps import Deps

T = TypeVar("T")


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def empty(status: int) -> Response:
    return Response(status_code=status)


def deps(request: Request) -> Deps:
    d: Deps = request.app.state.deps
    return d


def bus(request: Request) -> MessageBus:
    b: MessageBus = request.app.state.bus
    return b


def version(request: Request) -> APIVersion:
    return getattr(request.state, "api_version", MIN_VERSION)


def is_supported(request: Request, min_version: str, max_version: str | None = None) -> bool:
    """The one place handlers branch on the microversion."""
    v = version(request)
    if v < APIVersion.parse(min_version):
        return False
    return max_version is None or v <= APIVersion.parse(max_version)


def context(request: Request) -> RequestContext:
    ctx: RequestContext = request.state.context
    project_in_url = request.path_params.get("project_id")
    if project_in_url is not None and project_in_url != ctx.project_id:
        raise BadRequest(
            f"Malformed request URL: URL's project_id '{project_in_url}' doesn't match "
            f"Context's project_id '{ctx.project_id}'"
        )
    return ctx


def authorize(request: Request, ctx: RequestContext, rule: str,
              target: dict[str, object] | None = None) -> None:
    """Check a named policy rule (Nova's defaults, or the operator's policy file)."""
    request.app.state.policy.enforce(ctx, rule, target)


def allowed(request: Request, ctx: RequestContext, rule: str,
            target: dict[str, object] | None = None) -> bool:
    result: bool = request.app.state.policy.check(ctx, rule, target)
    return result


def _describe(value: Any) -> str:
    return orjson.dumps(value).decode() if isinstance(value, dict | list) else str(value)


# JSON nested deeper than this is refused before validation (jsonschema recurses)
MAX_DEPTH = 64


def check_tree(data: Any) -> None:
    """Refuse a body nested deeper than MAX_DEPTH, or with a NUL character in any key or
    string (Postgres stores neither in text nor in jsonb): 400, before anything else."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise BadRequest(f"Malformed request body: nested deeper than {MAX_DEPTH} "
                                 "levels")
            if isinstance(value, dict):
                for key, item in value.items():
                    if "\x00" in key:
                        raise BadRequest("Invalid input: a key contains a NUL character")
                    stack.append((item, depth + 1))
            else:
                stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str) and "\x00" in value:
            raise BadRequest("Invalid input: a value contains a NUL character")


def _as_number(instance: Any) -> int | float | None:
    """What ``minimum``/``maximum`` compare: numbers, and strings that read as one (as
    Nova's validator does, so that ``"2147483648"`` meets the same bound as the integer)."""
    if isinstance(instance, bool):
        return None
    if isinstance(instance, int | float):
        return instance
    if isinstance(instance, str):
        for kind in (int, float):
            try:
                return kind(instance)
            except ValueError:
                continue
    return None


def _bound(original: Callable[..., Any]) -> Callable[..., Any]:
    def check(validator: Any, limit: Any, instance: Any, schema: dict[str, Any]) -> Any:
        number = _as_number(instance)
        if number is None:
            return
        yield from original(validator, limit, number, schema)
    return check


Validator = jsonschema.validators.extend(jsonschema.Draft4Validator, {
    "minimum": _bound(jsonschema.Draft4Validator.VALIDATORS["minimum"]),
    "maximum": _bound(jsonschema.Draft4Validator.VALIDATORS["maximum"]),
})


def parse_json(raw: bytes) -> Any:
    """The body as JSON (None for an empty one), checked by ``check_tree``; 400 if bad."""
    try:
        data = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        raise BadRequest("Malformed request body") from None
    check_tree(data)
    return data


async def body(request: Request, schema: dict[str, Any]) -> dict[str, Any]:
    """Parse the JSON body and validate it; Nova's messages for each failure."""
    raw = await request.body()
    data = parse_json(raw)
    if data is None:
        raise BadRequest("The request body is missing or is not valid JSON.") if not raw \
            else BadRequest("Malformed request body")
    validator = Validator(schema, format_checker=FORMATS)
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        path = list(error.absolute_path)
        if not path and error.validator in ("required", "additionalProperties", "type",
                                            "minProperties", "maxProperties"):
            # a problem with the top-level object itself: Nova gives the bare message
            raise BadRequest(error.message)
        field = str(path[-1]) if path else "root"
        raise BadRequest(
            f"Invalid input for field/attribute {field}. Value: {_describe(error.instance)}. "
            f"{error.message}"
        )
    if not isinstance(data, dict):
        raise BadRequest("Malformed request body")
    return data


FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("uuid", raises=ValueError)
def _is_uuid(value: object) -> bool:
    if not isinstance(value, str):
        return True
    uuid.UUID(value)
    return True


@FORMATS.checks("base64", raises=ValueError)  # binascii.Error is one
def _is_base64(value: object) -> bool:
    if not isinstance(value, str):
        return True
    base64.b64decode(value, validate=True)
    return True


def base_url(request: Request) -> str:
    """The compute endpoint's root, e.g. http://host:8774/ or http://host/compute/.

    With ``CONTROL_PLANE_COMPUTE_LINK_PREFIX`` set, its scheme and host replace the
    request's, and its path goes before the request's, as Nova's compute_link_prefix."""
    path = "/compute/" if request.url.path.startswith("/compute/") or \
        request.url.path == "/compute" else "/"
    prefix = deps(request).settings.compute_link_prefix
    if prefix:
        return prefix.rstrip("/") + path
    return str(request.base_url).rstrip("/") + path


def links(request: Request, collection: str, item_id: str) -> list[dict[str, str]]:
    root = base_url(request)
    project = request.path_params.get("project_id")
    prefix = f"{project}/" if project else ""
    return [
        {"rel": "self", "href": f"{root}v2.1/{prefix}{collection}/{item_id}"},
        {"rel": "bookmark", "href": f"{root}{prefix}{collection}/{item_id}"},
    ]


def next_link(request: Request, collection: str, marker: str) -> dict[str, str]:
    root = base_url(request)
    project = request.path_params.get("project_id")
    prefix = f"{project}/" if project else ""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "marker"]
    params.append(("marker", marker))
    query = "&".join(f"{k}={v}" for k, v in params)
    return {"rel": "next", "href": f"{root}v2.1/{prefix}{collection}?{query}"}


INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
_DECIMAL = re.compile(r"^\s*[-+]?[0-9]+\s*$")


def int_param(request: Request, name: str, minimum: int = -INT32_MAX - 1,
              maximum: int = INT32_MAX, message: str | None = None) -> int | None:
    """An integer query parameter (None if absent): 400 unless it is a decimal integer
    within [minimum, maximum], the range the column it is compared with can hold."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not _DECIMAL.match(raw):
        raise BadRequest(message or f"Invalid input received: {name} must be an integer")
    value = int(raw)
    if not minimum <= value <= maximum:
        raise BadRequest(message or f"Invalid input received: {name} must be an integer "
                                    f"between {minimum} and {maximum}")
    return value


def page_limit(request: Request) -> int:
    max_limit = deps(request).settings.max_limit
    raw = request.query_params.get("limit")
    if raw is None:
        return max_limit
    if not _DECIMAL.match(raw):
        raise BadRequest("Invalid input received: limit must be an integer")
    value = int(raw)
    if value < 0:
        raise BadRequest("Invalid input received: limit must be >= 0")
    return min(value, max_limit)


def paginate(request: Request, rows: Sequence[T], key: Callable[[T], str]) -> list[T]:
    """Nova's paging: the items after ``?marker=`` (by ``key``), at most ``?limit=``."""
    marker = request.query_params.get("marker")
    if marker is not None:
        ids = [key(r) for r in rows]
        if marker not in ids:
            raise BadRequest(f"marker [{marker}] not found")
        rows = rows[ids.index(marker) + 1:]
    return list(rows[:page_limit(request)])


def with_next_link(request: Request, out: dict[str, Any], collection: str, path: str,
                   page: Sequence[T], key: Callable[[T], str]) -> dict[str, Any]:
    """Add ``<collection>_links`` when a full page was returned for an explicit limit."""
    if page and "limit" in request.query_params and len(page) == page_limit(request):
        out[f"{collection}_links"] = [next_link(request, path, key(page[-1]))]
    return out


def isotime(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_changes_since(raw: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "+"))
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        # a time that is not a time in UTC (9999-12-31T23:59:59-23:59) is refused here,
        # not by the database
        value = value.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise BadRequest("Invalid changes-since value") from None
    return value


def not_found(kind: str, item: str) -> NotFound:
    return NotFound(f"{kind} {item} could not be found.")


Handler = TypeVar("Handler", bound=Callable[..., Any])


def request_body(*schemas: dict[str, Any], note: str | None = None,
                 optional: bool = False) -> Callable[[Handler], Handler]:
    """Declare the JSON Schema(s) a handler validates its body with (``body(request, s)``).

    Only a declaration: the OpenAPI document (api/openapi.py) publishes these very
    objects. Several schemas mean the handler picks one (by microversion: newest first);
    ``note`` says how; ``optional`` when an empty body is accepted.
    """

    def declare(handler: Handler) -> Handler:
        handler.request_schemas = schemas  # type: ignore[attr-defined]
        handler.request_note = note  # type: ignore[attr-defined]
        handler.request_optional = optional  # type: ignore[attr-defined]
        return handler

    return declare


def P(path: str, endpoint: Callable[[Request], Awaitable[Response]], method: str,
      rule: str | dict[str, str]) -> Route:
    """A compute API route guarded by a named policy rule (checked before the handler).

    The rule is checked against the caller's own project; handlers that act on another
    user's or project's resources check again with that target, and resources of other
    projects are not found at all (404), as in Nova. A dict of rules marks a dispatcher
    (POST .../action): the handler checks the rule of the action it picks.
    """

    async def guarded(request: Request) -> Response:
        if isinstance(rule, str):
            authorize(request, context(request), rule)
        return await endpoint(request)

    route = Route(path, guarded, methods=[method], name=endpoint.__qualname__)
    route.policy_rule = rule  # type: ignore[attr-defined]
    route.handler = endpoint  # type: ignore[attr-defined]  # for the OpenAPI document
    return route
