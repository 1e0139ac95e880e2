"""Power-state sync: what the hypervisor says a guest is doing wins.

A compute worker compares each guest's real power state with the server's (periodically,
and at once when a guest's QEMU reports a shutdown or goes away) and reports it. As
Nova's power-state sync does, only servers with no task in progress are touched:

* the observed power state is recorded (``ServerPowerStateSynced``) when it differs;
* a server that should run (ACTIVE, PAUSED) but whose guest is off or gone, or a STOPPED
  server whose guest runs, is stopped on the system's behalf (``ServerStopRequested``,
  then the worker's usual stop), so its status becomes SHUTOFF and the instance actions
  show a ``stop`` by the compute worker.
"""

from __future__ import annotations

import datetime as dt

from control_plane.domain.servers import states
from control_plane.domain.servers.aggregate import Server
from control_plane.domain.servers.transitions import KEEP, Transition


class PowerStateSynced(Server.Event):
    TOPIC = "ServerPowerStateSynced"
    TRANSITION = Transition(KEEP, KEEP, "=power_state")
    power_state: int

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)


OFF = (states.NOSTATE, states.SHUTDOWN, states.CRASHED)
ON = (states.RUNNING, states.PAUSED_POWER)


def must_stop(server: Server, observed: int) -> bool:
    """The guest is off while the server should run, or runs while it should not."""
    return (server.vm_state in (states.ACTIVE, states.PAUSED) and observed in OFF) or (
        server.vm_state == states.STOPPED and observed in ON)


def checkable(server: Server) -> bool:
    """Only a server with no task in progress is checked (a task's outcome will say)."""
    return not server.deleted and server.task_state is None


def out_of_line(server: Server, observed: int) -> bool:
    """The guest's ``observed`` power state calls for a change of the server."""
    return observed != server.power_state or must_stop(server, observed)


def sync(server: Server, observed: int, now: dt.datetime) -> bool:
    """Bring the server in line with its guest's ``observed`` power state; False when
    there was nothing to do (or it cannot be checked now)."""
    if not checkable(server) or not out_of_line(server, observed):
        return False
    if observed != server.power_state:
        server.trigger_event(PowerStateSynced, timestamp=now, power_state=observed)
    if must_stop(server, observed):
        server.trigger_event(Server.StopRequested, timestamp=now)
    return True
