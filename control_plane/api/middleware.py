"""Pure ASGI middleware: request ids, body size limit, auth, microversion negotiation.

Everything a request needs before routing is decided here and put in
``scope["state"]``: ``request_id``, ``api_version``, ``context``. Requests no handler
could serve safely are refused here: a NUL character in the path or query string
(400), a compute request of a media type other than JSON (415, as Nova), an identity
request body of one (400, as Keystone). An exception no
handler turned into a fault ends here too: logged once, with the request id, and
answered with a computeFault that carries the request id headers.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote_to_bytes

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from control_plane.access.authentication import Authenticator
from control_plane.api import microversion
from control_plane.api.faults import BadRequest, Fault, TooLarge, UnsupportedMediaType
from control_plane.config import Settings
from control_plane.context import RequestContext, new_request_id

log = logging.getLogger(__name__)

VERSIONED_PREFIXES = ("/v2.1/", "/v2/")
VARY = b"OpenStack-API-Version, X-OpenStack-Nova-API-Version"
# what Nova reads as JSON: its two media types, and none (a missing header, an empty one,
# or text/plain, the default of many HTTP libraries); anything else is 415
JSON_MEDIA_TYPES = frozenset({"", "text/plain", "application/json",
                              "application/vnd.openstack.compute+json"})


def media_type(content_type: str) -> str:
    """``application/json; charset=utf-8`` -> ``application/json``."""
    return content_type.split(";", 1)[0].strip().lower()


def _identity_refuses(path: str, content_type: str | None, body: bytes) -> bool:
    """Keystone reads a request body as JSON only when the Content-Type is empty or JSON
    (``application/json``, ``application/*+json``); any other body is a 400."""
    p = _strip_prefix(path)
    if not body or not (p == "/identity" or p.startswith("/identity/")):
        return False
    kind = media_type(content_type or "")
    if content_type is None or not content_type.strip() or kind == "application/json":
        return False
    return not (kind.startswith("application/") and kind.endswith("+json"))


def _has_nul(scope: Scope) -> bool:
    """A NUL character in the path or the query string (raw or percent-encoded)."""
    return "\x00" in scope["path"] or b"\x00" in unquote_to_bytes(
        scope.get("query_string", b""))


def _error_body(path: str, fault: Fault) -> Any:
    """A fault in the shape of the API the path belongs to: Keystone's, Glance's, Nova's."""
    p = _strip_prefix(path)
    if p == "/identity" or p.startswith("/identity/"):
        return {"error": {"code": fault.code, "title": HTTPStatus(fault.code).phrase,
                          "message": fault.message}}
    if p == "/image" or p.startswith("/image/"):
        return {"code": fault.code, "title": fault.title, "message": fault.message}
    return fault.body()


def _strip_prefix(path: str) -> str:
    if path == "/compute" or path.startswith("/compute/"):
        return path[len("/compute"):] or "/"
    return path


def _needs_auth(path: str) -> bool:
    """Version documents are public; everything under a version is not."""
    p = _strip_prefix(path).rstrip("/")
    if p in ("", "/v2.1", "/v2"):
        return False
    return p.startswith(("/v2.1/", "/v2/"))


def context_from_headers(headers: dict[str, str], request_id: str) -> RequestContext | None:
    user = headers.get("x-user-id")
    project = headers.get("x-project-id") or headers.get("x-tenant-id")
    if user and project:
        roles = tuple(r.strip().lower() for r in headers.get("x-roles", "").split(",")
                      if r.strip())
        return RequestContext(user_id=user, project_id=project, roles=roles,
                              request_id=request_id)
    token = headers.get("x-auth-token", "")
    if ":" in token:
        user, _, project = token.partition(":")
        if user and project:
            roles = ("admin", "member", "reader") if user == "admin" else ("member", "reader")
            return RequestContext(user_id=user, project_id=project, roles=roles,
                                  request_id=request_id)
    return None


async def authenticate(state: Any, settings: Settings, headers: dict[str, str],
                       request_id: str) -> RequestContext | None:
    """Who is calling, per the configured strategy; None if not authenticated."""
    if settings.auth_strategy == "noauth":
        return context_from_headers(headers, request_id)
    token = headers.get("x-auth-token")
    if not token:
        return None
    if settings.auth_strategy == "keystone-external":
        ctx: RequestContext | None = await state.external_keystone.context(token, request_id)
        return ctx
    authenticator: Authenticator = state.authenticator
    validated = await authenticator.validate(token)
    if validated is None or validated.project is None:
        return None
    return validated.context(request_id)


async def _send_json(send: Send, status: int, body: Any, headers: list[tuple[bytes, bytes]]
                     ) -> None:
    payload = orjson.dumps(body)
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()), *headers],
    })
    await send({"type": "http.response.body", "body": payload})


class ComputeMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # chosen by the outer ObserveMiddleware (bound to the logs), else here
        request_id = scope.get("state", {}).get("request_id") or new_request_id()
        extra: list[tuple[bytes, bytes]] = [
            (b"x-openstack-request-id", request_id.encode()),
            (b"x-compute-request-id", request_id.encode()),
        ]
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self._serve(scope, receive, tracked, request_id, extra)
        except Exception:
            # the one place an unexpected error is logged (once, with the request id the
            # outer ObserveMiddleware bound) and answered; nothing re-raises it
            log.exception("unexpected error in %s %s", scope.get("method"), scope["path"])
            if not started:
                await _send_json(send, 500, _error_body(scope["path"], Fault()), extra)

    async def _serve(self, scope: Scope, receive: Receive, send: Send, request_id: str,
                     extra: list[tuple[bytes, bytes]]) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope["headers"]}
        path = scope["path"]
        if _has_nul(scope):
            await _send_json(send, 400, _error_body(path, BadRequest(
                "Invalid input: the URL contains a NUL character")), extra)
            return
        versioned = _strip_prefix(path).startswith(VERSIONED_PREFIXES) or \
            _strip_prefix(path).rstrip("/") in ("/v2.1", "/v2")
        state = scope.setdefault("state", {})
        state["request_id"] = request_id

        if _needs_auth(path):
            try:
                ctx = await authenticate(scope["app"].state, self.settings, headers, request_id)
            except Fault as fault:  # e.g. 503: the identity views are behind the log
                await _send_json(send, fault.code, fault.body(), extra)
                return
            if ctx is None:
                await _send_json(send, 401, {"error": {
                    "code": 401, "title": "Unauthorized",
                    "message": "The request you have made requires authentication."}},
                    [*extra, (b"www-authenticate", b'Keystone uri="/identity"')])
                return
            state["context"] = ctx

        if versioned:
            try:
                version = microversion.negotiate(headers)
            except Fault as fault:
                await _send_json(send, fault.code, fault.body(), extra)
                return
            state["api_version"] = version
            v = str(version).encode()
            extra += [
                (b"openstack-api-version", b"compute " + v),
                (b"x-openstack-nova-api-version", v),
                (b"vary", VARY),
            ]

        if versioned and media_type(headers.get("content-type", "")) not in JSON_MEDIA_TYPES:
            await _send_json(send, 415, UnsupportedMediaType("Unsupported Content-Type")
                             .body(), extra)
            return

        limit = self.settings.max_body_bytes
        declared = headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            await _send_json(send, 413, TooLarge().body(), extra)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if len(body) > limit:
                await _send_json(send, 413, TooLarge().body(), extra)
                return
            more = message.get("more_body", False)
        if _identity_refuses(path, headers.get("content-type"), bytes(body)):
            await _send_json(send, 400, _error_body(path, BadRequest(
                "Expecting application/json in the Content-Type header of a request "
                "with a body.")), extra)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, replay, send_with_headers)
