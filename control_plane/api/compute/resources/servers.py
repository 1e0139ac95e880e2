"""/servers: list, detail, show, create (one or many), update, delete."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import uuid
from typing import Any

import asyncpg
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from control_plane.access.passwords import generate_password
from control_plane.api import common
from control_plane.api.common import P
from control_plane.api.compute.schemas import servers as schema
from control_plane.api.compute.views.servers import View, render_brief, render_detail
from control_plane.api.faults import BadRequest, Forbidden, NotFound, QuotaExceeded
from control_plane.context import RequestContext
from control_plane.domain.servers import commands as c
from projections.servers import queries

_SORT_KEYS = {
    "created_at": "created_at", "updated_at": "updated_at", "display_name": "name",
    "uuid": "id", "vm_state": "vm_state", "task_state": "task_state",
    "power_state": "power_state", "launched_at": "launched_at",
    "terminated_at": "terminated_at", "host": "host", "node": "node",
    "availability_zone": "availability_zone", "key_name": "key_name",
    "project_id": "project_id", "user_id": "user_id", "hostname": "hostname",
}


async def visible_server(conn: asyncpg.Connection, server_id: str, ctx: RequestContext
                   ) -> asyncpg.Record:
    try:
        sid = uuid.UUID(server_id)
    except ValueError:
        raise NotFound(f"Instance {server_id} could not be found.") from None
    row = await queries.live(conn, sid)
    if row is None or (not ctx.is_admin and row["project_id"] != ctx.project_id):
        raise NotFound(f"Instance {server_id} could not be found.")
    return row


async def visible_server_id(request: Request, ctx: RequestContext) -> uuid.UUID:
    """The id of the server named in the path, if the caller may see it (else 404)."""
    async with common.deps(request).pool.acquire() as conn:
        row = await visible_server(conn, request.path_params["server_id"], ctx)
    server_id: uuid.UUID = row["id"]
    return server_id


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on", "t", "y")


def _regex(q: Any, key: str) -> str:
    """A regular expression filter (name, ip, ip6): 400 unless Python reads it (Postgres
    may still refuse one Python reads: ``_list`` answers that with 400 too)."""
    try:
        re.compile(q[key])
    except (re.error, OverflowError, RecursionError):
        raise BadRequest(f"Invalid regular expression in {key}: {q[key]}") from None
    return str(q[key])


def _query(request: Request, ctx: RequestContext, detail: bool
           ) -> tuple[queries.Filter, list[tuple[str, str]]]:
    """The servers the list filters in the query string select, and their order."""
    q = request.query_params
    f = queries.Filter()
    all_tenants = False
    if "all_tenants" in q:
        value = q["all_tenants"].strip().lower()
        if value in ("", "1", "true", "t", "yes", "y", "on"):
            all_tenants = True
        elif value not in ("0", "false", "f", "no", "n", "off"):
            raise BadRequest(f"Invalid input received: Unrecognized value '{q['all_tenants']}'"
                             ", acceptable values are: '0', '1', 'f', 'false', 'n', 'no', "
                             "'off', 'on', 't', 'true', 'y', 'yes'")
        if all_tenants:
            common.authorize(
                request, ctx,
                f"os_compute_api:servers:{'detail' if detail else 'index'}:get_all_tenants")
    project_filter = (q.get("project_id") or q.get("tenant_id")) if all_tenants else None
    if not ctx.is_admin or not (all_tenants or project_filter):
        f.project_id = ctx.project_id
    elif project_filter:
        f.project_id = project_filter

    changes_since = q.get("changes-since")
    statuses = [s.upper() for s in q.getlist("status")]
    if "DELETED" in statuses and not ctx.is_admin:
        raise Forbidden("Only administrators may list deleted instances")
    f.deleted = ctx.is_admin and (_truthy(q.get("deleted")) or "DELETED" in statuses)
    if changes_since is not None:
        f.changes_since = common.parse_changes_since(changes_since)

    if "name" in q:
        f.name_regex = _regex(q, "name")
    if "image" in q:
        f.image_ref = q["image"].rstrip("/").rsplit("/", 1)[-1]
    if "flavor" in q:
        f.flavor_id = q["flavor"].rstrip("/").rsplit("/", 1)[-1]
    f.statuses = statuses
    if ctx.is_admin:
        f.host, f.node = q.get("host"), q.get("node")
        f.availability_zone = q.get("availability_zone")
        f.user_id = q.get("user_id")
    f.reservation_id = q.get("reservation_id")
    if "ip" in q:
        f.ipv4_regex = _regex(q, "ip")
    if "ip6" in q and (ctx.is_admin or common.is_supported(request, "2.5")):
        f.ipv6_regex = _regex(q, "ip6")

    keys = q.getlist("sort_key") or ["created_at"]
    dirs = q.getlist("sort_dir")
    order = []
    for i, key in enumerate(keys):
        if key not in _SORT_KEYS:
            raise BadRequest("Sort key supplied was not valid.")
        direction = (dirs[i] if i < len(dirs) else "desc").lower()
        if direction not in ("asc", "desc"):
            raise BadRequest("Invalid input received: Unknown sort direction, must be 'desc' "
                             "or 'asc'")
        order.append((_SORT_KEYS[key], direction))
    return f, order


async def _list(request: Request, detail: bool) -> Response:
    ctx = common.context(request)
    f, order = _query(request, ctx, detail)
    # without a marker the database can stop at the limit; with one, paging needs the order
    limit = None if "marker" in request.query_params else common.page_limit(request)
    async with common.deps(request).pool.acquire() as conn:
        try:
            rows = await queries.page(conn, f, order, limit)
        except (asyncpg.InvalidRegularExpressionError,
                asyncpg.ProgramLimitExceededError) as e:
            # a filter Python reads as a regular expression but Postgres does not
            raise BadRequest(f"Invalid regular expression in filter: {e}") from None
    page = common.paginate(request, rows, _server_id)
    view = View.of(request, ctx)
    if detail:
        items = [render_detail(view, r) for r in page]
    else:
        items = [render_brief(view, r) for r in page]
    return common.JSON(common.with_next_link(
        request, {"servers": items}, "servers", "servers/detail" if detail else "servers",
        page, _server_id))


def _server_id(row: asyncpg.Record) -> str:
    return str(row["id"])


async def index(request: Request) -> Response:
    return await _list(request, detail=False)


async def detail(request: Request) -> Response:
    return await _list(request, detail=True)


async def show(request: Request) -> Response:
    ctx = common.context(request)
    async with common.deps(request).pool.acquire() as conn:
        row = await visible_server(conn, request.path_params["server_id"], ctx)
    return common.JSON({"server": render_detail(View.of(request, ctx), row)})


def _ip(value: str) -> str:
    """Addresses are stored in canonical form (2001:db8:0::1 is shown as 2001:db8::1)."""
    return ipaddress.ip_address(value).compressed if value else ""


def _count(value: Any, field: str) -> int:
    try:
        count = int(value)
    except (TypeError, ValueError):
        count = 0
    if count < 1:
        raise BadRequest(f"Invalid input for field/attribute {field}. Value: {value}. "
                         f"{value!r} is less than the minimum of 1")
    return count


def _image_ref(server: dict[str, Any]) -> str:
    image_ref = server.get("imageRef", "")
    if image_ref:
        return str(image_ref)
    for bdm in server.get("block_device_mapping_v2") or []:
        if bdm.get("source_type") == "image" and str(bdm.get("boot_index", "")) == "0":
            return str(bdm.get("uuid", ""))
    raise BadRequest("Missing imageRef attribute")


def personality(items: list[dict[str, str]], quotas: dict[str, int]
                ) -> tuple[tuple[str, str], ...]:
    """Files to inject (create, rebuild): within the injected-file quotas (403 beyond, as
    Nova's OverQuota), contents valid base64 (400)."""
    limits = {k: quotas[f"injected_file{k}"]
              for k in ("s", "_path_bytes", "_content_bytes")}
    if 0 <= limits["s"] < len(items):
        raise QuotaExceeded("Personality file limit exceeded")
    out = []
    for item in items:
        path, contents = item.get("path", ""), item.get("contents", "")
        if 0 <= limits["_path_bytes"] < len(path.encode()):
            raise QuotaExceeded(f"Personality file path exceeds maximum "
                                f"{limits['_path_bytes']}")
        try:
            decoded = base64.b64decode(contents, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest(f"Personality content for {path} cannot be decoded") from None
        if 0 <= limits["_content_bytes"] < len(decoded):
            raise QuotaExceeded(f"Personality file content exceeds maximum "
                                f"{limits['_content_bytes']}")
        out.append((path, contents))
    return tuple(out)


@common.request_body(schema.create)
async def create(request: Request) -> Response:
    ctx = common.context(request)
    data = await common.body(request, schema.create)
    server = data["server"]
    min_count = _count(server.get("min_count", 1), "min_count")
    max_count = _count(server.get("max_count", min_count), "max_count")
    if min_count > max_count:
        raise BadRequest("min_count must be <= max_count")
    user_data = server.get("user_data")
    if user_data is not None:
        try:
            base64.b64decode(user_data, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest("User data needs to be valid base 64.") from None
    config_drive = server.get("config_drive", "")
    if isinstance(config_drive, str) and config_drive and config_drive.lower() not in (
            "true", "false", "1", "0", "yes", "no", "on", "off", "t", "f", "y", "n"):
        raise BadRequest("Invalid config_drive provided.")
    if isinstance(config_drive, str):
        config_drive = config_drive.lower() in ("true", "1", "yes", "on", "t", "y")
    cmd = c.CreateServers(
        name=server["name"],
        flavor_ref=str(server["flavorRef"]),
        image_ref=_image_ref(server),
        min_count=min_count,
        max_count=max_count,
        key_name=server.get("key_name"),
        metadata=server.get("metadata", {}),
        access_ipv4=_ip(server.get("accessIPv4", "")),
        access_ipv6=_ip(server.get("accessIPv6", "")),
        disk_config=server.get("OS-DCF:diskConfig", "MANUAL"),
        availability_zone=server.get("availability_zone"),
        config_drive="True" if config_drive else "",
        user_data=user_data,
        security_groups=tuple(g["name"] for g in server.get("security_groups", [])
                              if "name" in g) or ("default",),
        networks=server.get("networks"),
        block_devices=tuple(server.get("block_device_mapping_v2") or ()),
        admin_pass=server.get("adminPass") or generate_password(),
        files=personality(server.get("personality", []),
                          common.deps(request).settings.quotas),
    )
    result = await common.bus(request).handle(cmd, ctx)
    if str(server.get("return_reservation_id", "")).lower() in ("true", "1"):
        return common.JSON({"reservation_id": result.reservation_id}, status_code=202)
    first = result.server_ids[0]
    links = common.links(request, "servers", first)
    body = {"server": {
        "id": first,
        "links": links,
        "OS-DCF:diskConfig": cmd.disk_config,
        "security_groups": [{"name": n} for n in cmd.security_groups],
        "adminPass": cmd.admin_pass,
    }}
    return common.JSON(body, status_code=202, headers={"Location": links[0]["href"]})


@common.request_body(schema.update)
async def update(request: Request) -> Response:
    ctx = common.context(request)
    data = await common.body(request, schema.update)
    fields = data["server"]
    mapping = {"name": "name", "accessIPv4": "access_ipv4", "accessIPv6": "access_ipv6",
               "OS-DCF:diskConfig": "disk_config"}
    changes = {mapping[k]: _ip(v) if k.startswith("accessIP") else v
               for k, v in fields.items()}
    server_id = request.path_params["server_id"]
    async with common.deps(request).pool.acquire() as conn:
        await visible_server(conn, server_id, ctx)
    await common.bus(request).handle(c.UpdateServer(server_id, changes), ctx)
    async with common.deps(request).pool.acquire() as conn:
        row = await visible_server(conn, server_id, ctx)
    return common.JSON({"server": render_detail(View.of(request, ctx), row, full=False)})


async def delete(request: Request) -> Response:
    ctx = common.context(request)
    server_id = request.path_params["server_id"]
    async with common.deps(request).pool.acquire() as conn:
        await visible_server(conn, server_id, ctx)
    await common.bus(request).handle(c.DeleteServer(server_id), ctx)
    return common.empty(204)


ROUTES: list[BaseRoute] = [
    P("/servers", index, "GET", "os_compute_api:servers:index"),
    P("/servers", create, "POST", "os_compute_api:servers:create"),
    P("/servers/detail", detail, "GET", "os_compute_api:servers:detail"),
    P("/servers/{server_id}", show, "GET", "os_compute_api:servers:show"),
    P("/servers/{server_id}", update, "PUT", "os_compute_api:servers:update"),
    P("/servers/{server_id}", delete, "DELETE", "os_compute_api:servers:delete"),
]
