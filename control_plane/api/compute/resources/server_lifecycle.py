"""Server actions of the deferred-delete, rescue, admin-password, migrate-server and
evacuate APIs (Nova's deferred_delete.py, rescue.py, admin_password.py,
migrate_server.py, evacuate.py), registered with the action dispatcher."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from control_plane.access.passwords import generate_password
from control_plane.api import common
from control_plane.api.compute import action_dispatch
from control_plane.api.compute.schemas import server_actions as plain
from control_plane.api.compute.schemas import server_lifecycle as schema
from control_plane.api.faults import BadRequest
from control_plane.context import RequestContext
from control_plane.domain.servers import commands as c

_TRUE = {"true", "1", "on", "yes"}


def _boolean(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).lower() in _TRUE


async def _rescue(request: Request, ctx: RequestContext, server_id: str, args: Any
                  ) -> Response:
    args = args or {}
    password = args.get("adminPass") or generate_password()
    await common.bus(request).handle(c.RescueServer(
        server_id, password, args.get("rescue_image_ref")), ctx)
    return common.JSON({"adminPass": password})


_change_password = action_dispatch.from_args(
    lambda sid, args: c.ChangeServerPassword(sid, args["adminPass"]))


async def _migrate_live(request: Request, ctx: RequestContext, server_id: str, args: Any
                        ) -> Response:
    host = args["host"]
    if host:  # choosing the target takes the stricter rule
        common.authorize(request, ctx, "os_compute_api:os-migrate-server:migrate_live:host")
    _boolean(args["disk_over_commit"])  # accepted and ignored, as Nova's newer computes do
    await common.bus(request).handle(c.LiveMigrateServer(
        server_id, host or None, _boolean(args["block_migration"])), ctx)
    return common.empty(202)


async def _evacuate(request: Request, ctx: RequestContext, server_id: str, args: Any
                    ) -> Response:
    before_214 = not common.is_supported(request, "2.14")
    if before_214 and "onSharedStorage" not in args:
        raise BadRequest("Invalid input for field/attribute evacuate. Value: "
                         f"{args}. 'onSharedStorage' is a required property")
    if not before_214 and "onSharedStorage" in args:
        raise BadRequest("Invalid input for field/attribute evacuate. Value: "
                         f"{args}. Additional properties are not allowed "
                         "('onSharedStorage' was unexpected)")
    if before_214 and _boolean(args["onSharedStorage"]) and "adminPass" in args:
        raise BadRequest("admin password can't be changed on existing disk")
    password = args.get("adminPass") or generate_password()
    await common.bus(request).handle(c.EvacuateServer(server_id, args.get("host"), password),
                                     ctx)
    if before_214:
        return common.JSON({"adminPass": password})
    return Response(status_code=200)


ACTIONS: dict[str, action_dispatch.Entry] = {
    "restore": ("os_compute_api:os-deferred-delete:restore", plain.no_argument("restore"),
                action_dispatch.command(c.RestoreServer)),
    "forceDelete": ("os_compute_api:os-deferred-delete:force",
                    plain.no_argument("forceDelete"),
                    action_dispatch.command(c.ForceDeleteServer)),
    "rescue": ("os_compute_api:os-rescue", schema.rescue, _rescue),
    "unrescue": ("os_compute_api:os-unrescue", plain.no_argument("unrescue"),
                 action_dispatch.command(c.UnrescueServer)),
    "changePassword": ("os_compute_api:os-admin-password", schema.change_password,
                       _change_password),
    "migrate": ("os_compute_api:os-migrate-server:migrate", plain.no_argument("migrate"),
                action_dispatch.command(c.MigrateServer)),
    "os-migrateLive": ("os_compute_api:os-migrate-server:migrate_live", schema.migrate_live,
                       _migrate_live),
    "evacuate": ("os_compute_api:os-evacuate", schema.evacuate, _evacuate),
}
