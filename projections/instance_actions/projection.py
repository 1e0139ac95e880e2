"""Instance actions (os-instance-actions): who did what to a server, and each step's result.

Derived only from the log: the action entry comes from the event the API appended
(with the request id, user and project of its metadata); per-step events come
from what the scheduler and compute workers reported, matched to the action by
the request id they carry forward.
"""

from __future__ import annotations

import asyncpg

from control_plane.domain.servers import network as server_network
from control_plane.domain.servers import simple_actions
from control_plane.domain.servers import volume_attachments as server_volumes
from control_plane.store.eventstore import RecordedEvent
from projections.base import Projection, on
from projections.util import ts

# event type -> (action name) for events that open an action
_OPENS = {"ServerCreated": "create", "ServerDeleteRequested": "delete",
          "ServerStopRequested": "stop", "ServerStartRequested": "start",
          "ServerRebootRequested": "reboot", "ServerRebuildRequested": "rebuild",
          "ServerResizeRequested": "resize", "ServerRevertResizeRequested": "revertResize",
          "ServerShelveRequested": "shelve", "ServerShelveOffloadRequested": "shelveOffload",
          "ServerUnshelveRequested": "unshelve",
          "ServerSoftDeleteRequested": "delete", "ServerRestoreRequested": "restore",
          "ServerRescueRequested": "rescue", "ServerUnrescueRequested": "unrescue",
          "ServerPasswordChangeRequested": "changePassword",
          "ServerMigrateRequested": "migrate", "ServerLiveMigrationStarted": "live-migration",
          "ServerEvacuationStarted": "evacuate",
          **server_volumes.OPENS,
          **server_network.OPENS,
          **{t: a.name for t, a in simple_actions.REQUESTED.items()}}
# the compute step that finishes each action, as Nova names it
_STEPS = {"ServerStopped": "compute_stop_instance", "ServerStarted": "compute_start_instance",
          "ServerRebooted": "compute_reboot_instance",
          "ServerRebuilt": "compute_rebuild_instance",
          "ServerResized": "compute_finish_resize",
          "ServerShelved": "compute_shelve_instance",
          "ServerShelveOffloaded": "compute_shelve_offload_instance",
          "ServerUnshelved": "compute_unshelve_instance",
          "ServerResizeReverted": "compute_finish_revert_resize",
          "ServerSoftDeleted": "compute_soft_delete_instance",
          "ServerRestored": "compute_restore_instance",
          "ServerRescued": "compute_rescue_instance",
          "ServerUnrescued": "compute_unrescue_instance",
          "ServerPasswordChanged": "compute_set_admin_password",
          "ServerLiveMigrated": "compute_live_migration",
          "ServerEvacuated": "compute_rebuild_instance",
          **{t: a.compute_event for t, a in simple_actions.DONE.items()}}
_FAILED_STEPS = {"stop": "compute_stop_instance", "start": "compute_start_instance",
                 "reboot": "compute_reboot_instance", "rebuild": "compute_rebuild_instance",
                 "unshelve": "compute_unshelve_instance",
                 "soft_delete": "compute_soft_delete_instance",
                 "restore": "compute_restore_instance", "rescue": "compute_rescue_instance",
                 "unrescue": "compute_unrescue_instance",
                 "changePassword": "compute_set_admin_password",
                 **{a.name: a.compute_event for a in simple_actions.ACTIONS.values()}}


