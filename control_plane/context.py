"""Who is asking, and on behalf of which request."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any


def new_request_id() -> str:
    return f"req-{uuid.uuid4()}"


@dataclass(frozen=True)
class RequestContext:
    user_id: str
    project_id: str
    roles: tuple[str, ...] = ()
    request_id: str = field(default_factory=new_request_id)
    causation_id: int | None = None  # position of the event this command reacts to
    actor: str | None = None  # the follower issuing the command, if not a user

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def metadata(self, **extra: Any) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "request_id": self.request_id,
            "user_id": self.user_id,
            "project_id": self.project_id,
        }
        if self.causation_id is not None:
            meta["causation_id"] = self.causation_id
        if self.actor is not None:
            meta["actor"] = self.actor
        meta.update(extra)
        return meta


SYSTEM = RequestContext(user_id="control-plane", project_id="service", roles=("admin",),
                        request_id="req-system")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
