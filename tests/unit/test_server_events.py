"""The Server aggregate, given events / when a command / then events: no database.

Each case gives a server's history as the log stores it (type name and data), runs one
decision (a command through the real message bus and handler where the handler needs no
view, else the aggregate's own decision), lets the real unit of work append it to the
in-memory store, and checks what was appended, by type name and data, and the server
folded from the log afterwards. ``test_every_server_event_has_a_case`` fails when a
Server event type has no case here.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from control_plane.context import RequestContext
from control_plane.domain.base import Command
from control_plane.domain.errors import Conflict, Invalid, NotFound
from control_plane.domain.servers import commands as c
from control_plane.domain.servers import (
    deletion,
    moves,
    network,
    power_sync,
    rebuild,
    rescue,
    resize,
    shelve,
    snapshot,
    volume_attachments,
)
from control_plane.domain.servers.aggregate import Server
from control_plane.service.uow import UnitOfWork
from control_plane.store.eventstore import RecordedEvent
from tests.unit.fakes import Fake, server_event_types

Event = tuple[str, dict[str, Any]]
When = Callable[[Any, dt.datetime], object] | Command

SID = uuid.UUID("5e7f0c1a-0000-4000-8000-000000000001")
ID = str(SID)
PROJECT, USER = "project-a", "user-a"
OWNER = RequestContext(USER, PROJECT, ("member",))
ADMIN = RequestContext("admin-user", "admin-project", ("admin",))
WHEN = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
STARTED = "2026-01-02T00:00:00+00:00"
IMAGE, IMAGE2 = "70a599e0-31e7-49b7-b260-868f441e862b", "0b2c1a7e-9d3f-4c55-8e6a-3f1d2c4b5a69"
FLAVOR = {"id": "1", "name": "m1.tiny", "ram": 512, "vcpus": 1, "disk": 1, "ephemeral": 0,
          "swap": 0}
FLAVOR2 = {**FLAVOR, "id": "2", "name": "m1.small", "ram": 2048}
MAC = "fa:16:3e:00:00:01"
VIF = {"port_id": "port-1", "net_id": "net-1", "net_name": "private", "subnet_id": "sub-1",
       "mac": MAC, "ips": ["10.0.0.5"], "state": "ACTIVE"}
VIF2 = {**VIF, "port_id": "port-2", "mac": "fa:16:3e:00:00:02", "ips": ["10.0.0.6"]}


def fixed(ip: str, mac: str = MAC) -> dict[str, Any]:
    return {"version": 4, "addr": ip, "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": mac}


def floating(ip: str, mac: str = MAC) -> dict[str, Any]:
    return {**fixed(ip, mac), "OS-EXT-IPS:type": "floating"}


CREATED = {
    "name": "web", "project_id": PROJECT, "user_id": USER, "flavor": FLAVOR,
    "image_ref": IMAGE, "key_name": None, "key_data": None, "metadata": {"a": "1"},
    "access_ipv4": "", "access_ipv6": "", "disk_config": "MANUAL",
    "availability_zone": None, "config_drive": "", "user_data": None,
    "reservation_id": "r-00000001", "launch_index": 0, "security_groups": ["default"],
    "networks": "auto", "hostname": "web", "admin_pass": "", "files": [],
}

# -- histories, as the log holds them ----------------------------------------------------

BUILDING: list[Event] = [("ServerCreated", CREATED)]
SCHEDULED = [*BUILDING, ("ServerScheduled", {"host": "h1", "node": "h1",
                                             "availability_zone": "nova"})]
ACTIVE = [*SCHEDULED, ("ServerSpawned", {"started_at": STARTED, "addresses": {}})]
STOPPING = [*ACTIVE, ("ServerStopRequested", {})]
STOPPED = [*STOPPING, ("ServerStopped", {"started_at": STARTED})]
LOCKED = [*ACTIVE, ("ServerLocked", {"locked_by": "admin"})]
DELETING = [*ACTIVE, ("ServerDeleteRequested", {})]
PAUSED = [*ACTIVE, ("ServerPauseRequested", {}), ("ServerPaused", {"started_at": STARTED})]
SUSPENDED = [*ACTIVE, ("ServerSuspendRequested", {}),
             ("ServerSuspended", {"started_at": STARTED})]
SOFT_DELETING = [*ACTIVE, ("ServerSoftDeleteRequested", {})]
SOFT_DELETED = [*SOFT_DELETING, ("ServerSoftDeleted", {"started_at": STARTED})]
RESCUING = [*ACTIVE, ("ServerRescueRequested", {"rescue_image_ref": IMAGE,
                                                "admin_pass": "sealed"})]
RESCUED = [*RESCUING, ("ServerRescued", {"started_at": STARTED})]
PASSWORD_SET = [*ACTIVE, ("ServerPasswordSet", {"password": "encrypted"})]
RESIZE_PREP = [*ACTIVE, ("ServerResizeRequested", {"flavor": FLAVOR2, "return_to": "active"})]
RESIZE_MIGRATING = [*RESIZE_PREP, ("ServerResizeScheduled", {"host": "h2", "node": "h2"})]
RESIZED = [*RESIZE_MIGRATING, ("ServerResized", {"started_at": STARTED})]
REVERTING = [*RESIZED, ("ServerRevertResizeRequested", {})]
SHELVING = [*ACTIVE, ("ServerShelveRequested", {"image_id": "img-s", "offload": False})]
SHELVED = [*SHELVING, ("ServerShelved", {"started_at": STARTED})]
OFFLOADING = [*SHELVED, ("ServerShelveOffloadRequested", {})]
OFFLOADED = [*OFFLOADING, ("ServerShelveOffloaded", {"started_at": STARTED, "host": "h1"})]
UNSHELVING = [*OFFLOADED, ("ServerUnshelveRequested", {})]
UNSHELVE_PLACED = [*UNSHELVING, ("ServerUnshelveScheduled", {"host": "h2"})]
LIVE_MIGRATING = [*ACTIVE, ("ServerLiveMigrationStarted", {
    "source": "h1", "dest": "h2", "block_migration": False})]
EVACUATING = [*ACTIVE, ("ServerEvacuationStarted", {
    "source": "h1", "dest": "h2", "return_to": "active", "admin_pass": ""})]
WIRED = [*SCHEDULED, ("ServerNetworkAllocated", {
    "vifs": [VIF], "addresses": {"private": [fixed("10.0.0.5")]}}),
    ("ServerSpawned", {"started_at": STARTED, "addresses": {"private": [fixed("10.0.0.5")]}})]
IF_ATTACHING = [*WIRED, ("ServerInterfaceAttachRequested", {
    "vif": {**VIF2, "state": "attaching"}})]
IF_DETACHING = [*WIRED, ("ServerInterfaceDetachRequested", {"port_id": "port-1"})]
FLOATING = [*WIRED, ("ServerFloatingIpAssociated", {
    "address": "172.24.4.10", "fixed_address": "10.0.0.5",
    "addresses": {"private": [fixed("10.0.0.5"), floating("172.24.4.10")]}})]
VOL_ATTACHING = [*ACTIVE, ("ServerVolumeAttachRequested", {
    "volume_id": "vol-1", "device": "/dev/vdb", "disk_bus": None, "device_type": None})]
VOL_ATTACHED = [*VOL_ATTACHING, ("ServerVolumeAttached", {
    "volume_id": "vol-1", "started_at": STARTED, "step": "compute_attach_volume"})]
VOL_DETACHING = [*VOL_ATTACHED, ("ServerVolumeDetachRequested", {"volume_id": "vol-1"})]
VOL_SWAPPING = [*VOL_ATTACHED, ("ServerVolumeSwapRequested", {
    "old_volume_id": "vol-1", "new_volume_id": "vol-2"})]


@dataclass(frozen=True)
class Case:
    name: str
    given: list[Event]
    when: When
    then: list[Event]  # (type name, the data it must hold: a subset of what is stored)
    state: dict[str, Any] = field(default_factory=dict)  # the server folded afterwards
    ctx: RequestContext = OWNER


def action(name: str, **extra: Any) -> c.RequestServerAction:
    return c.RequestServerAction(ID, name, **extra)


def done(name: str) -> c.CompleteServerAction:
    return c.CompleteServerAction(ID, "h1", name, STARTED)


def _create(server: Any, now: dt.datetime) -> Server:
    assert server is None
    return Server.create(SID, now, **CREATED)


ACTIVE_STATE = {"vm_state": "active", "task_state": None, "power_state": 1, "status": "ACTIVE"}

CASES = [
    # -- build --------------------------------------------------------------------------
    Case("create", [], _create, [("ServerCreated", {"name": "web", "flavor": FLAVOR})],
         {"vm_state": "building", "task_state": "scheduling", "status": "BUILD"}),
    Case("schedule", BUILDING, lambda s, t: s.schedule("h1", "h1", "nova", t),
         [("ServerScheduled", {"host": "h1", "node": "h1", "availability_zone": "nova"})],
         {"task_state": "spawning", "host": "h1"}),
    Case("scheduling fails", BUILDING, lambda s, t: s.fail_scheduling("No valid host", t),
         [("ServerSchedulingFailed", {})], {"vm_state": "error", "status": "ERROR"}),
    Case("spawned", SCHEDULED, c.MarkServerSpawned(ID, "h1", STARTED, {}),
         [("ServerSpawned", {"started_at": STARTED, "addresses": {}})], ACTIVE_STATE),
    Case("spawned twice: nothing", ACTIVE, c.MarkServerSpawned(ID, "h1", STARTED, {}), []),
    Case("build fails", SCHEDULED, c.MarkServerBuildFailed(ID, "h1", STARTED, "boom", "tb"),
         [("ServerBuildFailed", {"started_at": STARTED})],
         {"vm_state": "error", "power_state": 0, "status": "ERROR"}),
    # -- updates ------------------------------------------------------------------------
    Case("update", ACTIVE, lambda s, t: s.update({"name": "db"}, t),
         [("ServerUpdated", {"changes": {"name": "db"}})], {"name": "db"}),
    Case("set metadata", ACTIVE, c.SetServerMetadata(ID, {"b": "2"}, False),
         [("ServerMetadataSet", {"metadata": {"b": "2"}, "replace": False})],
         {"metadata": {"a": "1", "b": "2"}}),
    Case("delete a metadata item", ACTIVE, c.DeleteServerMetadataItem(ID, "a"),
         [("ServerMetadataItemDeleted", {"key": "a"})], {"metadata": {}}),
    Case("add a security group", ACTIVE, action("addSecurityGroup", argument="web"),
         [("ServerSecurityGroupAdded", {"name": "web"})],
         {"security_groups": ["default", "web"]}),
    Case("remove a security group", ACTIVE, action("removeSecurityGroup", argument="default"),
         [("ServerSecurityGroupRemoved", {"name": "default"})], {"security_groups": []}),
    Case("lock", ACTIVE, action("lock"), [("ServerLocked", {"locked_by": "admin"})],
         {"locked_by": "admin"}, ctx=ADMIN),
    Case("unlock", LOCKED, action("unlock"), [("ServerUnlocked", {})], {"locked_by": None},
         ctx=ADMIN),
    Case("reset state", ACTIVE, action("resetState", argument="error"),
         [("ServerStateReset", {"vm_state": "error"})],
         {"vm_state": "error", "task_state": None}, ctx=ADMIN),
    # -- power actions ------------------------------------------------------------------
    Case("stop", ACTIVE, action("stop"), [("ServerStopRequested", {})],
         {"task_state": "powering-off"}),
    Case("stopped", STOPPING, done("stop"), [("ServerStopped", {"started_at": STARTED})],
         {"vm_state": "stopped", "task_state": None, "power_state": 4, "status": "SHUTOFF"}),
    Case("start", STOPPED, action("start"), [("ServerStartRequested", {})],
         {"task_state": "powering-on"}),
    Case("started", [*STOPPED, ("ServerStartRequested", {})], done("start"),
         [("ServerStarted", {"started_at": STARTED})], ACTIVE_STATE),
    Case("hard reboot", ACTIVE, action("reboot", reboot_type="HARD"),
         [("ServerRebootRequested", {"reboot_type": "HARD"})],
         {"task_state": "rebooting_hard", "status": "HARD_REBOOT"}),
    Case("rebooted", [*ACTIVE, ("ServerRebootRequested", {"reboot_type": "SOFT"})],
         done("reboot"), [("ServerRebooted", {"started_at": STARTED})], ACTIVE_STATE),
    Case("an action fails", STOPPING,
         c.FailServerAction(ID, "h1", "stop", STARTED, "boom", "tb"),
         [("ServerActionFailed", {"action": "stop", "message": "boom", "details": "tb"})],
         ACTIVE_STATE),
    Case("an outcome for another action: nothing", STOPPING, done("start"), []),
    Case("pause", ACTIVE, action("pause"), [("ServerPauseRequested", {})],
         {"task_state": "pausing"}),
    Case("paused", [*ACTIVE, ("ServerPauseRequested", {})], done("pause"),
         [("ServerPaused", {"started_at": STARTED})],
         {"vm_state": "paused", "task_state": None, "power_state": 3, "status": "PAUSED"}),
    Case("unpause", PAUSED, action("unpause"), [("ServerUnpauseRequested", {})],
         {"task_state": "unpausing"}),
    Case("unpaused", [*PAUSED, ("ServerUnpauseRequested", {})], done("unpause"),
         [("ServerUnpaused", {"started_at": STARTED})], ACTIVE_STATE),
    Case("suspend", ACTIVE, action("suspend"), [("ServerSuspendRequested", {})],
         {"task_state": "suspending"}),
    Case("suspended", [*ACTIVE, ("ServerSuspendRequested", {})], done("suspend"),
         [("ServerSuspended", {"started_at": STARTED})],
         {"vm_state": "suspended", "power_state": 4, "status": "SUSPENDED"}),
    Case("resume", SUSPENDED, action("resume"), [("ServerResumeRequested", {})],
         {"task_state": "resuming"}),
    Case("resumed", [*SUSPENDED, ("ServerResumeRequested", {})], done("resume"),
         [("ServerResumed", {"started_at": STARTED})], ACTIVE_STATE),
    Case("power state sync: the guest is off", ACTIVE,
         c.SyncServerPowerState(ID, "h1", 4, len(ACTIVE)),
         [("ServerPowerStateSynced", {"power_state": 4}), ("ServerStopRequested", {})],
         {"power_state": 4, "task_state": "powering-off"}),
    Case("power state sync: a stale observation is dropped", ACTIVE,
         c.SyncServerPowerState(ID, "h1", 4, len(ACTIVE) - 1), []),
    Case("power state sync: crashed while paused", PAUSED,
         lambda s, t: power_sync.sync(s, 6, t),
         [("ServerPowerStateSynced", {"power_state": 6}), ("ServerStopRequested", {})]),
    # -- delete, soft delete, restore ---------------------------------------------------
    Case("delete on a host", ACTIVE, lambda s, t: s.request_delete(t),
         [("ServerDeleteRequested", {})], {"task_state": "deleting"}),
    Case("delete before scheduling", BUILDING, lambda s, t: s.request_delete(t),
         [("ServerDeleted", {"started_at": None})],
         {"deleted": True, "vm_state": "deleted", "status": "DELETED"}),
    Case("deleted", DELETING, lambda s, t: s.mark_deleted(STARTED, t),
         [("ServerDeleted", {"started_at": STARTED})],
         {"deleted": True, "vm_state": "deleted", "power_state": 0}),
    Case("soft delete", ACTIVE, lambda s, t: deletion.request_delete(s, True, t),
         [("ServerSoftDeleteRequested", {})], {"task_state": "soft-deleting"}),
    Case("soft deleted", SOFT_DELETING, done("soft_delete"),
         [("ServerSoftDeleted", {"started_at": STARTED})],
         {"vm_state": "soft-delete", "power_state": 4, "status": "SOFT_DELETED"}),
    Case("restore", SOFT_DELETED, lambda s, t: deletion.request_restore(s, t),
         [("ServerRestoreRequested", {})], {"task_state": "restoring"}),
    Case("restored", [*SOFT_DELETED, ("ServerRestoreRequested", {})], done("restore"),
         [("ServerRestored", {"started_at": STARTED})], ACTIVE_STATE),
    Case("reclaim", SOFT_DELETED, lambda s, t: deletion.reclaim(s, t),
         [("ServerDeleteRequested", {})], {"task_state": "deleting"}),
    # -- rebuild, snapshot --------------------------------------------------------------
    Case("rebuild", ACTIVE, lambda s, t: rebuild.request(s, IMAGE2, {"name": "new"}, t),
         [("ServerRebuildRequested", {"image_ref": IMAGE2, "changes": {"name": "new"},
                                      "return_to": "active", "admin_pass": "", "files": []})],
         {"task_state": "rebuilding", "image_ref": IMAGE2, "name": "new", "status": "REBUILD"}),
    Case("rebuilt", [*ACTIVE, ("ServerRebuildRequested", {
        "image_ref": IMAGE2, "changes": {}, "return_to": "active", "admin_pass": "",
        "files": []})], done("rebuild"), [("ServerRebuilt", {"started_at": STARTED})],
        ACTIVE_STATE),
    Case("rebuilt while stopped", [*STOPPED, ("ServerRebuildRequested", {
        "image_ref": IMAGE2, "changes": {}, "return_to": "stopped", "admin_pass": "",
        "files": []})], done("rebuild"), [("ServerRebuilt", {"started_at": STARTED})],
        {"vm_state": "stopped", "power_state": 4}),
    Case("create an image", ACTIVE, lambda s, t: snapshot.request(s, "img-1", "snapshot", t),
         [("ServerSnapshotRequested", {"image_id": "img-1", "kind": "snapshot"})],
         {"task_state": "image_snapshot"}),
    Case("image taken", [*ACTIVE, ("ServerSnapshotRequested", {
        "image_id": "img-1", "kind": "backup"})],
        lambda s, t: snapshot.finish(s, "img-1", STARTED, t),
        [("ServerSnapshotTaken", {"image_id": "img-1", "started_at": STARTED})],
        {"task_state": None}),
    # -- rescue, passwords --------------------------------------------------------------
    Case("rescue", ACTIVE, lambda s, t: rescue.request_rescue(s, IMAGE, "sealed", t),
         [("ServerRescueRequested", {"rescue_image_ref": IMAGE, "admin_pass": "sealed"})],
         {"task_state": "rescuing"}),
    Case("rescued", RESCUING, done("rescue"), [("ServerRescued", {"started_at": STARTED})],
         {"vm_state": "rescued", "task_state": None, "power_state": 1, "status": "RESCUE"}),
    Case("unrescue", RESCUED, lambda s, t: rescue.request_unrescue(s, t),
         [("ServerUnrescueRequested", {})], {"task_state": "unrescuing"}),
    Case("unrescued", [*RESCUED, ("ServerUnrescueRequested", {})], done("unrescue"),
         [("ServerUnrescued", {"started_at": STARTED})], ACTIVE_STATE),
    Case("change the password", ACTIVE,
         lambda s, t: rescue.request_password_change(s, "sealed", t),
         [("ServerPasswordChangeRequested", {"admin_pass": "sealed"})],
         {"task_state": "updating_password", "status": "PASSWORD"}),
    Case("password changed", [*ACTIVE, ("ServerPasswordChangeRequested", {
        "admin_pass": "sealed"})], done("changePassword"),
        [("ServerPasswordChanged", {"started_at": STARTED})], ACTIVE_STATE),
    Case("the guest sets its password", ACTIVE,
         lambda s, t: rescue.set_password(s, "encrypted", t),
         [("ServerPasswordSet", {"password": "encrypted"})], {"guest_password": "encrypted"}),
    Case("password cleared", PASSWORD_SET, lambda s, t: rescue.clear_password(s, t),
         [("ServerPasswordCleared", {})], {"guest_password": ""}),
    # -- resize, migrate ----------------------------------------------------------------
    Case("resize", ACTIVE, lambda s, t: resize.request(s, FLAVOR2, t),
         [("ServerResizeRequested", {"flavor": FLAVOR2, "return_to": "active"})],
         {"task_state": "resize_prep", "status": "RESIZE", "flavor": FLAVOR}),
    Case("resize placed", RESIZE_PREP, lambda s, t: resize.schedule(s, "h2", t),
         [("ServerResizeScheduled", {"host": "h2", "node": "h2"})],
         {"task_state": "resize_migrating", "host": "h1"}),
    Case("resize fails", RESIZE_MIGRATING,
         lambda s, t: resize.fail(s, "No valid host", STARTED, t),
         [("ServerResizeFailed", {"message": "No valid host", "started_at": STARTED})],
         {**ACTIVE_STATE, "flavor": FLAVOR, "host": "h1"}),
    Case("resized", RESIZE_MIGRATING, lambda s, t: resize.finish(s, STARTED, t),
         [("ServerResized", {"started_at": STARTED})],
         {"vm_state": "resized", "host": "h2", "flavor": FLAVOR2, "status": "VERIFY_RESIZE"}),
    Case("resize confirmed", RESIZED, lambda s, t: resize.confirm(s, t),
         [("ServerResizeConfirmed", {"source_host": "h1"})],
         {**ACTIVE_STATE, "host": "h2", "flavor": FLAVOR2}),
    Case("revert a resize", RESIZED, lambda s, t: resize.request_revert(s, t),
         [("ServerRevertResizeRequested", {})],
         {"task_state": "resize_reverting", "status": "REVERT_RESIZE"}),
    Case("resize reverted", REVERTING, lambda s, t: resize.finish_revert(s, STARTED, t),
         [("ServerResizeReverted", {"started_at": STARTED, "target_host": "h2"})],
         {**ACTIVE_STATE, "host": "h1", "flavor": FLAVOR}),
    Case("cold migrate", STOPPED, lambda s, t: moves.request_migrate(s, t),
         [("ServerMigrateRequested", {"flavor": FLAVOR, "return_to": "stopped"})],
         {"task_state": "resize_prep", "status": "RESIZE"}),
    Case("live migrate", ACTIVE, lambda s, t: moves.start_live_migration(s, "h2", True, t),
         [("ServerLiveMigrationStarted", {"source": "h1", "dest": "h2",
                                          "block_migration": True})],
         {"task_state": "migrating", "status": "MIGRATING", "move_target": "h2"}),
    Case("live migrated", LIVE_MIGRATING,
         lambda s, t: moves.finish_live_migration(s, STARTED, True, "", t),
         [("ServerLiveMigrated", {"source": "h1", "dest": "h2", "started_at": STARTED})],
         {**ACTIVE_STATE, "host": "h2", "node": "h2", "move_target": None}),
    Case("live migration fails", LIVE_MIGRATING,
         lambda s, t: moves.finish_live_migration(s, STARTED, False, "boom", t),
         [("ServerLiveMigrationFailed", {"source": "h1", "dest": "h2", "message": "boom"})],
         {**ACTIVE_STATE, "host": "h1", "move_target": None}),
    Case("evacuate", STOPPED, lambda s, t: moves.start_evacuation(s, "h2", "sealed", t),
         [("ServerEvacuationStarted", {"source": "h1", "dest": "h2", "return_to": "stopped",
                                       "admin_pass": "sealed"})],
         {"task_state": "rebuilding", "move_target": "h2"}),
    Case("evacuated", EVACUATING,
         lambda s, t: moves.finish_evacuation(s, STARTED, True, "", t),
         [("ServerEvacuated", {"source": "h1", "dest": "h2", "return_to": "active",
                               "power_state": 1})],
         {**ACTIVE_STATE, "host": "h2"}),
    Case("evacuation fails", EVACUATING,
         lambda s, t: moves.finish_evacuation(s, STARTED, False, "boom", t),
         [("ServerEvacuationFailed", {"dest": "h2", "message": "boom"})],
         {"vm_state": "error", "task_state": None, "host": "h1"}),
    # -- shelve -------------------------------------------------------------------------
    Case("shelve", ACTIVE, lambda s, t: shelve.request(s, "img-s", False, t),
         [("ServerShelveRequested", {"image_id": "img-s", "offload": False})],
         {"task_state": "shelving", "shelved_image": "img-s"}),
    Case("shelved", SHELVING, lambda s, t: shelve.finish_shelve(s, STARTED, False, t),
         [("ServerShelved", {"started_at": STARTED})],
         {"vm_state": "shelved", "power_state": 4, "status": "SHELVED", "host": "h1"}),
    Case("shelved and offloaded at once", SHELVING,
         lambda s, t: shelve.finish_shelve(s, STARTED, True, t),
         [("ServerShelved", {"started_at": STARTED}),
          ("ServerShelveOffloaded", {"started_at": STARTED, "host": "h1"})],
         {"vm_state": "shelved_offloaded", "host": None}),
    Case("offload", SHELVED, lambda s, t: shelve.request_offload(s, t),
         [("ServerShelveOffloadRequested", {})], {"task_state": "shelving_offloading"}),
    Case("offloaded", OFFLOADING, lambda s, t: shelve.finish_offload(s, STARTED, t),
         [("ServerShelveOffloaded", {"started_at": STARTED, "host": "h1"})],
         {"vm_state": "shelved_offloaded", "host": None, "status": "SHELVED_OFFLOADED"}),
    Case("unshelve", OFFLOADED, lambda s, t: shelve.request_unshelve(s, t),
         [("ServerUnshelveRequested", {})], {"task_state": "unshelving"}),
    Case("unshelve placed", UNSHELVING, lambda s, t: shelve.schedule_unshelve(s, "h2", t),
         [("ServerUnshelveScheduled", {"host": "h2"})],
         {"host": "h2", "task_state": "spawning"}),
    Case("unshelved", UNSHELVE_PLACED, lambda s, t: shelve.finish_unshelve(s, STARTED, t),
         [("ServerUnshelved", {"started_at": STARTED, "image_id": "img-s"})],
         {**ACTIVE_STATE, "host": "h2", "shelved_image": None}),
    # -- network ------------------------------------------------------------------------
    Case("boot port allocated", SCHEDULED,
         lambda s, t: network.wire(s, [{**VIF, "state": "DOWN"}], t),
         [("ServerNetworkAllocated", {"vifs": [VIF],
                                      "addresses": {"private": [fixed("10.0.0.5")]}})]),
    Case("attach an interface", WIRED, lambda s, t: network.request_attach(s, VIF2, t),
         [("ServerInterfaceAttachRequested", {"vif": {**VIF2, "state": "attaching"}})]),
    Case("interface attached", IF_ATTACHING,
         lambda s, t: network.finish(s, "attach", "port-2", STARTED, "", "", t),
         [("ServerInterfaceAttached", {
             "port_id": "port-2", "step": "compute_attach_interface",
             "addresses": {"private": [fixed("10.0.0.5"),
                                       fixed("10.0.0.6", "fa:16:3e:00:00:02")]}})]),
    Case("interface attach fails", IF_ATTACHING,
         lambda s, t: network.finish(s, "attach", "port-2", STARTED, "boom", "tb", t),
         [("ServerInterfaceAttachFailed", {"port_id": "port-2", "message": "boom"})]),
    Case("detach an interface", WIRED, lambda s, t: network.request_detach(s, "port-1", t),
         [("ServerInterfaceDetachRequested", {"port_id": "port-1"})]),
    Case("interface detached", IF_DETACHING,
         lambda s, t: network.finish(s, "detach", "port-1", STARTED, "", "", t),
         [("ServerInterfaceDetached", {"port_id": "port-1", "addresses": {}})]),
    Case("interface detach fails", IF_DETACHING,
         lambda s, t: network.finish(s, "detach", "port-1", STARTED, "boom", "tb", t),
         [("ServerInterfaceDetachFailed", {"port_id": "port-1", "message": "boom"})]),
    Case("add a fixed IP", WIRED, lambda s, t: network.add_fixed_ip(
        s, {**VIF, "ips": ["10.0.0.5", "10.0.0.7"]}, "10.0.0.7", t),
         [("ServerFixedIpAdded", {"address": "10.0.0.7", "addresses": {
             "private": [fixed("10.0.0.5"), fixed("10.0.0.7")]}})]),
    Case("remove a fixed IP", FLOATING,
         lambda s, t: network.remove_fixed_ip(s, "10.0.0.5", t),
         [("ServerFixedIpRemoved", {"port_id": "port-1", "address": "10.0.0.5",
                                    "addresses": {"private": []}})]),
    Case("associate a floating IP", WIRED,
         lambda s, t: network.associate_floating_ip(s, "172.24.4.10", "10.0.0.5", t),
         [("ServerFloatingIpAssociated", {
             "address": "172.24.4.10", "fixed_address": "10.0.0.5",
             "addresses": {"private": [fixed("10.0.0.5"), floating("172.24.4.10")]}})]),
    Case("disassociate a floating IP", FLOATING,
         lambda s, t: network.disassociate_floating_ip(s, "172.24.4.10", t),
         [("ServerFloatingIpDisassociated", {
             "address": "172.24.4.10", "addresses": {"private": [fixed("10.0.0.5")]}})]),
    Case("inject network info", ACTIVE, lambda s, t: network.request_inject(s, t),
         [("ServerNetworkInfoInjectRequested", {})]),
    Case("reset the network", ACTIVE, lambda s, t: network.request_reset(s, t),
         [("ServerNetworkResetRequested", {})]),
    Case("network released", FLOATING, lambda s, t: network.release_all(s, t),
         [("ServerNetworkReleased", {"port_ids": ["port-1"],
                                     "floating_ips": ["172.24.4.10"]})]),
    Case("nothing to release", ACTIVE, lambda s, t: network.release_all(s, t), []),
    # -- volumes ------------------------------------------------------------------------
    Case("attach a volume", ACTIVE, lambda s, t: volume_attachments.request_attach(
        s, "vol-1", None, None, None, t),
         [("ServerVolumeAttachRequested", {"volume_id": "vol-1", "device": "/dev/vdb"})]),
    Case("volume attached", VOL_ATTACHING, lambda s, t: volume_attachments.finish(
        s, "attach", "vol-1", "", STARTED, "", "", t),
         [("ServerVolumeAttached", {"volume_id": "vol-1", "step": "compute_attach_volume"})],
         {"block_devices": {"vol-1": {"device": "/dev/vdb", "state": "attached"}}}),
    Case("volume attach fails", VOL_ATTACHING, lambda s, t: volume_attachments.finish(
        s, "attach", "vol-1", "", STARTED, "boom", "tb", t),
         [("ServerVolumeAttachFailed", {"volume_id": "vol-1", "message": "boom"})],
         {"block_devices": {}}),
    Case("detach a volume", VOL_ATTACHED,
         lambda s, t: volume_attachments.request_detach(s, "vol-1", t),
         [("ServerVolumeDetachRequested", {"volume_id": "vol-1"})]),
    Case("volume detached", VOL_DETACHING, lambda s, t: volume_attachments.finish(
        s, "detach", "vol-1", "", STARTED, "", "", t),
         [("ServerVolumeDetached", {"volume_id": "vol-1", "step": "compute_detach_volume"})],
         {"block_devices": {}}),
    Case("volume detach fails", VOL_DETACHING, lambda s, t: volume_attachments.finish(
        s, "detach", "vol-1", "", STARTED, "boom", "tb", t),
         [("ServerVolumeDetachFailed", {"volume_id": "vol-1", "message": "boom"})],
         {"block_devices": {"vol-1": {"device": "/dev/vdb", "state": "attached"}}}),
    Case("swap a volume", VOL_ATTACHED,
         lambda s, t: volume_attachments.request_swap(s, "vol-1", "vol-2", t),
         [("ServerVolumeSwapRequested", {"old_volume_id": "vol-1",
                                         "new_volume_id": "vol-2"})]),
    Case("volume swapped", VOL_SWAPPING, lambda s, t: volume_attachments.finish(
        s, "swap", "vol-1", "vol-2", STARTED, "", "", t),
         [("ServerVolumeSwapped", {"old_volume_id": "vol-1", "new_volume_id": "vol-2"})],
         {"block_devices": {"vol-2": {"device": "/dev/vdb", "state": "attached"}}}),
    Case("volume swap fails", VOL_SWAPPING, lambda s, t: volume_attachments.finish(
        s, "swap", "vol-1", "vol-2", STARTED, "boom", "tb", t),
         [("ServerVolumeSwapFailed", {"old_volume_id": "vol-1", "message": "boom"})],
         {"block_devices": {"vol-1": {"device": "/dev/vdb", "state": "attached"}}}),
    Case("volumes released", VOL_ATTACHED,
         lambda s, t: volume_attachments.release_all(s, t),
         [("ServerVolumesReleased", {"volume_ids": ["vol-1"]})], {"block_devices": {}}),
]

# decisions the server refuses: nothing is appended
REFUSED = [
    ("stop a stopped server", STOPPED, action("stop"), Conflict),
    ("start an active server", ACTIVE, action("start"), Conflict),
    ("act on a server an admin locked", LOCKED, action("stop"), Conflict),
    ("act on a deleted server", [*DELETING, ("ServerDeleted", {"started_at": STARTED})],
     lambda s, t: s.lock(False, t), Conflict),
    ("delete a missing metadata item", ACTIVE, c.DeleteServerMetadataItem(ID, "nope"),
     NotFound),
    ("resize to the same flavor", ACTIVE, lambda s, t: resize.request(s, FLAVOR, t), Invalid),
    ("unrescue a server not rescued", ACTIVE, lambda s, t: rescue.request_unrescue(s, t),
     Conflict),
    ("take a second guest password", PASSWORD_SET,
     lambda s, t: rescue.set_password(s, "again", t), Conflict),
    ("detach a volume not attached", ACTIVE,
     lambda s, t: volume_attachments.request_detach(s, "vol-9", t), NotFound),
    ("evacuate to the same host", ACTIVE, lambda s, t: moves.check_evacuation(s, "h1"),
     Invalid),
]


async def decide(fake: Fake, when: When, ctx: RequestContext) -> None:
    """Run ``when``: a command through the bus, or a decision of the loaded server."""
    if isinstance(when, Command):
        await fake.bus.handle(when, ctx)
        return

    async def work(uow: UnitOfWork) -> None:
        server = await uow.get(Server, SID)
        made = when(server, WHEN)
        if server is None and isinstance(made, Server):
            uow.add(made)
        await uow.commit(ctx.metadata())

    await fake.deps.retrying(work, key=ID)


def holds(data: dict[str, Any], expected: dict[str, Any]) -> bool:
    return all(k in data and data[k] == v for k, v in expected.items())


def described(events: list[RecordedEvent]) -> list[tuple[str, dict[str, Any]]]:
    return [(e.event_type, e.data) for e in events]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_given_when_then(case: Case) -> None:
    fake = Fake()
    if case.given:
        await fake.given(SID, case.given)
    head = await fake.store.head()

    await decide(fake, case.when, case.ctx)

    appended = await fake.since(head)
    assert [e.event_type for e in appended] == [t for t, _ in case.then], described(appended)
    for event, (_, expected) in zip(appended, case.then, strict=True):
        assert event.stream_id == ID
        assert holds(event.data, expected), (event.event_type, event.data, expected)
    server = await fake.deps.unit_of_work().get(Server, SID)
    assert server is not None
    assert server.version == len(case.given) + len(case.then)
    for key, value in case.state.items():
        assert getattr(server, key) == value, key


@pytest.mark.parametrize(("given", "when", "error"), [r[1:] for r in REFUSED],
                         ids=[r[0] for r in REFUSED])
async def test_refused(given: list[Event], when: When, error: type[Exception]) -> None:
    fake = Fake()
    await fake.given(SID, given)
    head = await fake.store.head()
    with pytest.raises(error):
        await decide(fake, when, OWNER)
    assert await fake.since(head) == []


def test_every_server_event_has_a_case() -> None:
    covered = {event_type for case in CASES for event_type, _ in case.then}
    missing = sorted(server_event_types() - covered)
    assert not missing, f"Server events with no given/when/then case: {missing}"
    unknown = sorted(covered - server_event_types())
    assert not unknown, f"cases name event types the domain does not declare: {unknown}"


def test_histories_are_well_formed() -> None:
    """Every history used as ``given`` is made of declared Server event types."""
    declared = server_event_types()
    for case in CASES:
        assert {t for t, _ in case.given} <= declared, case.name
