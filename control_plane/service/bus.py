"""The message bus: every command goes through ``handle``; the table below is the whole map."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from control_plane.context import RequestContext
from control_plane.domain import commands as c
from control_plane.observability import logs, metrics
from control_plane.service.deps import Deps
from control_plane.service.handlers import (
    consoles,
    flavors,
    identity,
    images,
    keypairs,
    networks,
    server_actions,
    server_deletion,
    server_moves,
    server_rescue,
    server_resize,
    server_shelve,
    server_snapshot,
    servers,
    volumes,
)
from control_plane.service.handlers import hosts as compute
from control_plane.service.handlers import server_power_sync as power_sync

Handler = Callable[..., Awaitable[Any]]

log = logging.getLogger(__name__)


class MessageBus:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def handle(
        self, cmd: c.Command, ctx: RequestContext, *, tracking: tuple[str, int] | None = None
    ) -> Any:
        handler = HANDLERS[type(cmd)]
        name = type(cmd).__name__
        outcome = "ok"
        started = time.perf_counter()
        with logs.bound(request_id=ctx.request_id):
            try:
                if tracking is not None:
                    return await handler(self.deps, cmd, ctx, tracking=tracking)
                return await handler(self.deps, cmd, ctx)
            except Exception as exc:
                outcome = type(exc).__name__
                raise
            finally:
                elapsed = time.perf_counter() - started
                metrics.COMMANDS.labels(name, outcome).inc()
                metrics.COMMAND_DURATION.labels(name).observe(elapsed)
                log.debug("command %s: %s (%.4fs)", name, outcome, elapsed,
                          extra={"command": name, "outcome": outcome})


HANDLERS: dict[type[c.Command], Handler] = {
    c.CreateServers: servers.create_servers,
    c.UpdateServer: servers.update_server,
    c.DeleteServer: server_deletion.delete_server,
    c.SetServerMetadata: servers.set_metadata,
    c.DeleteServerMetadataItem: servers.delete_metadata_item,
    c.RegisterComputeHost: compute.register_host,
    c.ScheduleServers: compute.schedule_servers,
    c.MarkServerSpawned: compute.mark_spawned,
    c.MarkServerBuildFailed: compute.mark_build_failed,
    c.MarkServerDeleted: compute.mark_deleted,
    c.CreateFlavor: flavors.create_flavor,
    c.DeleteFlavor: flavors.delete_flavor,
    c.SetFlavorExtraSpecs: flavors.set_extra_specs,
    c.DeleteFlavorExtraSpec: flavors.delete_extra_spec,
    c.AddFlavorAccess: flavors.add_access,
    c.RemoveFlavorAccess: flavors.remove_access,
    c.CreateKeypair: keypairs.create_keypair,
    c.DeleteKeypair: keypairs.delete_keypair,
    c.RegisterImage: images.register_image,
    c.SetImageMetadata: images.set_metadata,
    c.DeleteImageMetadataItem: images.delete_metadata_item,
    c.DeleteImage: images.delete_image,
    c.CreateUser: identity.create_user,
    c.UpdateUser: identity.update_user,
    c.DeleteUser: identity.delete_user,
    c.CreateProject: identity.create_project,
    c.UpdateProject: identity.update_project,
    c.DeleteProject: identity.delete_project,
    c.CreateRole: identity.create_role,
    c.DeleteRole: identity.delete_role,
    c.GrantRole: identity.grant_role,
    c.RevokeRole: identity.revoke_role,
    c.RevokeToken: identity.revoke_token,
    c.RequestServerAction: server_actions.request_action,
    c.RebuildServer: server_actions.rebuild,
    c.CompleteServerAction: server_actions.complete_action,
    c.CreateServerImage: server_snapshot.create_image,
    c.FinishServerImage: server_snapshot.finish_image,
    c.ShelveServer: server_shelve.request_shelve,
    c.ShelveOffloadServer: server_shelve.request_offload,
    c.UnshelveServer: server_shelve.request_unshelve,
    c.ScheduleUnshelve: server_shelve.schedule_unshelve,
    c.FinishShelve: server_shelve.finish_shelve,
    c.FinishOffload: server_shelve.finish_offload,
    c.FinishUnshelve: server_shelve.finish_unshelve,
    c.ResizeServer: server_resize.request_resize,
    c.ConfirmResize: server_resize.confirm_resize,
    c.RevertResize: server_resize.revert_resize,
    c.ScheduleResize: server_resize.schedule_resize,
    c.FinishResize: server_resize.finish_resize,
    c.FailResize: server_resize.fail_resize,
    c.FinishRevertResize: server_resize.finish_revert,
    c.FailServerAction: server_actions.fail_action,
    c.RestoreServer: server_deletion.restore,
    c.ForceDeleteServer: server_deletion.force_delete,
    c.ReclaimServer: server_deletion.reclaim,
    c.SyncServerPowerState: power_sync.sync_power_state,
    c.RescueServer: server_rescue.request_rescue,
    c.UnrescueServer: server_rescue.request_unrescue,
    c.ChangeServerPassword: server_rescue.change_password,
    c.SetServerPassword: server_rescue.set_password,
    c.ClearServerPassword: server_rescue.clear_password,
    c.MigrateServer: server_moves.migrate,
    c.LiveMigrateServer: server_moves.live_migrate,
    c.FinishLiveMigration: server_moves.finish_live_migration,
    c.EvacuateServer: server_moves.evacuate,
    c.FinishEvacuation: server_moves.finish_evacuation,
    c.OffloadShelvedServer: server_shelve.offload_due,
    c.AutoConfirmResize: server_resize.auto_confirm,
    c.CreateVolume: volumes.create_volume,
    c.DeleteVolume: volumes.delete_volume,
    c.CreateVolumeSnapshot: volumes.create_snapshot,
    c.DeleteVolumeSnapshot: volumes.delete_snapshot,
    c.AttachVolume: volumes.attach,
    c.DetachVolume: volumes.detach,
    c.SwapVolume: volumes.swap,
    c.FinishVolumeOperation: volumes.finish,
    c.ReleaseServerVolumes: volumes.release,
    c.AuthorizeConsole: consoles.authorize_console,
    c.CreateConsole: consoles.create_console,
    c.DeleteConsole: consoles.delete_console,
    c.AttachInterface: networks.attach_interface,
    c.DetachInterface: networks.detach_interface,
    c.FinishInterfaceOperation: networks.finish_interface,
    c.AddFixedIp: networks.add_fixed_ip,
    c.RemoveFixedIp: networks.remove_fixed_ip,
    c.AddFloatingIp: networks.add_floating_ip,
    c.RemoveFloatingIp: networks.remove_floating_ip,
    c.InjectNetworkInfo: networks.inject_network_info,
    c.ResetNetwork: networks.reset_network,
    c.ReleaseServerNetwork: networks.release,
}
