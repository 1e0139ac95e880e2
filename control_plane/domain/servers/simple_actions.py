"""Simple server actions as data: pause, unpause, suspend, resume.

Each is a request (the API checks the state and sets a task) and an outcome (the
driver did it: new vm_state and power_state). Both are explicit, stably named
events on the Server's stream (``ServerPauseRequested``, ``ServerPaused``, ...),
generated here from one table so that the API, the worker and the projections
agree on every detail.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from eventsourcing.utils import register_topic

from control_plane.domain.base import EVENT_TYPES
from control_plane.domain.servers import states
from control_plane.domain.servers.aggregate import Server


@dataclass(frozen=True)
class SimpleAction:
    name: str  # the action, as Nova's instance actions name it
    vm_states: tuple[str, ...]  # where it may start
    task_state: str  # while the driver works
    final_vm_state: str
    final_power_state: int
    requested: type[Any]  # the request event class
    done: type[Any]  # the outcome event class
    compute_event: str  # the instance-action event name


def _events(title: str, task: str, vm: str, power: int) -> tuple[type[Any], type[Any]]:
    def start(self: Any, s: Server) -> None:
        s.task_state = task

    def finish(self: Any, s: Server) -> None:
        s.vm_state = vm
        s.task_state = None
        s.power_state = power

    meta: Any = type(Server.Event)  # the eventsourcing library's event metaclass
    requested = meta(f"{title}Requested", (Server.Event,),
                     {"TOPIC": f"Server{title}Requested", "apply": start,
                      "__qualname__": f"Server.{title}Requested"})
    done = meta(f"{title}Done", (Server.Event,),
                {"TOPIC": DONE_NAMES[title], "apply": finish,
                 "__annotations__": {"started_at": str},
                 "__qualname__": f"Server.{title}Done"})
    for cls in (requested, done):
        register_topic(cls.TOPIC, cls)
        EVENT_TYPES[cls.TOPIC] = cls
    return requested, done


DONE_NAMES = {"Pause": "ServerPaused", "Unpause": "ServerUnpaused",
              "Suspend": "ServerSuspended", "Resume": "ServerResumed"}


def _action(name: str, title: str, vm_states: tuple[str, ...], task: str, vm: str,
            power: int) -> SimpleAction:
    requested, done = _events(title, task, vm, power)
    return SimpleAction(name, vm_states, task, vm, power, requested, done,
                        f"compute_{name}_instance")


ACTIONS: dict[str, SimpleAction] = {a.name: a for a in (
    _action("pause", "Pause", (states.ACTIVE,), "pausing", states.PAUSED,
            states.PAUSED_POWER),
    _action("unpause", "Unpause", (states.PAUSED,), "unpausing", states.ACTIVE,
            states.RUNNING),
    _action("suspend", "Suspend", (states.ACTIVE,), "suspending", states.SUSPENDED,
            states.SHUTDOWN),
    _action("resume", "Resume", (states.SUSPENDED,), "resuming", states.ACTIVE,
            states.RUNNING),
)}
BY_TASK = {a.task_state: a for a in ACTIONS.values()}
Server.simple_tasks.update({a.task_state: a.name for a in ACTIONS.values()})
Server.simple_outcomes.update({a.name: a.done for a in ACTIONS.values()})
REQUESTED = {a.requested.TOPIC: a for a in ACTIONS.values()}
DONE = {a.done.TOPIC: a for a in ACTIONS.values()}


def request(server: Server, name: str, now: dt.datetime) -> None:
    action = ACTIONS[name]
    server._check(name, action.vm_states)
    server.trigger_event(action.requested, timestamp=now)
