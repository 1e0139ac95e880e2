"""The servers view: one row per server, deleted ones kept (for changes-since)."""

from __future__ import annotations

import asyncpg

from control_plane.domain.registry import EVENT_TYPES
from control_plane.domain.servers import simple_actions, states
from control_plane.domain.servers.transitions import resolve, transitions
from control_plane.store.eventstore import RecordedEvent
from projections.base import Projection, on
from projections.util import ts

# server events that move the states by a fixed rule (their TRANSITION)
TRANSITIONS = transitions(EVENT_TYPES)

# what such an event changes in the row beside the states: a SET fragment whose
# parameters are $6 = the event time, then the event data keys listed
_WITHOUT = ("(SELECT coalesce(jsonb_agg(v ORDER BY i), '[]'::jsonb) FROM"
            " jsonb_array_elements(volumes_attached) WITH ORDINALITY AS t(v, i)"
            " WHERE v->>'id' <> $7)")
_ADDRESSES = (", addresses = $7", ("addresses",))
_MOVED = (", host = $7, node = $7", ("dest",))
VIEW_CHANGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "ServerSoftDeleted": (", soft_deleted_at = $6", ()),
    "ServerRestored": (", soft_deleted_at = NULL", ()),
    "ServerLiveMigrated": _MOVED,
    "ServerEvacuated": _MOVED,
    "ServerNetworkAllocated": _ADDRESSES,
    "ServerInterfaceAttached": _ADDRESSES,
    "ServerInterfaceDetached": _ADDRESSES,
    "ServerFixedIpAdded": _ADDRESSES,
    "ServerFixedIpRemoved": _ADDRESSES,
    "ServerFloatingIpAssociated": _ADDRESSES,
    "ServerFloatingIpDisassociated": _ADDRESSES,
    "ServerNetworkReleased": (", addresses = '{}'::jsonb", ()),
    "ServerPasswordSet": (", password = $7", ("password",)),
    "ServerPasswordCleared": (", password = ''", ()),
    "ServerVolumeAttachRequested": (
        ", volumes_attached = volumes_attached || jsonb_build_array(jsonb_build_object("
        "'id', $7::text, 'delete_on_termination', false))", ("volume_id",)),
    "ServerVolumeAttachFailed": (", volumes_attached = " + _WITHOUT, ("volume_id",)),
    "ServerVolumeDetached": (", volumes_attached = " + _WITHOUT, ("volume_id",)),
    "ServerVolumeSwapped": (
        ", volumes_attached = (SELECT coalesce(jsonb_agg(CASE WHEN v->>'id' = $7"
        " THEN jsonb_set(v, '{id}', to_jsonb($8::text)) ELSE v END ORDER BY i), '[]'::jsonb)"
        " FROM jsonb_array_elements(volumes_attached) WITH ORDINALITY AS t(v, i))",
        ("old_volume_id", "new_volume_id")),
    "ServerVolumesReleased": (", volumes_attached = '[]'::jsonb", ()),
}


