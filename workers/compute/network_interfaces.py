"""The compute worker's part in server networking.

Interface attach and detach: it checks the server still waits for that step (so an
event seen again after a restart does nothing twice), hot-plugs or unplugs through the
driver, and reports the outcome with FinishInterfaceOperation. A fixed IP added or
removed, and injectNetworkInfo, give the guest its new network configuration
(``inject_network_info``, as Nova's compute does); resetNetwork asks the guest to
reconfigure. When a server is deleted it asks for its ports and floating IPs to be
released.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from typing import TYPE_CHECKING

from control_plane.context import now
from control_plane.domain.networks import commands as c
from control_plane.domain.servers import network as server_network
from control_plane.domain.servers.aggregate import Server
from control_plane.store.eventstore import RecordedEvent
from drivers.base import DriverError
from workers.scheduler import caused_by

if TYPE_CHECKING:
    from workers.compute.worker import ComputeWorker

log = logging.getLogger(__name__)

REQUESTS = {"ServerInterfaceAttachRequested": "attach",
            "ServerInterfaceDetachRequested": "detach"}
INJECT = ("ServerFixedIpAdded", "ServerFixedIpRemoved", "ServerNetworkInfoInjectRequested")
RESET = "ServerNetworkResetRequested"
EVENTS = (*REQUESTS, *INJECT, RESET, "ServerDeleted")


async def _released(worker: ComputeWorker, event: RecordedEvent, server: Server) -> None:
    # the worker that deleted the guest; for a server deleted without a host (never
    # placed, or offloaded), any worker: releasing twice does nothing
    host = event.metadata.get("host")
    if (server_network.vifs(server) or server_network.floating_ips(server)) and (
            host is None or host in worker.hosts):
        await worker.bus.handle(c.ReleaseServerNetwork(event.stream_id),
                                caused_by(event, worker.name))


async def handle(worker: ComputeWorker, event: RecordedEvent) -> None:
    server = await worker.bus.deps.unit_of_work().get(Server, uuid.UUID(event.stream_id))
    if server is None:
        return
    if event.event_type == "ServerDeleted":
        await _released(worker, event, server)
        return
    if server.deleted or server.host not in worker.hosts:
        return
    assert server.host is not None
    sid = event.stream_id
    if event.event_type in INJECT or event.event_type == RESET:
        try:
            if event.event_type == RESET:
                await worker.driver.reset_network(server.host, sid)
            else:
                settled = [v for v in server_network.vifs(server).values()
                           if v["state"] != server_network.ATTACHING]
                await worker.driver.inject_network_info(server.host, sid, settled)
        except DriverError as exc:  # no guest yet (building), or it is gone: nothing to do
            log.info("%s: network update of %s skipped: %s", worker.name, sid, exc)
        return
    operation = REQUESTS[event.event_type]
    port_id = event.data["vif"]["port_id"] if operation == "attach" else event.data["port_id"]
    if not server_network.pending(server, operation, port_id):
        return  # done already, or the server went away
    started = now().isoformat()
    message = details = ""
    try:
        if operation == "attach":
            await worker.driver.attach_interface(server.host, sid,
                                                 server_network.vifs(server)[port_id])
        else:
            await worker.driver.detach_interface(server.host, sid, port_id)
    except DriverError as exc:
        message, details = str(exc), "".join(traceback.format_exception(exc))
    await worker.bus.handle(c.FinishInterfaceOperation(
        sid, server.host, operation, port_id, started, message, details),
        caused_by(event, worker.name))
