"""The servers view: one row per server, deleted ones kept (for changes-since).

The row is written from the Server aggregate itself: the view keeps each server's
folded state (``v_server_states``, JSON), folds every new event into it with the
aggregate's own ``apply`` and writes every column of ``v_servers`` from the result.
So the view cannot disagree with the aggregate: there is one state machine.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from control_plane.domain.registry import events_of
from control_plane.domain.servers import states
from control_plane.domain.servers.aggregate import Server
from control_plane.domain.servers.state_json import from_state, to_state
from control_plane.domain.servers.volume_attachments import shown as shown_volumes
from control_plane.store.event_codec import to_domain_event
from control_plane.store.eventstore import RecordedEvent
from projections.base import Projection, on

# the row's columns, each from the folded aggregate
COLUMNS = ("project_id", "user_id", "name", "status", "vm_state", "task_state",
           "power_state", "host", "node", "availability_zone", "flavor", "image_ref",
           "key_name", "key_data", "metadata", "access_ipv4", "access_ipv6", "disk_config",
           "config_drive", "user_data", "addresses", "fault", "reservation_id",
           "launch_index", "security_groups", "hostname", "launched_at", "terminated_at",
           "created_at", "updated_at", "deleted", "locked_by", "resize", "soft_deleted_at",
           "password", "volumes_attached")


def row_of(s: Server) -> dict[str, Any]:
    """What GET /servers shows of a server, column by column."""
    return {
        "project_id": s.project_id, "user_id": s.user_id, "name": s.name,
        "status": states.status_of(s.vm_state, s.task_state), "vm_state": s.vm_state,
        "task_state": s.task_state, "power_state": s.power_state, "host": s.host,
        "node": s.node, "availability_zone": s.availability_zone, "flavor": s.flavor,
        "image_ref": s.image_ref, "key_name": s.key_name, "key_data": s.key_data,
        "metadata": s.metadata, "access_ipv4": s.access_ipv4, "access_ipv6": s.access_ipv6,
        "disk_config": s.disk_config, "config_drive": s.config_drive,
        "user_data": s.user_data, "addresses": s.shown_addresses, "fault": s.fault,
        "reservation_id": s.reservation_id, "launch_index": s.launch_index,
        "security_groups": s.security_groups, "hostname": s.hostname,
        "launched_at": s.launched_at, "terminated_at": s.terminated_at,
        "created_at": s.created_on, "updated_at": s.modified_on, "deleted": s.deleted,
        "locked_by": s.locked_by, "resize": s.resize, "soft_deleted_at": s.soft_deleted_at,
        "password": s.guest_password,
        "volumes_attached": shown_volumes(s),
    }


_INSERT = (f"INSERT INTO v_servers (id, {', '.join(COLUMNS)}) VALUES ("
           + ", ".join(f"${i}" for i in range(1, len(COLUMNS) + 2)) + ")")
_UPDATE = ("UPDATE v_servers SET "
           + ", ".join(f"{c} = ${i}" for i, c in enumerate(COLUMNS, start=2)) + " WHERE id = $1")
_SAVE = ("INSERT INTO v_server_states (id, state) VALUES ($1, $2)"
         " ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state")


class ServersProjection(Projection):
    name = "servers"
    tables = ("v_servers", "v_server_states")
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
    CREATE TABLE IF NOT EXISTS v_server_states (
        id uuid PRIMARY KEY,
        state jsonb NOT NULL
    );
    """

    async def create_schema(self, conn: asyncpg.Connection) -> None:
        await super().create_schema(conn)
        # a view built before it kept the servers' states: build it again from the log
        stale = await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM v_servers v WHERE NOT EXISTS"
            " (SELECT 1 FROM v_server_states s WHERE s.id = v.id))")
        if stale:
            await self.reset(conn)

    @on("ServerCreated")
    async def created(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        server = to_domain_event(e, Server.TOPIC).mutate(None)  # type: ignore[arg-type]
        assert isinstance(server, Server)
        row = row_of(server)
        await conn.execute(_INSERT, e.stream_id, *[row[c] for c in COLUMNS])
        await conn.execute(_SAVE, e.stream_id, to_state(server))

    @on(*(t for t in events_of(Server) if t != "ServerCreated"))
    async def folded(self, conn: asyncpg.Connection, e: RecordedEvent) -> None:
        """Every other Server event: fold it into the state, write the row from it."""
        state = await conn.fetchval("SELECT state FROM v_server_states WHERE id = $1",
                                    e.stream_id)
        if state is None:
            return
        server = to_domain_event(e, Server.TOPIC).mutate(from_state(state))
        assert isinstance(server, Server)
        row = row_of(server)
        await conn.execute(_UPDATE, e.stream_id, *[row[c] for c in COLUMNS])
        await conn.execute(_SAVE, e.stream_id, to_state(server))
