"""The server actions of Nova's servers, pause, suspend, lock, shelve, create-backup and
security-group resources: their entries of POST /servers/{id}/action.

Other resources declare their own actions the same way (``ACTIONS``); the dispatcher that
joins them is ``control_plane.api.compute.action_dispatch``.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from control_plane.access.passwords import generate_password
from control_plane.api import common
from control_plane.api.compute.action_dispatch import (
    ActionHandler,
    Entry,
    command,
    from_args,
    simple,
)
from control_plane.api.compute.resources import servers
from control_plane.api.compute.schemas import server_actions as schema
from control_plane.api.compute.views import servers as server_views
from control_plane.api.faults import NotFound
from control_plane.context import RequestContext
from control_plane.domain.servers import commands as c
from control_plane.service.handlers.servers import hostname_for
from projections.servers import queries as server_queries

_reboot = from_args(lambda sid, args: c.RequestServerAction(
    sid, "reboot", str(args["type"]).upper()))
_reset_state = from_args(lambda sid, args: c.RequestServerAction(
    sid, "resetState", argument=args["state"]))


def _security_group(action: str) -> ActionHandler:
    async def handler(request: Request, ctx: RequestContext, server_id: str, args: Any
                      ) -> Response:
        name = args["name"]
        if action == "addSecurityGroup" and name != "default":
            # every project has "default"; other groups come with the security groups API
            raise NotFound(f"Security group {name} not found for project {ctx.project_id}.")
        await common.bus(request).handle(c.RequestServerAction(server_id, action,
                                                               argument=name), ctx)
        return common.empty(202)
    return handler


async def _unlock(request: Request, ctx: RequestContext, server_id: str, args: Any
                  ) -> Response:
    """Unlocking a server an admin locked takes the unlock_override rule."""
    async with common.deps(request).pool.acquire() as conn:
        locked_by = await server_queries.locked_by(conn, server_id)
    if locked_by == "admin":
        common.authorize(request, ctx, "os_compute_api:os-lock-server:unlock:unlock_override")
    await common.bus(request).handle(c.RequestServerAction(server_id, "unlock"), ctx)
    return common.empty(202)


_REBUILD_FIELDS = {"name": "name", "metadata": "metadata", "accessIPv4": "access_ipv4",
                   "accessIPv6": "access_ipv6", "OS-DCF:diskConfig": "disk_config"}


async def _rebuild(request: Request, ctx: RequestContext, server_id: str, body: Any
                   ) -> Response:
    changes = {field: body[key] for key, field in _REBUILD_FIELDS.items() if key in body}
    for ip in ("access_ipv4", "access_ipv6"):
        if changes.get(ip):
            changes[ip] = ipaddress.ip_address(changes[ip]).compressed
    if "name" in changes:
        changes["hostname"] = hostname_for(changes["name"])
    password = body.get("adminPass") or generate_password()
    files = servers.personality(body.get("personality", []),
                                common.deps(request).settings.quotas)
    await common.bus(request).handle(c.RebuildServer(server_id, body["imageRef"], changes,
                                                     password, files), ctx)
    async with common.deps(request).pool.acquire() as conn:
        row = await servers.visible_server(conn, server_id, ctx)
    view = server_views.render_detail(server_views.View.of(request, ctx), row, full=False)
    view["adminPass"] = password
    return common.JSON({"server": view}, status_code=202)


_resize = from_args(lambda sid, args: c.ResizeServer(sid, str(args["flavorRef"])))


def _image(kind: str) -> ActionHandler:
    async def handler(request: Request, ctx: RequestContext, server_id: str, args: Any
                      ) -> Response:
        image_id = await common.bus(request).handle(c.CreateServerImage(
            server_id, args["name"], args.get("metadata", {}), kind, args.get("backup_type"),
            int(args["rotation"]) if "rotation" in args else None), ctx)
        location = common.links(request, "images", image_id)[0]["href"]
        return Response(status_code=202, headers={"Location": location})
    return handler


# body key -> (policy rule, schema, handler)
ACTIONS: dict[str, Entry] = {
    "os-stop": ("os_compute_api:servers:stop", schema.no_argument("os-stop"), simple("stop")),
    "os-start": ("os_compute_api:servers:start", schema.no_argument("os-start"),
                 simple("start")),
    "reboot": ("os_compute_api:servers:reboot", schema.reboot, _reboot),
    "pause": ("os_compute_api:os-pause-server:pause", schema.no_argument("pause"),
              simple("pause")),
    "unpause": ("os_compute_api:os-pause-server:unpause", schema.no_argument("unpause"),
                simple("unpause")),
    "suspend": ("os_compute_api:os-suspend-server:suspend", schema.no_argument("suspend"),
                simple("suspend")),
    "resume": ("os_compute_api:os-suspend-server:resume", schema.no_argument("resume"),
               simple("resume")),
    "rebuild": ("os_compute_api:servers:rebuild", schema.rebuild(), _rebuild),
    "resize": ("os_compute_api:servers:resize", schema.resize, _resize),
    "confirmResize": ("os_compute_api:servers:confirm_resize",
                      schema.no_argument("confirmResize"), command(c.ConfirmResize, 204)),
    "revertResize": ("os_compute_api:servers:revert_resize",
                     schema.no_argument("revertResize"), command(c.RevertResize)),
    "addSecurityGroup": ("os_compute_api:os-security-groups:add",
                         schema.security_group("addSecurityGroup"),
                         _security_group("addSecurityGroup")),
    "removeSecurityGroup": ("os_compute_api:os-security-groups:remove",
                            schema.security_group("removeSecurityGroup"),
                            _security_group("removeSecurityGroup")),
    "createImage": ("os_compute_api:servers:create_image", schema.create_image(),
                    _image("snapshot")),
    "createBackup": ("os_compute_api:os-create-backup", schema.create_backup(),
                     _image("backup")),
    "shelve": ("os_compute_api:os-shelve:shelve", schema.no_argument("shelve"),
               command(c.ShelveServer)),
    "shelveOffload": ("os_compute_api:os-shelve:shelve_offload",
                      schema.no_argument("shelveOffload"), command(c.ShelveOffloadServer)),
    "unshelve": ("os_compute_api:os-shelve:unshelve", schema.no_argument("unshelve"),
                 command(c.UnshelveServer)),
    "os-resetState": ("os_compute_api:os-admin-actions:reset_state", schema.reset_state,
                      _reset_state),
    "lock": ("os_compute_api:os-lock-server:lock", schema.no_argument("lock"),
             simple("lock")),
    "unlock": ("os_compute_api:os-lock-server:unlock", schema.no_argument("unlock"), _unlock),
}
