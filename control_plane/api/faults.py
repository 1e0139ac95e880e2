"""Nova's faults: one exception type per fault kind, rendered one way by the API."""

from __future__ import annotations

from control_plane.domain import errors


class Fault(Exception):
    code = 500
    title = "computeFault"
    default = "The server has either erred or is incapable of performing the requested operation."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default
        super().__init__(self.message)

    def body(self) -> dict[str, dict[str, object]]:
        return {self.title: {"code": self.code, "message": self.message}}


class BadRequest(Fault):
    code = 400
    title = "badRequest"
    default = "Bad request."


class Unauthorized(Fault):
    code = 401
    title = "unauthorized"
    default = "The request you have made requires authentication."


class Forbidden(Fault):
    code = 403
    title = "forbidden"
    default = "Policy doesn't allow this operation to be performed."


class QuotaExceeded(Fault):
    code = 403
    title = "forbidden"
    default = "Quota exceeded."


class NotFound(Fault):
    code = 404
    title = "itemNotFound"
    default = "The resource could not be found."


class MethodNotAllowed(Fault):
    code = 405
    title = "badMethod"
    default = "The method is not allowed for the requested URL."


class NotAcceptable(Fault):
    code = 406
    title = "computeFault"
    default = "Not acceptable."


class Conflict(Fault):
    code = 409
    title = "conflictingRequest"
    default = "There was a conflict when trying to complete your request."


class TooLarge(Fault):
    code = 413
    title = "overLimit"
    default = "Request is too large."


class UnsupportedMediaType(Fault):
    code = 415
    title = "badMediaType"
    default = "The request media type is not supported."


class NotImplementedFault(Fault):
    code = 501
    title = "notImplemented"
    default = "The requested operation is not implemented."


class ServiceUnavailable(Fault):
    code = 503
    title = "serviceUnavailable"
    default = "Service is unavailable at this time."


_FROM_DOMAIN: dict[type[errors.DomainError], type[Fault]] = {
    errors.Invalid: BadRequest,
    errors.NotFound: NotFound,
    errors.Conflict: Conflict,
    errors.NotPermitted: Forbidden,
    errors.QuotaExceeded: QuotaExceeded,
}


def from_domain(error: errors.DomainError) -> Fault:
    """Nova's fault for what the domain refused, with the domain's message."""
    kind = next((fault for cls, fault in _FROM_DOMAIN.items() if isinstance(error, cls)), Fault)
    return kind(error.message)