class ServersProjection(Projection):
    name = "servers"
    tables = ("v_servers",)
    schema = """
    CREATE TABLE IF NOT EXISTS v_servers (
        id uuid PRIMARY KEY,
        project_id text NOT NULL,
        user_id text NOT NULL,
        name text NOT NULL,
        status text NOT NULL,
        vm_state text NOT NULL,
        task_state text,
        power_state int NOT NULL,
        host text,
        node text,
        availability_zone text,
        flavor jsonb NOT NULL,
        image_ref text NOT NULL,
        key_name text,
        key_data text,
        metadata jsonb NOT NULL,
        access_ipv4 text NOT NULL,
        access_ipv6 text NOT NULL,
        disk_config text NOT NULL,
        config_drive text NOT NULL,
        user_data text,
        addresses jsonb NOT NULL DEFAULT '{}',
        fault jsonb,
        reservation_id text NOT NULL,
        launch_index int NOT NULL,
        security_groups jsonb NOT NULL,
        hostname text NOT NULL,
        launched_at timestamptz,
        terminated_at timestamptz,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        deleted boolean NOT NULL DEFAULT false
    );
    CREATE INDEX IF NOT EXISTS v_servers_project_idx
        ON v_servers (project_id, created_at DESC, id DESC);
    CREATE INDEX IF NOT EXISTS v_servers_created_idx ON v_servers (created_at DESC, id DESC);
    CREATE INDEX IF NOT EXISTS v_servers_updated_idx ON v_servers (updated_at);
    ALTER TABLE v_servers ADD COLUMN IF NOT EXISTS locked_by text;
    ALTER TABLE v_servers ADD COLUMN IF NOT EXISTS resize jsonb;
    ALTER TABLE v_servers ADD COLUMN IF NOT EXISTS soft_deleted_at timestamptz;
    ALTER TABLE v_servers ADD COLUMN IF NOT EXISTS password text NOT NULL DEFAULT '';
    ALTER TABLE v_servers ADD COLUMN IF NOT EXISTS volumes_attached jsonb NOT NULL
        DEFAULT '[]';
    """

    @on("ServerCreated")
    async def created(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        d = e.data
        await conn.execute(
            """INSERT INTO v_servers (id, project_id, user_id, name, status, vm_state, task_state,
                power_state, availability_zone, flavor, image_ref, key_name, key_data, metadata,
                access_ipv4, access_ipv6, disk_config, config_drive, user_data, reservation_id,
                launch_index, security_groups, hostname, created_at, updated_at)
            VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,
                $22,$23,$24,$24)""",
            e.stream_id, d["project_id"], d["user_id"], d["name"],
            states.status_of(states.BUILDING, states.SCHEDULING), states.BUILDING,
            states.SCHEDULING, states.NOSTATE, d["availability_zone"], d["flavor"],
            d["image_ref"], d["key_name"], d["key_data"], d["metadata"], d["access_ipv4"],
            d["access_ipv6"], d["disk_config"], d["config_drive"], d["user_data"],
            d["reservation_id"], d["launch_index"], d["security_groups"], d["hostname"], ts(e),
        )

    async def _set_state(
        self, conn: asyncpg.Connection, e: RecordedEvent, vm_state: str, task_state: str | None,
        power_state: int | None = None, extra: str = "", *args: object,
    ) -> None:
        sql = (
            "UPDATE v_servers SET vm_state = $2, task_state = $3, status = $4,"
            " power_state = coalesce($5, power_state), updated_at = $6" + extra +
            " WHERE id = $1"
        )
        await conn.execute(
            sql, e.stream_id, vm_state, task_state, states.status_of(vm_state, task_state),
            power_state, ts(e), *args,
        )

    @on("ServerScheduled")
    async def scheduled(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await self._set_state(
            conn, e, states.BUILDING, states.SPAWNING, None,
            ", host = $7, node = $8, availability_zone = $9",
            e.data["host"], e.data["node"], e.data["availability_zone"],
        )

    @on("ServerSchedulingFailed", "ServerBuildFailed")
    async def failed(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await self._set_state(conn, e, states.ERROR, None, states.NOSTATE, ", fault = $7",
                              e.data["fault"])

    @on("ServerSpawned")
    async def spawned(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await self._set_state(conn, e, states.ACTIVE, None, states.RUNNING,
                              ", addresses = $7, launched_at = $6", e.data["addresses"])

    @on("ServerUpdated")
    async def updated(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        changes = e.data["changes"]
        cols = [c for c in ("name", "access_ipv4", "access_ipv6", "disk_config", "hostname")
                if c in changes]
        sets = "".join(f", {c} = ${i}" for i, c in enumerate(cols, start=3))
        await conn.execute(
            f"UPDATE v_servers SET updated_at = $2{sets} WHERE id = $1",
            e.stream_id, ts(e), *[changes[c] for c in cols],
        )

    async def _set_task(self, conn: asyncpg.Connection, e: RecordedEvent,
                        task_state: str | None) -> None:
        """A new task on the current vm_state."""
        row = await conn.fetchrow("SELECT vm_state FROM v_servers WHERE id = $1", e.stream_id)
        if row is not None:
            await self._set_state(conn, e, row["vm_state"], task_state)

    @on("ServerDeleteRequested")
    async def delete_requested(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await self._set_task(conn, e, states.DELETING)

    @on("ServerStopRequested", "ServerStartRequested", "ServerRebootRequested",
        "ServerActionFailed", *simple_actions.REQUESTED)
    async def task_started(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        task = {"ServerStopRequested": states.POWERING_OFF,
                "ServerStartRequested": states.POWERING_ON,
                "ServerRebootRequested": states.REBOOTING_HARD
                if e.data.get("reboot_type") == "HARD" else states.REBOOTING,
                **{t: a.task_state for t, a in simple_actions.REQUESTED.items()},
                }.get(e.event_type)
        await self._set_task(conn, e, task)

    @on("ServerRebuildRequested")
    async def rebuild_requested(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        changes = e.data["changes"]
        cols = [c for c in ("name", "hostname", "metadata", "access_ipv4", "access_ipv6",
                            "disk_config")
                if c in changes]
        sets = "".join(f", {c} = ${i}" for i, c in enumerate(cols, start=3))
        await conn.execute(f"UPDATE v_servers SET image_ref = $2{sets} WHERE id = $1",
                           e.stream_id, e.data["image_ref"], *[changes[c] for c in cols])
        await self._set_task(conn, e, "rebuilding")

    @on("ServerRebuilt")
    async def rebuilt(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        row = await conn.fetchrow("SELECT vm_state FROM v_servers WHERE id = $1", e.stream_id)
        stopped = row is not None and row["vm_state"] == states.STOPPED
        await self._set_state(conn, e, states.STOPPED if stopped else states.ACTIVE, None,
                              states.SHUTDOWN if stopped else states.RUNNING)

    @on(*simple_actions.DONE)
    async def simple_done(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        action = simple_actions.DONE[e.event_type]
        await self._set_state(conn, e, action.final_vm_state, None, action.final_power_state)

    @on("ServerSnapshotRequested", "ServerSnapshotTaken")
    async def snapshot(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        task = None
        if e.event_type == "ServerSnapshotRequested":
            task = "image_backup" if e.data["kind"] == "backup" else "image_snapshot"
        await self._set_task(conn, e, task)

    @on("ServerShelveRequested", "ServerShelveOffloadRequested", "ServerUnshelveRequested")
    async def shelve_task(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await self._set_task(conn, e, {"ServerShelveRequested": "shelving",
                                       "ServerShelveOffloadRequested": "shelving_offloading",
                                       "ServerUnshelveRequested": "unshelving",
                                       }[e.event_type])

    @on("ServerShelved")
    async def shelved(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await self._set_state(conn, e, states.SHELVED, None, states.SHUTDOWN)

    @on("ServerShelveOffloaded")
    async def offloaded(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await self._set_state(conn, e, states.SHELVED_OFFLOADED, None, states.SHUTDOWN,
                              ", host = NULL, node = NULL")

    @on("ServerUnshelveScheduled")
    async def unshelve_scheduled(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await conn.execute("UPDATE v_servers SET host = $2, node = $2 WHERE id = $1",
                           e.stream_id, e.data["host"])
        await self._set_task(conn, e, "spawning")

    @on("ServerUnshelved")
    async def unshelved(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await self._set_state(conn, e, states.ACTIVE, None, states.RUNNING)

    @on("ServerStateReset")
    async def state_reset(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await self._set_state(conn, e, e.data["vm_state"], None)

    @on("ServerMetadataSet", "ServerMetadataItemDeleted")
    async def metadata(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        if e.event_type == "ServerMetadataItemDeleted":
            expr, value = "metadata - $2::text", e.data["key"]
        elif e.data["replace"]:
            expr, value = "$2::jsonb", e.data["metadata"]
        else:
            expr, value = "metadata || $2::jsonb", e.data["metadata"]
        await conn.execute(f"UPDATE v_servers SET metadata = {expr}, updated_at = $3"
                           " WHERE id = $1", e.stream_id, value, ts(e))

    @on("ServerSecurityGroupAdded", "ServerSecurityGroupRemoved")
    async def security_groups(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        if e.event_type == "ServerSecurityGroupAdded":
            expr = "security_groups || jsonb_build_array($2::text)"
        else:
            expr = "security_groups - $2::text"
        await conn.execute(f"UPDATE v_servers SET security_groups = {expr}, updated_at = $3"
                           " WHERE id = $1", e.stream_id, e.data["name"], ts(e))

    @on(*TRANSITIONS)
    async def transition(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        """Events that carry a TRANSITION (control_plane.domain.servers.transitions)."""
        t = TRANSITIONS[e.event_type]
        row = await conn.fetchrow("SELECT vm_state, task_state FROM v_servers WHERE id = $1",
                                  e.stream_id)
        if row is None:
            return
        vm, task, power = resolve(t, e.data, row["vm_state"], row["task_state"])
        sql, keys = VIEW_CHANGES.get(e.event_type, ("", ()))
        await self._set_state(conn, e, vm, task, power, sql, *[e.data[k] for k in keys])

    @on("ServerResizeRequested", "ServerMigrateRequested")
    async def resize_requested(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await conn.execute(
            "UPDATE v_servers SET resize = jsonb_build_object('old_flavor', flavor,"
            " 'new_flavor', $2::jsonb, 'return_to', $3::text, 'source', host) WHERE id = $1",
            e.stream_id, e.data["flavor"], e.data["return_to"])
        await self._set_task(conn, e, "resize_prep")

    @on("ServerResizeScheduled")
    async def resize_scheduled(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await conn.execute(
            "UPDATE v_servers SET resize = resize || jsonb_build_object('target', $2::text)"
            " WHERE id = $1", e.stream_id, e.data["host"])
        await self._set_task(conn, e, "resize_migrating")

    @on("ServerResizeFailed")
    async def resize_failed(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await conn.execute("UPDATE v_servers SET resize = NULL WHERE id = $1", e.stream_id)
        await self._set_task(conn, e, None)

    @on("ServerResized")
    async def resized(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await conn.execute(
            "UPDATE v_servers SET flavor = resize->'new_flavor', host = resize->>'target',"
            " node = resize->>'target' WHERE id = $1", e.stream_id)
        await self._set_state(conn, e, states.RESIZED, None)

    @on("ServerResizeConfirmed", "ServerResizeReverted")
    async def resize_finished(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        row = await conn.fetchrow("SELECT resize FROM v_servers WHERE id = $1", e.stream_id)
        if row is None or row["resize"] is None:
            return
        info = row["resize"]
        if e.event_type == "ServerResizeReverted":
            await conn.execute(
                "UPDATE v_servers SET flavor = $2::jsonb, host = $3, node = $3 WHERE id = $1",
                e.stream_id, info["old_flavor"], info["source"])
        await conn.execute("UPDATE v_servers SET resize = NULL WHERE id = $1", e.stream_id)
        stopped = info["return_to"] == states.STOPPED
        await self._set_state(conn, e, info["return_to"], None,
                              states.SHUTDOWN if stopped else states.RUNNING)

    @on("ServerRevertResizeRequested")
    async def revert_requested(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await self._set_task(conn, e, "resize_reverting")

    @on("ServerLocked", "ServerUnlocked")
    async def locked(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await conn.execute("UPDATE v_servers SET locked_by = $2, updated_at = $3 WHERE id = $1",
                           e.stream_id, e.data.get("locked_by"), ts(e))

    @on("ServerStopped")
    async def stopped(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await self._set_state(conn, e, states.STOPPED, None, states.SHUTDOWN)

    @on("ServerStarted", "ServerRebooted")
    async def running(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await self._set_state(conn, e, states.ACTIVE, None, states.RUNNING)

    @on("ServerDeleted")
    async def deleted(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        await self._set_state(conn, e, states.DELETED, None, states.NOSTATE,
                              ", deleted = true, terminated_at = $6")
