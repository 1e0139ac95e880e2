"""A server's attached volumes (its volume block devices), as events on the Server stream.

attach  -> ServerVolumeAttachRequested   the device is reserved (listed at once, as Nova
                                         lists the block device mapping it creates)
worker  -> ServerVolumeAttached          (or ServerVolumeAttachFailed: the device is freed)
detach  -> ServerVolumeDetachRequested
worker  -> ServerVolumeDetached          (or ServerVolumeDetachFailed: still attached)
swap    -> ServerVolumeSwapRequested     (admin: another volume takes the device)
worker  -> ServerVolumeSwapped           (or ServerVolumeSwapFailed)
server deleted -> ServerVolumesReleased  every volume is free again

None of these change vm_state or task_state (Nova sets no task for them); the
servers view shows the devices as ``volumes_attached``, in the order they were made.
The matching events on each Volume's own stream are appended in the same unit of work
(control_plane.domain.volumes.aggregate).
"""

from __future__ import annotations

import datetime as dt
import string
from typing import Any

from control_plane.domain.errors import Conflict, NotFound
from control_plane.domain.servers import actions, states
from control_plane.domain.servers.aggregate import Server
from control_plane.domain.servers.transitions import KEEP, Transition

ATTACHING = "attaching"
ATTACHED = "attached"
DETACHING = "detaching"
SWAPPING = "swapping"

# Nova's allowed vm_states for attach and detach. Nova also allows shelved and
# shelved_offloaded from microversion 2.20, beyond what this API serves (2.14), so
# they are refused here with the message Nova's version check gives.
ATTACH_STATES = (states.ACTIVE, states.PAUSED, states.STOPPED, states.RESIZED,
                 states.SOFT_DELETED)
SWAP_STATES = (states.ACTIVE, states.PAUSED, states.RESIZED)

def devices(server: Server) -> dict[str, dict[str, Any]]:
    """volume id -> {"device", "state"}: the server's volume block devices."""
    found: dict[str, dict[str, Any]] = getattr(server, "block_devices", {})
    return found


def shown(server: Server) -> list[dict[str, Any]]:
    """The volumes GET /servers lists (``volumes_attached``), in the order attached."""
    return list(getattr(server, "shown_volumes", []))


def _set(server: Server, block_devices: dict[str, dict[str, Any]]) -> None:
    server.block_devices = block_devices  # type: ignore[attr-defined]


def _with_state(state: str) -> Any:
    def also(event: Any, s: Server) -> None:
        _set(s, {**devices(s), event.volume_id: {**devices(s)[event.volume_id],
                                                 "state": state}})
    return also


def _added(event: Any, s: Server) -> None:
    _set(s, {**devices(s), event.volume_id: {"device": event.device, "state": ATTACHING}})
    s.shown_volumes = [*shown(s), {"id": event.volume_id, "delete_on_termination": False}]


def _removed(event: Any, s: Server) -> None:
    _set(s, {k: v for k, v in devices(s).items() if k != event.volume_id})
    s.shown_volumes = [v for v in shown(s) if v["id"] != event.volume_id]


def _swap_started(event: Any, s: Server) -> None:
    old = devices(s)[event.old_volume_id]
    _set(s, {**devices(s), event.old_volume_id: {**old, "state": SWAPPING,
                                                 "swap_to": event.new_volume_id}})


def _swap_failed(event: Any, s: Server) -> None:
    old = {k: v for k, v in devices(s)[event.old_volume_id].items() if k != "swap_to"}
    _set(s, {**devices(s), event.old_volume_id: {**old, "state": ATTACHED}})


def _swapped(event: Any, s: Server) -> None:
    _set(s, {(event.new_volume_id if k == event.old_volume_id else k):
             ({"device": v["device"], "state": ATTACHED} if k == event.old_volume_id else v)
             for k, v in devices(s).items()})
    s.shown_volumes = [{**v, "id": event.new_volume_id} if v["id"] == event.old_volume_id
                       else v for v in shown(s)]


def _released(event: Any, s: Server) -> None:
    _set(s, {})
    s.shown_volumes = []


class AttachRequested(Server.Event):
    TOPIC = "ServerVolumeAttachRequested"
    TRANSITION = Transition(KEEP, KEEP)
    volume_id: str
    device: str
    disk_bus: str | None
    device_type: str | None

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)
        _added(self, s)


class Attached(Server.Event):
    TOPIC = "ServerVolumeAttached"
    TRANSITION = Transition(KEEP, KEEP)
    volume_id: str
    started_at: str
    step: str

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)
        _with_state(ATTACHED)(self, s)


class AttachFailed(Server.Event):
    TOPIC = "ServerVolumeAttachFailed"
    TRANSITION = Transition(KEEP, KEEP)
    volume_id: str
    started_at: str
    step: str
    message: str
    details: str

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)
        _removed(self, s)


class DetachRequested(Server.Event):
    TOPIC = "ServerVolumeDetachRequested"
    TRANSITION = Transition(KEEP, KEEP)
    volume_id: str

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)
        _with_state(DETACHING)(self, s)


class Detached(Server.Event):
    TOPIC = "ServerVolumeDetached"
    TRANSITION = Transition(KEEP, KEEP)
    volume_id: str
    started_at: str
    step: str

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)
        _removed(self, s)


class DetachFailed(Server.Event):
    TOPIC = "ServerVolumeDetachFailed"
    TRANSITION = Transition(KEEP, KEEP)
    volume_id: str
    started_at: str
    step: str
    message: str
    details: str

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)
        _with_state(ATTACHED)(self, s)


