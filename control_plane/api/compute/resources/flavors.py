"""/flavors: list, detail, show; flavor manage, flavor access and extra specs."""

from __future__ import annotations

from typing import Any

import asyncpg
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from control_plane.api import common
from control_plane.api.common import P
from control_plane.api.compute.schemas import flavors as schema
from control_plane.api.compute.views.flavors import render
from control_plane.api.faults import BadRequest, NotFound
from control_plane.context import RequestContext
from control_plane.domain.base import Command
from control_plane.domain.flavors import commands as c
from projections.flavors import queries as flavor_queries

ACTION_RULES = {
    "addTenantAccess": "os_compute_api:os-flavor-access:add_tenant_access",
    "removeTenantAccess": "os_compute_api:os-flavor-access:remove_tenant_access",
}
_SORT_KEYS = {"created_at", "description", "disabled", "ephemeral_gb", "flavorid", "id",
              "is_public", "memory_mb", "name", "root_gb", "rxtx_factor", "swap",
              "updated_at", "vcpu_weight", "vcpus"}
# Nova's integer ``id`` is the creation order; vcpu_weight is always NULL, so it sorts by id
_COLUMN = {"ephemeral_gb": "ephemeral", "memory_mb": "ram", "root_gb": "disk",
           "id": "created_at", "vcpu_weight": "created_at"}


async def find(conn: asyncpg.Connection, flavor_id: str, ctx: RequestContext) -> asyncpg.Record:
    row = await flavor_queries.visible(conn, flavor_id,
                                       None if ctx.is_admin else ctx.project_id)
    if row is None:
        raise NotFound(f"Flavor {flavor_id} could not be found.")
    return row


def _int_filter(request: Request, name: str, label: str) -> int | None:
    """minRam/minDisk: an integer the int column can be compared with, else 400."""
    raw = request.query_params.get(name)
    return common.int_param(request, name, message=f"Invalid {label} filter [{raw}]")


async def _list(request: Request, detail: bool) -> Response:
    ctx = common.context(request)
    q = request.query_params
    f = flavor_queries.Filter()
    raw_public = q.get("is_public")
    if ctx.is_admin:
        if raw_public is None:
            is_public: bool | None = True
        elif raw_public.lower() == "none":
            is_public = None
        elif raw_public.lower() in ("true", "t", "1", "yes", "y", "on"):
            is_public = True
        elif raw_public.lower() in ("false", "f", "0", "no", "n", "off"):
            is_public = False
        else:
            raise BadRequest(f"Invalid is_public filter [{raw_public}]")
        if is_public is True:
            f.accessible_to = ctx.project_id
        elif is_public is False:
            f.private_only = True
    else:
        f.accessible_to = ctx.project_id
        f.enabled_only = True
    f.min_ram = _int_filter(request, "minRam", "min_ram")
    f.min_disk = _int_filter(request, "minDisk", "minDisk")
    sort_key = q.get("sort_key", "flavorid")
    if sort_key not in _SORT_KEYS:
        raise BadRequest("Invalid sort_key provided")
    sort_dir = q.get("sort_dir", "asc").lower()
    if sort_dir not in ("asc", "desc"):
        raise BadRequest("Invalid sort_dir provided")
    # flavorid is a string column in Nova, so "42" sorts before "5"; ``id`` breaks ties
    async with common.deps(request).pool.acquire() as conn:
        rows = await flavor_queries.page(conn, f, _COLUMN.get(sort_key, sort_key), sort_dir)
    page = common.paginate(request, rows, _flavor_id)
    return common.JSON(common.with_next_link(
        request, {"flavors": [render(request, r, detail) for r in page]}, "flavors",
        "flavors/detail" if detail else "flavors", page, _flavor_id))


def _flavor_id(row: asyncpg.Record) -> str:
    return str(row["flavorid"])


async def index(request: Request) -> Response:
    return await _list(request, detail=False)


async def detail(request: Request) -> Response:
    return await _list(request, detail=True)


async def show(request: Request) -> Response:
    ctx = common.context(request)
    async with common.deps(request).pool.acquire() as conn:
        row = await find(conn, request.path_params["flavor_id"], ctx)
    return common.JSON({"flavor": render(request, row)})


