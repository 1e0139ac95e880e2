"""The compute worker's part in volume attachments.

It reacts to attach, detach and swap requests for servers on its hosts: it checks the
server still waits for that step (so an event seen again after a restart does nothing
twice), calls the driver, and reports the outcome with FinishVolumeOperation. When a
server is deleted it asks for the server's volumes to be released.
"""

from __future__ import annotations

import traceback
import uuid
from typing import TYPE_CHECKING

from control_plane.context import now
from control_plane.domain.servers import volume_attachments as server_volumes
from control_plane.domain.servers.aggregate import Server
from control_plane.domain.volumes import commands as c
from control_plane.store.eventstore import RecordedEvent
from drivers.base import DriverError
from workers.scheduler import caused_by

if TYPE_CHECKING:
    from workers.compute.worker import ComputeWorker

REQUESTS = {"ServerVolumeAttachRequested": "attach", "ServerVolumeDetachRequested": "detach",
            "ServerVolumeSwapRequested": "swap"}
EVENTS = (*REQUESTS, "ServerDeleted")


async def handle(worker: ComputeWorker, event: RecordedEvent) -> None:
    server = await worker.bus.deps.unit_of_work().get(Server, uuid.UUID(event.stream_id))
    if server is None:
        return
    ctx = caused_by(event, worker.name)
    if event.event_type == "ServerDeleted":
        # the worker that deleted the guest; for a server deleted without a host
        # (never placed, or offloaded), any worker: releasing twice does nothing
        host = event.metadata.get("host")
        if server_volumes.devices(server) and (host is None or host in worker.hosts):
            await worker.bus.handle(c.ReleaseServerVolumes(event.stream_id), ctx)
        return
    if server.host not in worker.hosts:
        return
    assert server.host is not None
    operation = REQUESTS[event.event_type]
    d = event.data
    volume_id = d["old_volume_id"] if operation == "swap" else d["volume_id"]
    if not server_volumes.pending(server, operation, volume_id):
        return  # done already, or the server went away
    started = now().isoformat()
    message = details = ""
    try:
        if operation == "attach":
            await worker.driver.attach_volume(server.host, event.stream_id, volume_id,
                                              d["device"])
        elif operation == "detach":
            await worker.driver.detach_volume(server.host, event.stream_id, volume_id)
        else:
            device = server_volumes.devices(server)[volume_id]["device"]
            await worker.driver.swap_volume(server.host, event.stream_id, volume_id,
                                            d["new_volume_id"], device)
    except DriverError as exc:
        message, details = str(exc), "".join(traceback.format_exception(exc))
    await worker.bus.handle(c.FinishVolumeOperation(
        event.stream_id, server.host, operation, volume_id, started, message, details,
        d.get("new_volume_id", "")), ctx)
