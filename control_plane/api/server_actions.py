"""POST /servers/{id}/action: the server actions (os-stop, os-start, reboot so far)."""

from __future__ import annotations

import ipaddress
import secrets
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from control_plane import commands as c
from control_plane.api import common, servers
from control_plane.api.schemas import server_actions as schema
from control_plane.context import RequestContext
from control_plane.faults import BadRequest, NotFound
from control_plane.services.servers import hostname_for

# body key -> (policy rule, schema, command action)
ACTIONS: dict[str, tuple[str, dict[str, Any], str]] = {
    "os-stop": ("os_compute_api:servers:stop", schema.no_argument("os-stop"), "stop"),
    "os-start": ("os_compute_api:servers:start", schema.no_argument("os-start"), "start"),
    "reboot": ("os_compute_api:servers:reboot", schema.reboot, "reboot"),
    "pause": ("os_compute_api:os-pause-server:pause", schema.no_argument("pause"), "pause"),
    "unpause": ("os_compute_api:os-pause-server:unpause", schema.no_argument("unpause"),
                "unpause"),
    "suspend": ("os_compute_api:os-suspend-server:suspend", schema.no_argument("suspend"),
                "suspend"),
    "resume": ("os_compute_api:os-suspend-server:resume", schema.no_argument("resume"),
               "resume"),
    "rebuild": ("os_compute_api:servers:rebuild", schema.rebuild(), "rebuild"),
    "resize": ("os_compute_api:servers:resize", schema.resize, "resize"),
    "confirmResize": ("os_compute_api:servers:confirm_resize",
                      schema.no_argument("confirmResize"), "confirmResize"),
    "revertResize": ("os_compute_api:servers:revert_resize",
                     schema.no_argument("revertResize"), "revertResize"),
    "addSecurityGroup": ("os_compute_api:os-security-groups:add",
                         schema.security_group("addSecurityGroup"), "addSecurityGroup"),
    "removeSecurityGroup": ("os_compute_api:os-security-groups:remove",
                            schema.security_group("removeSecurityGroup"),
                            "removeSecurityGroup"),
    "createImage": ("os_compute_api:servers:create_image", schema.create_image(),
                    "createImage"),
    "createBackup": ("os_compute_api:os-create-backup", schema.create_backup(),
                     "createBackup"),
    "shelve": ("os_compute_api:os-shelve:shelve", schema.no_argument("shelve"), "shelve"),
    "shelveOffload": ("os_compute_api:os-shelve:shelve_offload",
                      schema.no_argument("shelveOffload"), "shelveOffload"),
    "unshelve": ("os_compute_api:os-shelve:unshelve", schema.no_argument("unshelve"),
                 "unshelve"),
    "os-resetState": ("os_compute_api:os-admin-actions:reset_state", schema.reset_state,
                      "resetState"),
    "lock": ("os_compute_api:os-lock-server:lock", schema.no_argument("lock"), "lock"),
    "unlock": ("os_compute_api:os-lock-server:unlock", schema.no_argument("unlock"), "unlock"),
}
RULES = {key: rule for key, (rule, _, _) in ACTIONS.items()}


async def _check_unlock_override(request: Request, ctx: RequestContext) -> None:
    """Unlocking a server an admin locked takes the unlock_override rule."""
    async with common.deps(request).pool.acquire() as conn:
        locked_by = await conn.fetchval(
            "SELECT locked_by FROM v_servers WHERE id::text = $1",
            request.path_params["server_id"])
    if locked_by == "admin":
        common.authorize(request, ctx, "os_compute_api:os-lock-server:unlock:unlock_override")


_REBUILD_FIELDS = {"name": "name", "metadata": "metadata", "accessIPv4": "access_ipv4",
                   "accessIPv6": "access_ipv6", "OS-DCF:diskConfig": "disk_config"}


async def _rebuild(request: Request, ctx: RequestContext, body: dict[str, Any]) -> Response:
    server_id = request.path_params["server_id"]
    changes = {field: body[key] for key, field in _REBUILD_FIELDS.items() if key in body}
    for ip in ("access_ipv4", "access_ipv6"):
        if changes.get(ip):
            changes[ip] = ipaddress.ip_address(changes[ip]).compressed
    if "name" in changes:
        changes["hostname"] = hostname_for(changes["name"])
    await common.bus(request).handle(c.RebuildServer(server_id, body["imageRef"], changes), ctx)
    async with common.deps(request).pool.acquire() as conn:
        row = await servers.visible_server(conn, server_id, ctx)
    view = servers.render_detail(servers.View.of(request, ctx), row, full=False)
    view["adminPass"] = body.get("adminPass") or secrets.token_urlsafe(9)[:12]
    return common.JSON({"server": view}, status_code=202)


async def action(request: Request) -> Response:
    ctx = common.context(request)
    try:
        raw = orjson.loads(await request.body() or b"null")
    except orjson.JSONDecodeError:
        raise BadRequest("Malformed request body") from None
    if not isinstance(raw, dict) or len(raw) != 1:
        raise BadRequest("Malformed request body")
    (key,) = raw
    if key not in ACTIONS:
        raise BadRequest(f"There is no such action: {key}")
    rule, body_schema, name = ACTIONS[key]
    common.authorize(request, ctx, rule)
    data = await common.body(request, body_schema)
    if key == "unlock":
        await _check_unlock_override(request, ctx)
    if key == "rebuild":
        return await _rebuild(request, ctx, data["rebuild"])
    server_id = request.path_params["server_id"]
    if key == "resize":
        await common.bus(request).handle(
            c.ResizeServer(server_id, str(data["resize"]["flavorRef"])), ctx)
        return common.empty(202)
    if key in ("createImage", "createBackup"):
        args = data[key]
        image_id = await common.bus(request).handle(c.CreateServerImage(
            server_id, args["name"], args.get("metadata", {}),
            "snapshot" if key == "createImage" else "backup", args.get("backup_type"),
            int(args["rotation"]) if "rotation" in args else None), ctx)
        location = common.links(request, "images", image_id)[0]["href"]
        return Response(status_code=202, headers={"Location": location})
    shelving = {"shelve": c.ShelveServer, "shelveOffload": c.ShelveOffloadServer,
                "unshelve": c.UnshelveServer}
    if key in shelving:
        await common.bus(request).handle(shelving[key](server_id), ctx)
        return common.empty(202)
    if key == "confirmResize":
        await common.bus(request).handle(c.ConfirmResize(server_id), ctx)
        return common.empty(204)
    if key == "revertResize":
        await common.bus(request).handle(c.RevertResize(server_id), ctx)
        return common.empty(202)
    reboot_type = str(data["reboot"]["type"]).upper() if key == "reboot" else "SOFT"
    argument = data[key]["state"] if key == "os-resetState" else ""
    if key.endswith("SecurityGroup"):
        argument = data[key]["name"]
        if key == "addSecurityGroup" and argument != "default":
            # every project has "default"; other groups come with the security groups API
            raise NotFound(f"Security group {argument} not found for project "
                           f"{ctx.project_id}.")
    await common.bus(request).handle(c.RequestServerAction(
        request.path_params["server_id"], name, reboot_type, argument), ctx)
    return common.empty(202)