def _number(value: Any, name: str, minimum: int, maximum: int = 2**31 - 1) -> int:
    try:
        number = int(value)
        if isinstance(value, float) or (isinstance(value, str) and not value.strip().isdigit()):
            raise ValueError
    except (TypeError, ValueError):
        raise BadRequest(f"Invalid input for field/attribute {name}. Value: {value}. "
                         f"'{value}' is not of type 'integer'") from None
    if not minimum <= number <= maximum:
        raise BadRequest(f"Invalid input for field/attribute {name}. Value: {value}. "
                         f"{value} is less than the minimum of {minimum}"
                         if number < minimum else
                         f"Invalid input for field/attribute {name}. Value: {value}. "
                         f"{value} is greater than the maximum of {maximum}")
    return number


@common.request_body(schema.create)
async def create(request: Request) -> Response:
    ctx = common.context(request)
    f = (await common.body(request, schema.create))["flavor"]
    swap = f.get("swap", 0)
    rxtx = f.get("rxtx_factor", 1.0)
    try:
        rxtx_factor = float(rxtx)
    except (TypeError, ValueError):
        raise BadRequest(f"Invalid input for field/attribute rxtx_factor. Value: {rxtx}.") \
            from None
    if not 0 < rxtx_factor <= 3.40282e38:
        raise BadRequest(f"Invalid input for field/attribute rxtx_factor. Value: {rxtx}.")
    public = f.get("os-flavor-access:is_public", True)
    if isinstance(public, str):
        public = public.lower() in ("true", "t", "1", "yes", "y", "on")
    flavorid = f.get("id")
    cmd = c.CreateFlavor(
        name=f["name"].strip(),
        ram=_number(f["ram"], "ram", 1),
        vcpus=_number(f["vcpus"], "vcpus", 1),
        disk=_number(f["disk"], "disk", 0),
        flavorid=str(flavorid) if flavorid not in (None, "") else None,
        ephemeral=_number(f.get("OS-FLV-EXT-DATA:ephemeral", 0), "OS-FLV-EXT-DATA:ephemeral",
                          0),
        swap=_number(swap if swap != "" else 0, "swap", 0),
        rxtx_factor=rxtx_factor,
        is_public=bool(public),
    )
    new_id = await common.bus(request).handle(cmd, ctx)
    async with common.deps(request).pool.acquire() as conn:
        row = await find(conn, new_id, ctx)
    return common.JSON({"flavor": render(request, row)})


async def delete(request: Request) -> Response:
    ctx = common.context(request)
    await common.bus(request).handle(c.DeleteFlavor(request.path_params["flavor_id"]), ctx)
    return common.empty(202)


def _access_body(row: asyncpg.Record) -> dict[str, Any]:
    return {"flavor_access": [{"flavor_id": row["flavorid"], "tenant_id": p}
                              for p in sorted(row["projects"])]}


async def access_list(request: Request) -> Response:
    ctx = common.context(request)
    async with common.deps(request).pool.acquire() as conn:
        row = await find(conn, request.path_params["flavor_id"], ctx)
    if row["is_public"]:
        raise NotFound("Access list not available for public flavors.")
    return common.JSON(_access_body(row))


@common.request_body(schema.access_action)
async def action(request: Request) -> Response:
    ctx = common.context(request)
    data = await common.body(request, schema.access_action)
    flavor_id = request.path_params["flavor_id"]
    if "addTenantAccess" in data:
        common.authorize(request, ctx, "os_compute_api:os-flavor-access:add_tenant_access")
        cmd: Command = c.AddFlavorAccess(flavor_id, data["addTenantAccess"]["tenant"],
                                           public_allowed=not common.is_supported(request, "2.7"))
    else:
        common.authorize(request, ctx,
                         "os_compute_api:os-flavor-access:remove_tenant_access")
        cmd = c.RemoveFlavorAccess(flavor_id, data["removeTenantAccess"]["tenant"])
    async with common.deps(request).pool.acquire() as conn:
        await find(conn, flavor_id, ctx)
    await common.bus(request).handle(cmd, ctx)
    async with common.deps(request).pool.acquire() as conn:
        row = await find(conn, flavor_id, ctx)
    return common.JSON(_access_body(row))


