"""What the domain refuses, and why: plain exceptions, no HTTP in them.

An aggregate raises one of these when a command cannot be carried out; the API maps each
kind to Nova's fault (``control_plane.api.faults.from_domain``), and so do the other
front doors (Keystone's error shape, the metadata service's plain text).
"""

from __future__ import annotations


class DomainError(Exception):
    """A command the domain refuses; ``message`` says why, in words a user can act on."""

    default = "The request cannot be carried out."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default
        super().__init__(self.message)


class Invalid(DomainError):
    """The request itself is wrong: a bad value, an impossible combination."""

    default = "Invalid request."


class NotFound(DomainError):
    """What the request names does not exist (or the caller may not see it)."""

    default = "The resource could not be found."


class Conflict(DomainError):
    """The request is valid, but not in the resource's current state."""

    default = "There was a conflict when trying to complete your request."


class NotPermitted(DomainError):
    """The caller may not do this to this resource (beyond what policy decides)."""

    default = "This operation is not permitted."


class QuotaExceeded(DomainError):
    """Carrying out the request would take a project past one of its limits."""

    default = "Quota exceeded."
