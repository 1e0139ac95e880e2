"""The compute worker's part in moving servers: resize (a cold migration to the new
flavor's host, then confirm or revert), shelve / offload / unshelve, live migration and
evacuation.

Each step checks that the server still waits for it (so an event seen again after a
restart does nothing twice), calls the driver on the host that carries the step out,
and reports the outcome with a command.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from control_plane.context import now
from control_plane.domain.servers import commands as c
from control_plane.domain.servers import moves as server_moves
from control_plane.domain.servers import resize as server_resize
from control_plane.domain.servers import shelve as server_shelve
from control_plane.domain.servers import states
from control_plane.domain.servers.aggregate import Server
from control_plane.store.eventstore import RecordedEvent
from drivers.base import DriverError
from workers.compute.specs import spec_of
from workers.scheduler import caused_by

if TYPE_CHECKING:
    from workers.compute.worker import ComputeWorker

# resize events, and the host (key of the event's data, or the server's current host)
# whose worker reacts to each
RESIZE = {"ServerResizeScheduled": "host", "ServerResizeConfirmed": "source_host",
          "ServerRevertResizeRequested": None}
# moves: event -> the key of its data naming the host whose worker carries it out
MOVES = {"ServerLiveMigrationStarted": "source", "ServerEvacuationStarted": "dest"}
SHELVE = ("ServerShelveRequested", "ServerShelveOffloadRequested", "ServerUnshelveRequested",
          "ServerUnshelveScheduled")
EVENTS = (*RESIZE, *SHELVE, *MOVES)


async def handle(worker: ComputeWorker, event: RecordedEvent) -> None:
    """One of ``EVENTS``, to the step that carries it out."""
    if event.event_type in MOVES:
        await move(worker, event)
    elif event.event_type in RESIZE:
        await resize(worker, event)
    elif event.event_type in SHELVE:
        server = await worker.bus.deps.unit_of_work().get(Server, uuid.UUID(event.stream_id))
        if server is not None:
            await shelve(worker, event, server)


async def resize(worker: ComputeWorker, event: RecordedEvent) -> None:
    """Copy the guest to its new host with the new flavor; on confirm remove the source
    copy, on revert the target copy (the source copy takes over again)."""
    key = RESIZE[event.event_type]
    server = await worker.bus.deps.unit_of_work().get(Server, uuid.UUID(event.stream_id))
    host = event.data[key] if key else (server.host if server else None)
    if server is None or host not in worker.hosts:
        return
    ctx = caused_by(event, worker.name)
    started = now().isoformat()
    sid = event.stream_id
    if event.event_type == "ServerResizeScheduled":
        if server.task_state != server_resize.RESIZE_MIGRATING:
            return
        spec = spec_of(server, flavor=server.new_flavor or server.flavor)
        try:
            await worker.driver.migrate(server.resize_source, host, spec)
        except DriverError as exc:
            await worker.bus.handle(c.FailResize(sid, host, started, str(exc)), ctx)
            return
        await worker.bus.handle(c.FinishResize(sid, host, started), ctx)
    elif event.event_type == "ServerResizeConfirmed":
        await worker.driver.destroy(host, sid)  # the source copy is no longer needed
    else:  # revert: drop the target copy, the source copy takes over again
        if server.task_state != server_resize.RESIZE_REVERTING:
            return
        await worker.driver.destroy(host, sid)
        if server.resize_source is not None:
            await worker.driver.finish_revert_migration(server.resize_source, sid)
        await worker.bus.handle(c.FinishRevertResize(sid, host, started), ctx)


async def shelve(worker: ComputeWorker, event: RecordedEvent, server: Server) -> None:
    """Shelve (snapshot, then power off or remove), offload, and unshelve (power on
    where it is, or spawn from the shelved image on the host it was scheduled to)."""
    host, sid = server.host, event.stream_id
    if host not in worker.hosts:
        return
    assert host is not None
    ctx = caused_by(event, worker.name)
    started = now().isoformat()
    kind = event.event_type
    if kind == "ServerShelveRequested" and server.task_state == server_shelve.SHELVING:
        size = await worker.driver.snapshot(host, sid, event.data["image_id"])
        offload = bool(event.data["offload"])
        if offload:
            await worker.driver.destroy(host, sid)
        else:
            await worker.driver.power_off(host, sid)
        await worker.bus.handle(c.FinishShelve(sid, host, started, offload, size), ctx)
    elif kind == "ServerShelveOffloadRequested" and \
            server.task_state == server_shelve.OFFLOADING:
        await worker.driver.destroy(host, sid)
        await worker.bus.handle(c.FinishOffload(sid, host, started), ctx)
    elif kind == "ServerUnshelveRequested" and server.task_state == server_shelve.UNSHELVING:
        await worker.driver.power_on(host, sid)  # shelved, not offloaded: still here
        await worker.bus.handle(c.FinishUnshelve(sid, host, started), ctx)
    elif kind == "ServerUnshelveScheduled" and server.task_state == server_shelve.SPAWNING:
        await worker.driver.spawn(host, spec_of(
            server, image_ref=server.shelved_image or server.image_ref))
        await worker.bus.handle(c.FinishUnshelve(sid, host, started), ctx)


async def move(worker: ComputeWorker, event: RecordedEvent) -> None:
    """Live migration (the source host's worker carries it out) and evacuation (the
    target's worker rebuilds the guest, its source host being down)."""
    if event.data[MOVES[event.event_type]] not in worker.hosts:
        return
    server = await worker.bus.deps.unit_of_work().get(Server, uuid.UUID(event.stream_id))
    if server is None or getattr(server, "move_target", None) != event.data["dest"]:
        return  # finished already (seen again after a restart), or deleted
    ctx = caused_by(event, worker.name)
    started = now().isoformat()
    sid, source, dest = event.stream_id, event.data["source"], event.data["dest"]
    ok, message = True, ""
    if event.event_type == "ServerLiveMigrationStarted":
        if server.task_state != server_moves.MIGRATING:
            return
        try:
            await worker.driver.live_migrate(source, dest, sid)
        except DriverError as exc:
            ok, message = False, str(exc)
        await worker.bus.handle(c.FinishLiveMigration(sid, source, started, ok, message), ctx)
        return
    if server.task_state != server_moves.REBUILDING:
        return
    try:  # the source host is down: rebuild the guest from its image on the target
        await worker.driver.spawn(dest, spec_of(server, sealed_pass=event.data["admin_pass"]))
        if event.data["return_to"] == states.STOPPED:
            await worker.driver.power_off(dest, sid)
    except DriverError as exc:
        ok, message = False, str(exc)
    await worker.bus.handle(c.FinishEvacuation(sid, dest, started, ok, message), ctx)