class InstanceActionsProjection(Projection):
    name = "instance_actions"
    tables = ("v_instance_actions", "v_instance_action_events")
    schema = """
    CREATE TABLE IF NOT EXISTS v_instance_actions (
        id bigint PRIMARY KEY,
        instance_uuid uuid NOT NULL,
        action text NOT NULL,
        request_id text NOT NULL,
        user_id text,
        project_id text,
        start_time timestamptz NOT NULL,
        updated_at timestamptz,
        message text
    );
    CREATE INDEX IF NOT EXISTS v_instance_actions_instance_idx
        ON v_instance_actions (instance_uuid, request_id);
    CREATE TABLE IF NOT EXISTS v_instance_action_events (
        action_id bigint NOT NULL,
        seq bigint NOT NULL,
        event text NOT NULL,
        start_time timestamptz NOT NULL,
        finish_time timestamptz,
        result text,
        traceback text,
        host text,
        PRIMARY KEY (action_id, seq)
    );
    """

    async def _open(self, conn: asyncpg.Connection, e: RecordedEvent, action: str) -> None:
        m = e.metadata
        await conn.execute(
            """INSERT INTO v_instance_actions (id, instance_uuid, action, request_id, user_id,
               project_id, start_time, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$7)""",
            e.position, e.stream_id, action, m.get("request_id", ""), m.get("user_id"),
            m.get("project_id"), ts(e),
        )

    async def _step(
        self, conn: asyncpg.Connection, e: RecordedEvent, event: str, start_key: str | None,
        ok: bool, traceback: str | None = None, host: str | None = None,
    ) -> None:
        action_id = await conn.fetchval(
            "SELECT id FROM v_instance_actions WHERE instance_uuid = $1 AND request_id = $2"
            " ORDER BY id DESC LIMIT 1",
            e.stream_id, e.metadata.get("request_id", ""),
        )
        if action_id is None:
            return
        finish = ts(e)
        start = ts(e, start_key) if start_key and e.data.get(start_key) else finish
        await conn.execute(
            """INSERT INTO v_instance_action_events (action_id, seq, event, start_time,
               finish_time, result, traceback, host) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)""",
            action_id, e.position, event, start, finish, "Success" if ok else "Error",
            traceback, host,
        )
        await conn.execute(
            "UPDATE v_instance_actions SET updated_at = $2, message = coalesce(message, $3)"
            " WHERE id = $1",
            action_id, finish, None if ok else "Error",
        )

    @on(*_OPENS)
    async def opened(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await self._open(conn, e, _OPENS[e.event_type])

    @on(*_STEPS)
    async def step_done(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await self._step(conn, e, _STEPS[e.event_type], "started_at", True,
                         host=e.metadata.get("host"))

    @on("ServerResizeScheduled")
    async def resize_scheduled(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await self._step(conn, e, "conductor_migrate_server", None, True)

    @on("ServerResizeFailed")
    async def resize_failed(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await self._step(conn, e, "conductor_migrate_server", "started_at", False,
                         e.data["message"])

    @on("ServerResizeConfirmed")
    async def resize_confirmed(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await self._open(conn, e, "confirmResize")
        await self._step(conn, e, "compute_confirm_resize", None, True)

    @on("ServerActionFailed")
    async def step_failed(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await self._step(conn, e, _FAILED_STEPS[e.data["action"]], "started_at", False,
                         e.data.get("details") or e.data.get("message"),
                         host=e.metadata.get("host"))

    @on("ServerLiveMigrationFailed", "ServerEvacuationFailed")
    async def move_failed(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        step = "compute_live_migration" if e.event_type == "ServerLiveMigrationFailed" \
            else "compute_rebuild_instance"
        await self._step(conn, e, step, "started_at", False, e.data["message"],
                         host=e.metadata.get("host"))

    @on(*server_volumes.STEPS)
    async def volume_step(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        ok = server_volumes.STEPS[e.event_type]
        await self._step(conn, e, e.data["step"], "started_at", ok,
                         None if ok else e.data.get("details") or e.data.get("message"),
                         host=e.metadata.get("host"))

    @on(*server_network.STEPS)
    async def interface_step(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        ok = server_network.STEPS[e.event_type]
        await self._step(conn, e, e.data["step"], "started_at", ok,
                         None if ok else e.data.get("details") or e.data.get("message"),
                         host=e.metadata.get("host"))

    @on("ServerScheduled")
    async def scheduled(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await self._step(conn, e, "conductor_schedule_and_build_instances", None, True)

    @on("ServerSchedulingFailed")
    async def scheduling_failed(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await self._step(conn, e, "conductor_schedule_and_build_instances", None, False,
                         e.data["fault"].get("message"))

    @on("ServerSpawned")
    async def spawned(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await self._step(conn, e, "compute__do_build_and_run_instance", "started_at", True,
                         host=e.metadata.get("host"))

    @on("ServerBuildFailed")
    async def build_failed(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        fault = e.data["fault"]
        await self._step(conn, e, "compute__do_build_and_run_instance", "started_at", False,
                         fault.get("details") or fault.get("message"),
                         host=e.metadata.get("host"))

    @on("ServerDeleted")
    async def deleted(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        if e.data.get("started_at") is None:
            # deleted straight away by the API (never placed on a host)
            await self._open(conn, e, "delete")
            return
        await self._step(conn, e, "compute_terminate_instance", "started_at", True,
                         host=e.metadata.get("host"))