async def extra_specs_index(request: Request) -> Response:
    ctx = common.context(request)
    async with common.deps(request).pool.acquire() as conn:
        row = await find(conn, request.path_params["flavor_id"], ctx)
    return common.JSON({"extra_specs": row["extra_specs"]})


async def extra_spec_show(request: Request) -> Response:
    ctx = common.context(request)
    flavor_id, key = request.path_params["flavor_id"], request.path_params["key"]
    async with common.deps(request).pool.acquire() as conn:
        row = await find(conn, flavor_id, ctx)
    if key not in row["extra_specs"]:
        raise NotFound(f"Flavor {flavor_id} has no extra specs with key {key}.")
    return common.JSON({key: row["extra_specs"][key]})


def _specs(value: dict[str, Any]) -> dict[str, str]:
    """Stored values are strings; Nova checks numbers' length once turned into text."""
    specs = {k: str(v) for k, v in value.items()}
    for k, v in value.items():
        if not isinstance(v, str) and len(specs[k]) > 255:
            raise BadRequest("extra_specs value has more than 255 characters.")
    return specs


@common.request_body(schema.extra_specs)
async def extra_specs_create(request: Request) -> Response:
    ctx = common.context(request)
    data = await common.body(request, schema.extra_specs)
    flavor_id = request.path_params["flavor_id"]
    specs = _specs(data["extra_specs"])
    await common.bus(request).handle(c.SetFlavorExtraSpecs(flavor_id, specs), ctx)
    return common.JSON(data)


@common.request_body(schema.extra_spec_item)
async def extra_spec_update(request: Request) -> Response:
    ctx = common.context(request)
    data = await common.body(request, schema.extra_spec_item)
    flavor_id, key = request.path_params["flavor_id"], request.path_params["key"]
    specs = _specs(data)
    if key not in data:
        raise BadRequest("Request body and URI mismatch")
    await common.bus(request).handle(c.SetFlavorExtraSpecs(flavor_id, specs), ctx)
    return common.JSON(data)


async def extra_spec_delete(request: Request) -> Response:
    ctx = common.context(request)
    flavor_id, key = request.path_params["flavor_id"], request.path_params["key"]
    async with common.deps(request).pool.acquire() as conn:
        await find(conn, flavor_id, ctx)
    await common.bus(request).handle(c.DeleteFlavorExtraSpec(flavor_id, key), ctx)
    return common.empty(200)


ROUTES: list[BaseRoute] = [
    P("/flavors", index, "GET", "os_compute_api:flavors:index"),
    P("/flavors", create, "POST", "os_compute_api:os-flavor-manage:create"),
    P("/flavors/detail", detail, "GET", "os_compute_api:flavors:detail"),
    P("/flavors/os-flavor-manage", create, "POST", "os_compute_api:os-flavor-manage:create"),
    P("/flavors/os-flavor-manage/{flavor_id}", delete, "DELETE",
      "os_compute_api:os-flavor-manage:delete"),
    P("/flavors/{flavor_id}", show, "GET", "os_compute_api:flavors:show"),
    P("/flavors/{flavor_id}", delete, "DELETE", "os_compute_api:os-flavor-manage:delete"),
    P("/flavors/{flavor_id}/action", action, "POST", ACTION_RULES),
    P("/flavors/{flavor_id}/os-flavor-access", access_list, "GET",
      "os_compute_api:os-flavor-access"),
    P("/flavors/{flavor_id}/os-extra_specs", extra_specs_index, "GET",
      "os_compute_api:os-flavor-extra-specs:index"),
    P("/flavors/{flavor_id}/os-extra_specs", extra_specs_create, "POST",
      "os_compute_api:os-flavor-extra-specs:create"),
    P("/flavors/{flavor_id}/os-extra_specs/{key}", extra_spec_show, "GET",
      "os_compute_api:os-flavor-extra-specs:show"),
    P("/flavors/{flavor_id}/os-extra_specs/{key}", extra_spec_update, "PUT",
      "os_compute_api:os-flavor-extra-specs:update"),
    P("/flavors/{flavor_id}/os-extra_specs/{key}", extra_spec_delete, "DELETE",
      "os_compute_api:os-flavor-extra-specs:delete"),
]
