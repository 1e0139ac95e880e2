"""The compute worker: follows the log and drives its hypervisors.

It reacts to servers scheduled onto its hosts and to deletions of servers on its
hosts, calls the driver, and reports the outcome with a command. Before calling
the driver it checks the server's current state, so an event seen twice (after
a restart) does not spawn or destroy twice.
"""

from __future__ import annotations

import logging
import traceback
import uuid

from control_plane import commands as c
from control_plane.bus import MessageBus
from control_plane.context import now
from control_plane.domain import server_actions as simple_actions
from control_plane.domain import server_resize, server_shelve, server_snapshot, states
from control_plane.domain.server import Server
from control_plane.eventstore import EventStore, Notifier, RecordedEvent
from control_plane.follower import Follower
from control_plane.scheduler import caused_by
from control_plane.uow import UnitOfWork
from drivers.base import DriverError, HypervisorDriver, InstanceSpec

log = logging.getLogger(__name__)


# request event -> the action it asks for
ACTIONS = {"ServerStopRequested": "stop", "ServerStartRequested": "start",
           "ServerRebootRequested": "reboot",
           "ServerRebuildRequested": "rebuild",
           **{topic: a.name for topic, a in simple_actions.REQUESTED.items()}}


# resize events, and the host (key of the event's data, or the server's current host)
# whose worker reacts to each
RESIZE = {"ServerResizeScheduled": "host", "ServerResizeConfirmed": "source_host",
          "ServerRevertResizeRequested": None}
SNAPSHOT = "ServerSnapshotRequested"
SHELVE = ("ServerShelveRequested", "ServerShelveOffloadRequested", "ServerUnshelveRequested",
          "ServerUnshelveScheduled")


