"""The body of a server as /servers shows it (show, detail, the brief list, the update and
rebuild responses): links, addresses, the extension keys and the fault, as Nova renders
them for the caller's role and microversion."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
from starlette.requests import Request

from control_plane.api import common
from control_plane.context import RequestContext

_PROGRESS_STATUSES = {"ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING"}


def host_id(project_id: str, host: str | None) -> str:
    if not host:
        return ""
    return hashlib.sha224((project_id + host).encode()).hexdigest()


@dataclass(frozen=True)
class View:
    """What rendering depends on besides the row, worked out once per request."""

    root: str
    prefix: str
    admin: bool
    v23: bool
    v29: bool

    @classmethod
    def of(cls, request: Request, ctx: RequestContext) -> View:
        project = request.path_params.get("project_id")
        return cls(common.base_url(request), f"{project}/" if project else "", ctx.is_admin,
                   common.is_supported(request, "2.3"), common.is_supported(request, "2.9"))


def _time(value: dt.datetime) -> str:
    """Nova's created/updated format, e.g. 2026-01-01T12:00:00Z (the view stores UTC)."""
    return value.astimezone(dt.UTC).isoformat()[:19] + "Z"


def render_detail(view: View, row: asyncpg.Record, full: bool = True) -> dict[str, Any]:
    """A server as show and detail give it; ``full=False`` is the update response's view."""
    sid = str(row["id"])
    root, prefix = view.root, view.prefix
    flavor_id = row["flavor"]["id"]
    image_ref = row["image_ref"]
    status = row["status"]
    out: dict[str, Any] = {
        "id": sid,
        "name": row["name"],
        "status": status,
        "tenant_id": row["project_id"],
        "user_id": row["user_id"],
        "metadata": row["metadata"],
        "hostId": host_id(row["project_id"], row["host"]),
        "image": {"id": image_ref, "links": [
            {"rel": "bookmark", "href": f"{root}{prefix}images/{image_ref}"}]}
        if image_ref else "",
        "flavor": {"id": flavor_id, "links": [
            {"rel": "bookmark", "href": f"{root}{prefix}flavors/{flavor_id}"}]},
        "created": _time(row["created_at"]),
        "updated": _time(row["updated_at"]),
        "addresses": _addresses(row, view.admin, full),
        "accessIPv4": row["access_ipv4"],
        "accessIPv6": row["access_ipv6"],
        "links": [
            {"rel": "self", "href": f"{root}v2.1/{prefix}servers/{sid}"},
            {"rel": "bookmark", "href": f"{root}{prefix}servers/{sid}"},
        ],
        "OS-DCF:diskConfig": row["disk_config"],
    }
    if full:
        _extend(out, row, view)
    if status in _PROGRESS_STATUSES:
        out["progress"] = 100 if status == "ACTIVE" else 0
    if view.v29:
        out["locked"] = row["locked_by"] is not None
    fault = row["fault"]
    if fault and status in ("ERROR", "DELETED"):
        f = {"code": fault["code"], "message": fault["message"],
             "created": _time(dt.datetime.fromisoformat(fault["created"]))}
        if fault.get("details") and (view.admin or fault["code"] != 500):
            f["details"] = fault["details"]
        out["fault"] = f
    return out


def _addresses(row: asyncpg.Record, admin: bool, full: bool) -> dict[str, Any]:
    if not admin and row["vm_state"] == "building":
        return {}  # Nova hides addresses from non-admins while building
    addresses: dict[str, Any] = row["addresses"]
    if full:
        return addresses
    return {net: [{"version": a["version"], "addr": a["addr"]} for a in items]
            for net, items in addresses.items()}


def _extend(out: dict[str, Any], row: asyncpg.Record, view: View) -> None:
    """The keys Nova's extensions add to show and detail (not to the update response)."""
    out["key_name"] = row["key_name"]
    out["config_drive"] = row["config_drive"]
    if row["security_groups"]:  # Nova leaves the key out when a server has no groups
        out["security_groups"] = [{"name": n} for n in row["security_groups"]]
    out["OS-EXT-AZ:availability_zone"] = row["availability_zone"] or ""
    out["OS-EXT-STS:task_state"] = row["task_state"]
    out["OS-EXT-STS:vm_state"] = row["vm_state"]
    out["OS-EXT-STS:power_state"] = row["power_state"]
    out["OS-SRV-USG:launched_at"] = _usage_time(row["launched_at"])
    out["OS-SRV-USG:terminated_at"] = _usage_time(row["terminated_at"])
    out["os-extended-volumes:volumes_attached"] = [
        v if view.v23 else {"id": v["id"]} for v in row["volumes_attached"]]
    if view.admin:
        out["OS-EXT-SRV-ATTR:host"] = row["host"]
        out["OS-EXT-SRV-ATTR:hypervisor_hostname"] = row["node"]
        out["OS-EXT-SRV-ATTR:instance_name"] = instance_name(row["id"])
        if view.v23:
            out["OS-EXT-SRV-ATTR:reservation_id"] = row["reservation_id"]
            out["OS-EXT-SRV-ATTR:launch_index"] = row["launch_index"]
            out["OS-EXT-SRV-ATTR:hostname"] = row["hostname"]
            out["OS-EXT-SRV-ATTR:kernel_id"] = ""
            out["OS-EXT-SRV-ATTR:ramdisk_id"] = ""
            out["OS-EXT-SRV-ATTR:root_device_name"] = "/dev/vda"
            out["OS-EXT-SRV-ATTR:user_data"] = row["user_data"]


def _usage_time(value: Any) -> str | None:
    if value is None:
        return None
    return str(value.replace(tzinfo=None).isoformat(timespec="microseconds"))


def instance_name(server_id: uuid.UUID) -> str:
    return f"instance-{server_id.int % 0xFFFFFFFF:08x}"


def render_brief(view: View, row: asyncpg.Record) -> dict[str, Any]:
    sid = str(row["id"])
    return {"id": sid, "name": row["name"], "links": [
        {"rel": "self", "href": f"{view.root}v2.1/{view.prefix}servers/{sid}"},
        {"rel": "bookmark", "href": f"{view.root}{view.prefix}servers/{sid}"},
    ]}
