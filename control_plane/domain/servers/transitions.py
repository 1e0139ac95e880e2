"""How many server events move vm_state, task_state and power_state: one rule each.

Many server events (moves, rescue, soft delete, interfaces, volumes, power sync) only
move the three states in a fixed way. Such an event class carries its rule as data
(``TRANSITION``) and applies it in its ``apply``; what else it changes, it changes in
its ``apply`` too. The servers view folds the same ``apply`` (projections.servers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

KEEP = "<keep>"  # leave the state as it is


@dataclass(frozen=True)
class Transition:
    vm_state: str  # a vm_state, KEEP, or "=<data key>" to take it from the event's data
    task_state: str | None  # a task_state, None (no task), or KEEP
    power_state: int | str | None = None  # None: keep; "=<key>": from the event's data

    def move(self, event: Any, s: Any) -> None:
        """Apply the rule to a Server aggregate ``s``."""
        vm, task, power = resolve(self, vars(event), s.vm_state, s.task_state)
        s.vm_state, s.task_state = vm, task
        if power is not None:
            s.power_state = power


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

