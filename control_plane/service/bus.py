"""The message bus: every command goes through ``handle``; the table below is the whole map."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from control_plane.context import RequestContext
from control_plane.domain.base import Command
from control_plane.domain.consoles.commands import AuthorizeConsole, CreateConsole, DeleteConsole
from control_plane.domain.flavors.commands import (
    AddFlavorAccess,
    CreateFlavor,
    DeleteFlavor,
    DeleteFlavorExtraSpec,
    RemoveFlavorAccess,
    SetFlavorExtraSpecs,
)
from control_plane.domain.hosts.commands import RegisterComputeHost
from control_plane.domain.identity.commands import (
    CreateProject,
    CreateRole,
    CreateUser,
    DeleteProject,
    DeleteRole,
    DeleteUser,
    GrantRole,
    RevokeRole,
    RevokeToken,
    UpdateProject,
    UpdateUser,
)
from control_plane.domain.images.commands import (
    DeleteImage,
    DeleteImageMetadataItem,
    RegisterImage,
    SetImageMetadata,
)
from control_plane.domain.keypairs.commands import CreateKeypair, DeleteKeypair
from control_plane.domain.networks.commands import (
    AddFixedIp,
    AddFloatingIp,
    AttachInterface,
    DetachInterface,
    FinishInterfaceOperation,
    InjectNetworkInfo,
    ReleaseServerNetwork,
    RemoveFixedIp,
    RemoveFloatingIp,
    ResetNetwork,
)
from control_plane.domain.servers.commands import (
    AutoConfirmResize,
    ChangeServerPassword,
    ClearServerPassword,
    CompleteServerAction,
    ConfirmResize,
    CreateServerImage,
    CreateServers,
    DeleteServer,
    DeleteServerMetadataItem,
    EvacuateServer,
    FailResize,
    FailServerAction,
    FinishEvacuation,
    FinishLiveMigration,
    FinishOffload,
    FinishResize,
    FinishRevertResize,
    FinishServerImage,
    FinishShelve,
    FinishUnshelve,
    ForceDeleteServer,
    LiveMigrateServer,
    MarkServerBuildFailed,
    MarkServerDeleted,
    MarkServerSpawned,
    MigrateServer,
    OffloadShelvedServer,
    RebuildServer,
    ReclaimServer,
    RequestServerAction,
    RescueServer,
    ResizeServer,
    RestoreServer,
    RevertResize,
    ScheduleResize,
    ScheduleServers,
    ScheduleUnshelve,
    SetServerMetadata,
    SetServerPassword,
    ShelveOffloadServer,
    ShelveServer,
    SyncServerPowerState,
    UnrescueServer,
    UnshelveServer,
    UpdateServer,
)
from control_plane.domain.volumes.commands import (
    AttachVolume,
    CreateVolume,
    CreateVolumeSnapshot,
    DeleteVolume,
    DeleteVolumeSnapshot,
    DetachVolume,
    FinishVolumeOperation,
    ReleaseServerVolumes,
    SwapVolume,
)
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
        self, cmd: Command, ctx: RequestContext, *, tracking: tuple[str, int] | None = None
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


HANDLERS: dict[type[Command], Handler] = {
    CreateServers: servers.create_servers,
    UpdateServer: servers.update_server,
    DeleteServer: server_deletion.delete_server,
    SetServerMetadata: servers.set_metadata,
    DeleteServerMetadataItem: servers.delete_metadata_item,
    RegisterComputeHost: compute.register_host,
    ScheduleServers: compute.schedule_servers,
    MarkServerSpawned: compute.mark_spawned,
    MarkServerBuildFailed: compute.mark_build_failed,
    MarkServerDeleted: compute.mark_deleted,
    CreateFlavor: flavors.create_flavor,
    DeleteFlavor: flavors.delete_flavor,
    SetFlavorExtraSpecs: flavors.set_extra_specs,
    DeleteFlavorExtraSpec: flavors.delete_extra_spec,
    AddFlavorAccess: flavors.add_access,
    RemoveFlavorAccess: flavors.remove_access,
    CreateKeypair: keypairs.create_keypair,
    DeleteKeypair: keypairs.delete_keypair,
    RegisterImage: images.register_image,
    SetImageMetadata: images.set_metadata,
    DeleteImageMetadataItem: images.delete_metadata_item,
    DeleteImage: images.delete_image,
    CreateUser: identity.create_user,
    UpdateUser: identity.update_user,
    DeleteUser: identity.delete_user,
    CreateProject: identity.create_project,
    UpdateProject: identity.update_project,
    DeleteProject: identity.delete_project,
    CreateRole: identity.create_role,
    DeleteRole: identity.delete_role,
    GrantRole: identity.grant_role,
    RevokeRole: identity.revoke_role,
    RevokeToken: identity.revoke_token,
    RequestServerAction: server_actions.request_action,
    RebuildServer: server_actions.rebuild,
    CompleteServerAction: server_actions.complete_action,
    CreateServerImage: server_snapshot.create_image,
    FinishServerImage: server_snapshot.finish_image,
    ShelveServer: server_shelve.request_shelve,
    ShelveOffloadServer: server_shelve.request_offload,
    UnshelveServer: server_shelve.request_unshelve,
    ScheduleUnshelve: server_shelve.schedule_unshelve,
    FinishShelve: server_shelve.finish_shelve,
    FinishOffload: server_shelve.finish_offload,
    FinishUnshelve: server_shelve.finish_unshelve,
    ResizeServer: server_resize.request_resize,
    ConfirmResize: server_resize.confirm_resize,
    RevertResize: server_resize.revert_resize,
    ScheduleResize: server_resize.schedule_resize,
    FinishResize: server_resize.finish_resize,
    FailResize: server_resize.fail_resize,
    FinishRevertResize: server_resize.finish_revert,
    FailServerAction: server_actions.fail_action,
    RestoreServer: server_deletion.restore,
    ForceDeleteServer: server_deletion.force_delete,
    ReclaimServer: server_deletion.reclaim,
    SyncServerPowerState: power_sync.sync_power_state,
    RescueServer: server_rescue.request_rescue,
    UnrescueServer: server_rescue.request_unrescue,
    ChangeServerPassword: server_rescue.change_password,
    SetServerPassword: server_rescue.set_password,
    ClearServerPassword: server_rescue.clear_password,
    MigrateServer: server_moves.migrate,
    LiveMigrateServer: server_moves.live_migrate,
    FinishLiveMigration: server_moves.finish_live_migration,
    EvacuateServer: server_moves.evacuate,
    FinishEvacuation: server_moves.finish_evacuation,
    OffloadShelvedServer: server_shelve.offload_due,
    AutoConfirmResize: server_resize.auto_confirm,
    CreateVolume: volumes.create_volume,
    DeleteVolume: volumes.delete_volume,
    CreateVolumeSnapshot: volumes.create_snapshot,
    DeleteVolumeSnapshot: volumes.delete_snapshot,
    AttachVolume: volumes.attach,
    DetachVolume: volumes.detach,
    SwapVolume: volumes.swap,
    FinishVolumeOperation: volumes.finish,
    ReleaseServerVolumes: volumes.release,
    AuthorizeConsole: consoles.authorize_console,
    CreateConsole: consoles.create_console,
    DeleteConsole: consoles.delete_console,
    AttachInterface: networks.attach_interface,
    DetachInterface: networks.detach_interface,
    FinishInterfaceOperation: networks.finish_interface,
    AddFixedIp: networks.add_fixed_ip,
    RemoveFixedIp: networks.remove_fixed_ip,
    AddFloatingIp: networks.add_floating_ip,
    RemoveFloatingIp: networks.remove_floating_ip,
    InjectNetworkInfo: networks.inject_network_info,
    ResetNetwork: networks.reset_network,
    ReleaseServerNetwork: networks.release,
}
