"""Simple server actions as data: pause, unpause, suspend, resume.

Each is a request (the API checks the state and sets a task) and an outcome (the
driver did it: new vm_state and power_state). Both are explicit, stably named
events on the Server's stream (``ServerPauseRequested``, ``ServerPaused``, ...),
declared here as plain event classes and tied together in one table (``ACTIONS``)
so that the API, the worker and the projections agree on every detail.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from control_plane.domain.servers import actions, states
from control_plane.domain.servers.aggregate import Server

PAUSING = "pausing"
UNPAUSING = "unpausing"
SUSPENDING = "suspending"
RESUMING = "resuming"


class PauseRequested(Server.Event):
    TOPIC = "ServerPauseRequested"

    def apply(self, s: Server) -> None:
        s.task_state = PAUSING


class Paused(Server.Event):
    TOPIC = "ServerPaused"
    started_at: str

    def apply(self, s: Server) -> None:
        s.vm_state, s.task_state, s.power_state = states.PAUSED, None, states.PAUSED_POWER


class UnpauseRequested(Server.Event):
    TOPIC = "ServerUnpauseRequested"

    def apply(self, s: Server) -> None:
        s.task_state = UNPAUSING


class Unpaused(Server.Event):
    TOPIC = "ServerUnpaused"
    started_at: str

    def apply(self, s: Server) -> None:
        s.vm_state, s.task_state, s.power_state = states.ACTIVE, None, states.RUNNING


class SuspendRequested(Server.Event):
    TOPIC = "ServerSuspendRequested"

    def apply(self, s: Server) -> None:
        s.task_state = SUSPENDING


class Suspended(Server.Event):
    TOPIC = "ServerSuspended"
    started_at: str

    def apply(self, s: Server) -> None:
        s.vm_state, s.task_state, s.power_state = states.SUSPENDED, None, states.SHUTDOWN


class ResumeRequested(Server.Event):
    TOPIC = "ServerResumeRequested"

    def apply(self, s: Server) -> None:
        s.task_state = RESUMING


class Resumed(Server.Event):
    TOPIC = "ServerResumed"
    started_at: str

    def apply(self, s: Server) -> None:
        s.vm_state, s.task_state, s.power_state = states.ACTIVE, None, states.RUNNING


EVENTS = (PauseRequested, Paused, UnpauseRequested, Unpaused, SuspendRequested, Suspended,
          ResumeRequested, Resumed)


@dataclass(frozen=True)
class SimpleAction:
    name: str  # the instance action (control_plane.domain.servers.actions)
    vm_states: tuple[str, ...]  # where it may start
    task_state: str  # while the driver works
    final_vm_state: str
    final_power_state: int
    requested: type[Any]  # the request event class
    done: type[Any]  # the outcome event class
    compute_event: str  # the instance-action event name


ACTIONS: dict[str, SimpleAction] = {a.name: a for a in (
    SimpleAction(actions.PAUSE, (states.ACTIVE,), PAUSING, states.PAUSED, states.PAUSED_POWER,
                 PauseRequested, Paused, "compute_pause_instance"),
    SimpleAction(actions.UNPAUSE, (states.PAUSED,), UNPAUSING, states.ACTIVE, states.RUNNING,
                 UnpauseRequested, Unpaused, "compute_unpause_instance"),
    SimpleAction(actions.SUSPEND, (states.ACTIVE,), SUSPENDING, states.SUSPENDED, states.SHUTDOWN,
                 SuspendRequested, Suspended, "compute_suspend_instance"),
    SimpleAction(actions.RESUME, (states.SUSPENDED,), RESUMING, states.ACTIVE, states.RUNNING,
                 ResumeRequested, Resumed, "compute_resume_instance"),
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
