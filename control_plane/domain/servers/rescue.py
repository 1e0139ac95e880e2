"""Rescue, unrescue, changePassword, and the guest-set server password.

rescue          -> ServerRescueRequested         task rescuing (admin password sealed)
worker          -> ServerRescued                 vm_state rescued
unrescue        -> ServerUnrescueRequested       task unrescuing
worker          -> ServerUnrescued               vm_state active
changePassword  -> ServerPasswordChangeRequested task updating_password (status PASSWORD)
worker          -> ServerPasswordChanged
metadata service-> ServerPasswordSet        (the guest's encrypted password)
DELETE os-server-password -> ServerPasswordCleared

Admin passwords never enter the log in clear: they are sealed with the deployment's
keys (control_plane.access.tokens.seal) and only the compute worker unseals them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from control_plane.domain.errors import Conflict
from control_plane.domain.servers import states
from control_plane.domain.servers.aggregate import Server
from control_plane.domain.servers.transitions import KEEP, Transition

RESCUING = "rescuing"
UNRESCUING = "unrescuing"
UPDATING_PASSWORD = "updating_password"


class RescueRequested(Server.Event):
    TOPIC = "ServerRescueRequested"
    TRANSITION = Transition(KEEP, RESCUING)
    rescue_image_ref: str
    admin_pass: str

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)


class Rescued(Server.Event):
    TOPIC = "ServerRescued"
    TRANSITION = Transition(states.RESCUED, None, states.RUNNING)
    started_at: str

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)


class UnrescueRequested(Server.Event):
    TOPIC = "ServerUnrescueRequested"
    TRANSITION = Transition(KEEP, UNRESCUING)

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)


class Unrescued(Server.Event):
    TOPIC = "ServerUnrescued"
    TRANSITION = Transition(states.ACTIVE, None, states.RUNNING)
    started_at: str

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)


class PasswordChangeRequested(Server.Event):
    TOPIC = "ServerPasswordChangeRequested"
    TRANSITION = Transition(KEEP, UPDATING_PASSWORD)
    admin_pass: str

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)


class PasswordChanged(Server.Event):
    TOPIC = "ServerPasswordChanged"
    TRANSITION = Transition(KEEP, None)
    started_at: str

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)


def _set(event: Any, s: Server) -> None:
    s.guest_password = event.password


def _clear(event: Any, s: Server) -> None:
    s.guest_password = ""


class PasswordSet(Server.Event):
    TOPIC = "ServerPasswordSet"
    TRANSITION = Transition(KEEP, KEEP)
    password: str

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)
        _set(self, s)


class PasswordCleared(Server.Event):
    TOPIC = "ServerPasswordCleared"
    TRANSITION = Transition(KEEP, KEEP)

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)
        _clear(self, s)


for _task, _action, _done in ((RESCUING, "rescue", Rescued), (UNRESCUING, "unrescue", Unrescued),
                              (UPDATING_PASSWORD, "changePassword", PasswordChanged)):
    Server.simple_tasks[_task] = _action
    Server.simple_outcomes[_action] = _done


def request_rescue(server: Server, image_ref: str, sealed_pass: str, now: dt.datetime) -> None:
    server._check("rescue", (states.ACTIVE, states.STOPPED, states.ERROR))
    server.trigger_event(RescueRequested, rescue_image_ref=image_ref, admin_pass=sealed_pass,
                         timestamp=now)


def request_unrescue(server: Server, now: dt.datetime) -> None:
    server._check("unrescue", (states.RESCUED,))
    server.trigger_event(UnrescueRequested, timestamp=now)


def request_password_change(server: Server, sealed_pass: str, now: dt.datetime) -> None:
    server._check("changePassword", (states.ACTIVE,))
    server.trigger_event(PasswordChangeRequested, admin_pass=sealed_pass, timestamp=now)


def set_password(server: Server, password: str, now: dt.datetime) -> None:
    """The guest posts its password once; it must be cleared before another is taken."""
    server._require_not_deleted()
    if getattr(server, "guest_password", ""):
        raise Conflict("The server password is already set.")
    server.trigger_event(PasswordSet, password=password, timestamp=now)


def clear_password(server: Server, now: dt.datetime) -> None:
    server._require_not_deleted()
    server.trigger_event(PasswordCleared, timestamp=now)
