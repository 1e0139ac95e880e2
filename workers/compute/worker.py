"""The compute worker: follows the log and drives its hypervisors.

It reacts to servers scheduled onto its hosts and to deletions of servers on its
hosts, calls the driver, and reports the outcome with a command. Before calling
the driver it checks the server's current state, so an event seen twice (after
a restart) does not spawn or destroy twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
import uuid
from typing import Any

import asyncpg

from control_plane.access.tokens import unseal
from control_plane.context import RequestContext, now
from control_plane.domain.hosts.commands import RegisterComputeHost
from control_plane.domain.servers import power_sync as server_power_sync
from control_plane.domain.servers import simple_actions, states
from control_plane.domain.servers import snapshot as server_snapshot
from control_plane.domain.servers.aggregate import Server
from control_plane.domain.servers.commands import (
    CompleteServerAction,
    FailServerAction,
    FinishServerImage,
    MarkServerBuildFailed,
    MarkServerDeleted,
    MarkServerSpawned,
    SyncServerPowerState,
)
from control_plane.service.bus import MessageBus
from control_plane.service.compute_rpc import RPCServer
from control_plane.service.handlers.hosts import host_lock_key
from control_plane.store.eventstore import EventStore, RecordedEvent
from control_plane.store.follower import Follower
from control_plane.store.notifier import Notifier
from drivers.base import DriverError, GuestNotFound, HypervisorDriver
from workers.compute import consoles, moves, network_interfaces, periodic, volume_attachments
from workers.compute.metered import metered
from workers.compute.specs import spec_of
from workers.scheduler import caused_by

log = logging.getLogger(__name__)


# request event -> the action it asks for
ACTIONS = {"ServerStopRequested": "stop", "ServerStartRequested": "start",
           "ServerRebootRequested": "reboot",
           "ServerRebuildRequested": "rebuild",
           "ServerSoftDeleteRequested": "soft_delete", "ServerRestoreRequested": "restore",
           "ServerRescueRequested": "rescue", "ServerUnrescueRequested": "unrescue",
           "ServerPasswordChangeRequested": "changePassword",
           **{topic: a.name for topic, a in simple_actions.REQUESTED.items()}}


SNAPSHOT = "ServerSnapshotRequested"


class ComputeWorker(Follower):
    types = ("ServerScheduled", "ServerDeleteRequested", SNAPSHOT, *ACTIONS,
             *moves.EVENTS, *volume_attachments.EVENTS, *network_interfaces.EVENTS)
    concurrency = 32

    def __init__(self, store: EventStore, notifier: Notifier, bus: MessageBus,
                 driver: HypervisorDriver, name: str) -> None:
        super().__init__(store, notifier)
        self.bus = bus
        self.driver = metered(driver)  # every call timed, counted and logged
        self.name = f"compute:{name}"
        self.hosts = {h.name for h in driver.hosts()}
        self.rpc: RPCServer | None = None  # answers console and diagnostics questions
        self._syncing: dict[tuple[str, str], asyncio.Task[None]] = {}
        if driver.on_event is None:
            driver.on_event = self._guest_event

    def liveness_hosts(self) -> list[str]:
        return sorted(self.hosts)

    async def on_locked(self, conn: asyncpg.Connection) -> None:
        # while this worker runs, its hosts are "up" (evacuation refuses to start); a new
        # session after a lost connection takes them again before it acts
        for host in sorted(self.hosts):
            await conn.fetchval("SELECT pg_try_advisory_lock($1)", host_lock_key(host))

    async def on_session_end(self) -> None:
        # the next session (holding the lock again) answers for the hosts
        if self.rpc is not None:
            rpc, self.rpc = self.rpc, None
            await rpc.stop()

    async def on_beat(self) -> None:
        if self.rpc is not None and not self.rpc.listening:
            log.warning("%s: the console/diagnostics listener was lost; opening it again",
                        self.name)
            rpc, self.rpc = self.rpc, None
            await rpc.stop()
            self.rpc = await consoles.serve(self)

    async def on_start(self) -> None:
        ctx = caused_by(RecordedEvent(0, "", 0, "", 1, {}, {}, now()), self.name)
        for h in self.driver.hosts():
            await self.bus.handle(RegisterComputeHost(
                host=h.name, hypervisor_type=self.driver.hypervisor_type, vcpus=h.vcpus,
                memory_mb=h.memory_mb, local_gb=h.local_gb, availability_zone=h.availability_zone,
            ), ctx)
        await self._remove_leftovers()
        if self.rpc is None:  # only the worker holding the lock answers for its hosts
            self.rpc = await consoles.serve(self)

    async def _remove_leftovers(self) -> None:
        """Guests left on these hosts by servers that were deleted or moved away while
        this worker was down (an evacuated server's old copy, as Nova's compute removes
        at start-up)."""
        uow = self.bus.deps.unit_of_work()
        for host in sorted(self.hosts):
            for sid in await self.driver.list_instances(host):
                server = await uow.get(Server, uuid.UUID(sid))
                if server is None or server.deleted or (
                        server.host != host and server.task_state is None
                        and server.vm_state != states.RESIZED):
                    log.info("%s: removing leftover guest %s from %s", self.name, sid, host)
                    await self.driver.destroy(host, sid)

    async def run(self, stop: asyncio.Event) -> None:
        periodic = asyncio.create_task(self._periodic(stop))
        try:
            await super().run(stop)
        finally:
            periodic.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await periodic

    async def _periodic(self, stop: asyncio.Event) -> None:
        """Nova's periodic tasks: reclaim soft-deleted servers, confirm old resizes,
        offload shelved servers, once their configured time has passed; and every
        ``sync_power_state_interval`` seconds, the power-state sync."""
        settings = self.bus.deps.settings
        last_sync = asyncio.get_running_loop().time()
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), settings.periodic_interval)
            if stop.is_set():
                return
            if not self.active:  # only while this worker holds its lock
                continue
            try:
                async with self.store.pool.acquire() as conn:
                    work = await periodic.due(conn, sorted(self.hosts), settings)
                for project_id, cmd in work:
                    ctx = RequestContext(user_id=self.name, project_id=project_id,
                                         roles=("admin",), actor=self.name)
                    await self.bus.handle(cmd, ctx)
                interval = settings.sync_power_state_interval
                if interval > 0 and asyncio.get_running_loop().time() - last_sync >= interval:
                    last_sync = asyncio.get_running_loop().time()
                    async with self.store.pool.acquire() as conn:
                        servers = await periodic.to_sync(conn, sorted(self.hosts))
                    for sid, host in servers:
                        await self.sync_power_state(host, sid)
            except Exception:
                log.exception("%s: periodic check failed; will try again", self.name)

    async def sync_power_state(self, host: str, server_id: str) -> None:
        """Compare the guest's real power state with the server's and report a
        difference (control_plane.domain.servers.power_sync decides what follows)."""
        server = await self.bus.deps.unit_of_work().get(Server, uuid.UUID(server_id))
        if server is None or server.host != host or not server_power_sync.checkable(server):
            return
        try:
            info = await self.driver.get_info(host, server_id)
        except DriverError as exc:
            log.warning("%s: no power state for %s: %s", self.name, server_id, exc)
            return
        observed = info.power_state if info is not None else states.NOSTATE
        if not server_power_sync.out_of_line(server, observed):
            return
        log.info("%s: guest %s is in power state %d, its server %s/%d", self.name,
                 server_id, observed, server.vm_state, server.power_state)
        ctx = RequestContext(user_id=self.name, project_id=server.project_id,
                             roles=("admin",), actor=self.name)
        await self.bus.handle(SyncServerPowerState(server_id, host, observed,
                                                     server.version), ctx)

    def _guest_event(self, host: str, server_id: str, name: str, data: dict[str, Any]
                     ) -> None:
        """A guest changed on its own (the driver saw it): check its server soon. (Our
        own operations cause such events too; the check ignores servers with a task.)"""
        if name not in ("SHUTDOWN", "QEMU_EXITED") or host not in self.hosts:
            return
        key = (host, server_id)
        if key in self._syncing:  # a check is on its way (done ones remove themselves)
            return

        async def check() -> None:
            await asyncio.sleep(0.2)  # let the operation that caused it (if any) report
            try:
                await self.sync_power_state(host, server_id)
            except Exception:
                log.exception("%s: power-state check of %s failed", self.name, server_id)

        task = asyncio.get_running_loop().create_task(check())
        self._syncing[key] = task
        task.add_done_callback(lambda _: self._syncing.pop(key, None))

    async def _server(self, event: RecordedEvent) -> Server | None:
        server = await self.bus.deps.unit_of_work().get(Server, uuid.UUID(event.stream_id))
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
            if action in ("stop", "soft_delete"):
                with contextlib.suppress(GuestNotFound):  # no guest: nothing runs
                    await self.driver.power_off(server.host, event.stream_id)
            elif action == "start":
                await self.driver.power_on(server.host, event.stream_id)
            elif action == "reboot":
                await self.driver.reboot(server.host, event.stream_id,
                                         event.data.get("reboot_type", "SOFT"))
            elif action == "rebuild":
                spec = spec_of(server, image_ref=event.data["image_ref"],
                               sealed_pass=event.data.get("admin_pass", ""))
                await self.driver.rebuild(server.host, spec)
            elif action == "restore":
                await self.driver.power_on(server.host, event.stream_id)
            elif action == "rescue":
                await self.driver.rescue(server.host, event.stream_id,
                                         event.data["rescue_image_ref"],
                                         unseal(event.data["admin_pass"]))
            elif action == "unrescue":
                await self.driver.unrescue(server.host, event.stream_id)
            elif action == "changePassword":
                password = unseal(event.data["admin_pass"])
                if password is None:
                    raise DriverError("The new password could not be unsealed (key rotated?)")
                await self.driver.set_admin_password(server.host, event.stream_id, password)
            else:  # pause, unpause, suspend, resume: a driver method of that name
                await getattr(self.driver, action)(server.host, event.stream_id)
        except DriverError as exc:
            await self.bus.handle(FailServerAction(
                event.stream_id, server.host, action, started, str(exc),
                "".join(traceback.format_exception(exc))), ctx)
            return
        await self.bus.handle(CompleteServerAction(event.stream_id, server.host, action,
                                                     started), ctx)

    async def handle(self, event: RecordedEvent) -> None:
        if event.event_type in network_interfaces.EVENTS:
            await network_interfaces.handle(self, event)
            if event.event_type not in volume_attachments.EVENTS:
                return
        if event.event_type in volume_attachments.EVENTS:
            await volume_attachments.handle(self, event)
            return
        if event.event_type in moves.EVENTS:
            await moves.handle(self, event)
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
            try:
                info = await self.driver.spawn(server.host, spec_of(server))
            except DriverError as exc:
                await self.bus.handle(MarkServerBuildFailed(
                    event.stream_id, server.host, started, str(exc),
                    "".join(traceback.format_exception(exc)),
                ), ctx)
                return
            await self.bus.handle(MarkServerSpawned(
                event.stream_id, server.host, started, info.addresses), ctx)
        elif event.event_type == SNAPSHOT:
            if server.task_state not in (server_snapshot.IMAGE_SNAPSHOT,
                                         server_snapshot.IMAGE_BACKUP):
                return
            image_id = event.data["image_id"]
            size = await self.driver.snapshot(server.host, event.stream_id, image_id)
            await self.bus.handle(FinishServerImage(event.stream_id, server.host, image_id,
                                                      size, started), ctx)
        elif event.event_type in ACTIONS:
            await self._power_action(event, server, ACTIONS[event.event_type], started)
        elif event.event_type == "ServerDeleteRequested":
            if server.deleted:
                return
            await self.driver.destroy(server.host, event.stream_id)
            if server.vm_state == states.RESIZED and server.resize_source in self.hosts:
                await self.driver.destroy(server.resize_source, event.stream_id)
            await self.bus.handle(MarkServerDeleted(event.stream_id, server.host, started),
                                  ctx)
