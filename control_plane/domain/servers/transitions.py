"""Server events declared as state transitions.

Most server events move vm_state, task_state and power_state in a fixed way. This
module declares such events from one description (``Transition``), so that the
aggregate (which applies the event) and the servers view (which projects it) read
the same table and cannot disagree. An event may add its own effect on the
aggregate (``also``) and on the view row (``view_sql``, a SET fragment whose
parameters are $6 = the event time, then the event data keys of ``view_args``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from control_plane.domain.servers.aggregate import Server

KEEP = "<keep>"  # leave vm_state as it is


@dataclass(frozen=True)
class Transition:
    vm_state: str  # a vm_state, KEEP, or "=<data key>" to take it from the event's data
    task_state: str | None  # a task_state, None (no task), or KEEP
    power_state: int | str | None = None  # None: keep; "=<key>": from the event's data
    view_sql: str = ""
    view_args: tuple[str, ...] = ()
    fields: dict[str, Any] = field(default_factory=dict)


TRANSITIONS: dict[str, Transition] = {}


def _resolve(value: Any, data: dict[str, Any]) -> Any:
    if isinstance(value, str) and value.startswith("="):
        return data[value[1:]]
    return value


def resolve(t: Transition, data: dict[str, Any], vm_state: str, task_state: str | None
            ) -> tuple[str, str | None, int | None]:
    """(vm_state, task_state, power_state or None to keep) after an event with ``data``."""
    vm = vm_state if t.vm_state == KEEP else _resolve(t.vm_state, data)
    task = task_state if t.task_state == KEEP else t.task_state
    return vm, task, _resolve(t.power_state, data)


def transition_event(topic: str, transition: Transition,
                     also: Callable[[Any, Server], None] | None = None) -> type[Any]:
    """Declare a Server event named ``topic`` that makes ``transition``."""

    def apply(self: Any, s: Server) -> None:
        data = {k: getattr(self, k) for k in transition.fields}
        vm, task, power = resolve(transition, data, s.vm_state, s.task_state)
        s.vm_state, s.task_state = vm, task
        if power is not None:
            s.power_state = power
        if also is not None:
            also(self, s)

    meta: Any = type(Server.Event)  # the eventsourcing library's event metaclass
    name = topic.removeprefix("Server")
    cls: type[Any] = meta(name, (Server.Event,), {
        "TOPIC": topic, "apply": apply, "__annotations__": dict(transition.fields),
        "__qualname__": f"Server.{name}"})
    TRANSITIONS[topic] = transition
    return cls