class SwapRequested(Server.Event):
    TOPIC = "ServerVolumeSwapRequested"
    TRANSITION = Transition(KEEP, KEEP)
    old_volume_id: str
    new_volume_id: str

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)
        _swap_started(self, s)


class Swapped(Server.Event):
    TOPIC = "ServerVolumeSwapped"
    TRANSITION = Transition(KEEP, KEEP)
    old_volume_id: str
    new_volume_id: str
    started_at: str
    step: str

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)
        _swapped(self, s)


class SwapFailed(Server.Event):
    TOPIC = "ServerVolumeSwapFailed"
    TRANSITION = Transition(KEEP, KEEP)
    old_volume_id: str
    new_volume_id: str
    started_at: str
    step: str
    message: str
    details: str

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)
        _swap_failed(self, s)


class Released(Server.Event):
    TOPIC = "ServerVolumesReleased"
    TRANSITION = Transition(KEEP, KEEP)
    volume_ids: list[str]

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)
        _released(self, s)


# request event -> instance action (Nova's names), and the events that end each
# action's compute step (their "step" data names it, as Nova's wrap_instance_event does)
OPENS = {"ServerVolumeAttachRequested": actions.ATTACH_VOLUME,
         "ServerVolumeDetachRequested": actions.DETACH_VOLUME,
         "ServerVolumeSwapRequested": actions.SWAP_VOLUME}
STEPS = {"ServerVolumeAttached": True, "ServerVolumeAttachFailed": False,
         "ServerVolumeDetached": True, "ServerVolumeDetachFailed": False,
         "ServerVolumeSwapped": True, "ServerVolumeSwapFailed": False}
STEP_NAMES = {"attach": "compute_attach_volume", "detach": "compute_detach_volume",
              "swap": "compute_swap_volume"}


def _letters(n: int) -> str:
    """0 -> a, 25 -> z, 26 -> aa: the suffix of the n-th disk name (as libvirt counts)."""
    out = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        out = string.ascii_lowercase[r] + out
    return out


def _taken(server: Server) -> set[str]:
    """Device names in use: the root disk, the flavor's ephemeral and swap disks, and
    the volumes attached (or being attached)."""
    local = 1 + bool(server.flavor.get("ephemeral")) + bool(server.flavor.get("swap"))
    names = {f"/dev/vd{_letters(i)}" for i in range(local)}
    return names | {d["device"] for d in devices(server).values()}


def next_device(server: Server) -> str:
    taken = _taken(server)
    i = 0
    while f"/dev/vd{_letters(i)}" in taken:
        i += 1
    return f"/dev/vd{_letters(i)}"


def check_attach(server: Server) -> None:
    server._check("attach_volume", ATTACH_STATES)


def request_attach(server: Server, volume_id: str, device: str | None, disk_bus: str | None,
                   device_type: str | None, now: dt.datetime) -> str:
    """Reserve a device for the volume; returns the device's name."""
    check_attach(server)
    if device and device in _taken(server):
        raise Conflict(f"The supplied device path ({device}) is in use.")
    device = device or next_device(server)
    server.trigger_event(AttachRequested, volume_id=volume_id, device=device,
                         disk_bus=disk_bus, device_type=device_type, timestamp=now)
    return device


def attached_device(server: Server, volume_id: str) -> dict[str, Any]:
    found = devices(server).get(volume_id)
    if found is None:
        raise NotFound(f"Instance {server.id} is not attached to volume {volume_id}")
    return found


def request_detach(server: Server, volume_id: str, now: dt.datetime) -> None:
    attached_device(server, volume_id)
    server._check("detach_volume", ATTACH_STATES)
    server.trigger_event(DetachRequested, volume_id=volume_id, timestamp=now)


def request_swap(server: Server, old_volume_id: str, new_volume_id: str, now: dt.datetime
                 ) -> str:
    """Start swapping the old volume's device over to the new one; returns the device."""
    found = attached_device(server, old_volume_id)
    server._check("swap_volume", SWAP_STATES)
    server.trigger_event(SwapRequested, old_volume_id=old_volume_id,
                         new_volume_id=new_volume_id, timestamp=now)
    return str(found["device"])


def pending(server: Server, operation: str, volume_id: str) -> bool:
    """Is this operation on the volume still waiting for its compute step?"""
    if server.deleted:
        return False
    want = {"attach": ATTACHING, "detach": DETACHING, "swap": SWAPPING}[operation]
    found = devices(server).get(volume_id)
    return found is not None and found["state"] == want


def finish(server: Server, operation: str, volume_id: str, new_volume_id: str,
           started_at: str, message: str, details: str, now: dt.datetime) -> bool:
    """The compute worker's outcome (an empty message: success). False if not pending."""
    if not pending(server, operation, volume_id):
        return False
    outcome: dict[str, Any] = {"started_at": started_at, "step": STEP_NAMES[operation],
                               "timestamp": now}
    if message:
        outcome.update(message=message, details=details)
    if operation == "swap":
        event = SwapFailed if message else Swapped
        server.trigger_event(event, old_volume_id=volume_id, new_volume_id=new_volume_id,
                             **outcome)
        return True
    events = {"attach": (Attached, AttachFailed), "detach": (Detached, DetachFailed)}
    server.trigger_event(events[operation][bool(message)], volume_id=volume_id, **outcome)
    return True


def release_all(server: Server, now: dt.datetime) -> list[str]:
    """The server is deleted: its volumes are detached. Returns their ids, and those of
    volumes a swap in flight had reserved."""
    found = devices(server)
    if not found:
        return []
    server.trigger_event(Released, volume_ids=sorted(found), timestamp=now)
    return sorted({*found, *(d["swap_to"] for d in found.values() if "swap_to" in d)})