class ComputeWorker(Follower):
    types = ("ServerScheduled", "ServerDeleteRequested", SNAPSHOT, *ACTIONS, *RESIZE,
             *SHELVE)
    concurrency = 32

    def __init__(self, store: EventStore, notifier: Notifier, bus: MessageBus,
                 driver: HypervisorDriver, name: str) -> None:
        super().__init__(store, notifier)
        self.bus = bus
        self.driver = driver
        self.name = f"compute:{name}"
        self.hosts = {h.name for h in driver.hosts()}

    async def on_start(self) -> None:
        ctx = caused_by(RecordedEvent(0, "", 0, "", 1, {}, {}, now()), self.name)
        for h in self.driver.hosts():
            await self.bus.handle(c.RegisterComputeHost(
                host=h.name, hypervisor_type=self.driver.hypervisor_type, vcpus=h.vcpus,
                memory_mb=h.memory_mb, local_gb=h.local_gb, availability_zone=h.availability_zone,
            ), ctx)

    async def _server(self, event: RecordedEvent) -> Server | None:
        server = await UnitOfWork(self.store).get(Server, uuid.UUID(event.stream_id))
        if server is None or server.host not in self.hosts:
            return None
        return server

    async def _power_action(self, event: RecordedEvent, server: Server, action: str,
                            started: str) -> None:
        if server.pending_action() != action:
            return  # done already (seen again after a restart) or superseded
        assert server.host is not None
        ctx = caused_by(event, self.name)
        try:
            if action == "stop":
                await self.driver.power_off(server.host, event.stream_id)
            elif action == "start":
                await self.driver.power_on(server.host, event.stream_id)
            elif action == "reboot":
                await self.driver.reboot(server.host, event.stream_id,
                                         event.data.get("reboot_type", "SOFT"))
            elif action == "rebuild":
                await self.driver.rebuild(server.host, event.stream_id, event.data["image_ref"])
            else:  # pause, unpause, suspend, resume: a driver method of that name
                await getattr(self.driver, action)(server.host, event.stream_id)
        except DriverError as exc:
            await self.bus.handle(c.FailServerAction(
                event.stream_id, server.host, action, started, str(exc),
                "".join(traceback.format_exception(exc))), ctx)
            return
        await self.bus.handle(c.CompleteServerAction(event.stream_id, server.host, action,
                                                     started), ctx)

    async def _resize(self, event: RecordedEvent) -> None:
        key = RESIZE[event.event_type]
        server = await UnitOfWork(self.store).get(Server, uuid.UUID(event.stream_id))
        host = event.data[key] if key else (server.host if server else None)
        if server is None or host not in self.hosts:
            return
        ctx = caused_by(event, self.name)
        started = now().isoformat()
        sid = event.stream_id
        if event.event_type == "ServerResizeScheduled":
            if server.task_state != server_resize.RESIZE_MIGRATING:
                return
            f = server.new_flavor or server.flavor
            spec = InstanceSpec(server_id=sid, name=server.name, vcpus=f["vcpus"],
                                memory_mb=f["ram"], disk_gb=f["disk"],
                                image_ref=server.image_ref, metadata=server.metadata)
            try:
                await self.driver.migrate(server.resize_source, host, spec)
            except DriverError as exc:
                await self.bus.handle(c.FailResize(sid, host, started, str(exc)), ctx)
                return
            await self.bus.handle(c.FinishResize(sid, host, started), ctx)
        elif event.event_type == "ServerResizeConfirmed":
            await self.driver.destroy(host, sid)  # the source copy is no longer needed
        else:  # revert: drop the target copy, the source copy takes over again
            if server.task_state != server_resize.RESIZE_REVERTING:
                return
            await self.driver.destroy(host, sid)
            await self.bus.handle(c.FinishRevertResize(sid, host, started), ctx)

    async def _shelve(self, event: RecordedEvent, server: Server) -> None:
        host, sid = server.host, event.stream_id
        if host not in self.hosts:
            return
        assert host is not None
        ctx = caused_by(event, self.name)
        started = now().isoformat()
        kind = event.event_type
        if kind == "ServerShelveRequested" and server.task_state == server_shelve.SHELVING:
            size = await self.driver.snapshot(host, sid, event.data["image_id"])
            offload = bool(event.data["offload"])
            if offload:
                await self.driver.destroy(host, sid)
            else:
                await self.driver.power_off(host, sid)
            await self.bus.handle(c.FinishShelve(sid, host, started, offload, size), ctx)
        elif kind == "ServerShelveOffloadRequested" and \
                server.task_state == server_shelve.OFFLOADING:
            await self.driver.destroy(host, sid)
            await self.bus.handle(c.FinishOffload(sid, host, started), ctx)
        elif kind == "ServerUnshelveRequested" and server.task_state == server_shelve.UNSHELVING:
            await self.driver.power_on(host, sid)  # shelved, not offloaded: still here
            await self.bus.handle(c.FinishUnshelve(sid, host, started), ctx)
        elif kind == "ServerUnshelveScheduled" and server.task_state == server_shelve.SPAWNING:
            f = server.flavor
            await self.driver.spawn(host, InstanceSpec(
                server_id=sid, name=server.name, vcpus=f["vcpus"], memory_mb=f["ram"],
                disk_gb=f["disk"], image_ref=server.shelved_image or server.image_ref,
                metadata=server.metadata))
            await self.bus.handle(c.FinishUnshelve(sid, host, started), ctx)

    async def handle(self, event: RecordedEvent) -> None:
        if event.event_type in RESIZE:
            await self._resize(event)
            return
        if event.event_type in SHELVE:
            server = await UnitOfWork(self.store).get(Server, uuid.UUID(event.stream_id))
            if server is not None:
                await self._shelve(event, server)
            return
        if event.event_type == "ServerScheduled" and event.data["host"] not in self.hosts:
            return
        server = await self._server(event)
        if server is None:
            return
        ctx = caused_by(event, self.name)
        started = now().isoformat()
        assert server.host is not None
        if event.event_type == "ServerScheduled":
            if server.vm_state != states.BUILDING or server.task_state != states.SPAWNING:
                return
            f = server.flavor
            spec = InstanceSpec(server_id=event.stream_id, name=server.name, vcpus=f["vcpus"],
                                memory_mb=f["ram"], disk_gb=f["disk"],
                                image_ref=server.image_ref, metadata=server.metadata)
            try:
                info = await self.driver.spawn(server.host, spec)
            except DriverError as exc:
                await self.bus.handle(c.MarkServerBuildFailed(
                    event.stream_id, server.host, started, str(exc),
                    "".join(traceback.format_exception(exc)),
                ), ctx)
                return
            await self.bus.handle(c.MarkServerSpawned(
                event.stream_id, server.host, started, info.addresses), ctx)
        elif event.event_type == SNAPSHOT:
            if server.task_state not in (server_snapshot.IMAGE_SNAPSHOT,
                                         server_snapshot.IMAGE_BACKUP):
                return
            image_id = event.data["image_id"]
            size = await self.driver.snapshot(server.host, event.stream_id, image_id)
            await self.bus.handle(c.FinishServerImage(event.stream_id, server.host, image_id,
                                                      size, started), ctx)
        elif event.event_type in ACTIONS:
            await self._power_action(event, server, ACTIONS[event.event_type], started)
        elif event.event_type == "ServerDeleteRequested":
            if server.deleted:
                return
            await self.driver.destroy(server.host, event.stream_id)
            if server.vm_state == states.RESIZED and server.resize_source in self.hosts:
                await self.driver.destroy(server.resize_source, event.stream_id)
            await self.bus.handle(c.MarkServerDeleted(event.stream_id, server.host, started),
                                  ctx)
