"""/os-history: the event log replayed for auditors (admin only; not a Nova API).

GET /os-history/servers?as_of=T                every server as it was at T (default: now),
                                               deleted ones included, marked as such
GET /os-history/servers/{server_id}            its history and its state after it
                                               (?as_of=T: only what was recorded by T)
GET /os-history/servers/{server_id}/timeline   the same, as a self-contained HTML page

Everything is folded from the log (``control_plane.ops.history``), never read from a view.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute

from control_plane.api import common
from control_plane.api.common import P
from control_plane.api.compute.resources.history_timeline import page
from control_plane.api.compute.views.servers import host_id
from control_plane.api.faults import BadRequest, NotFound
from control_plane.domain.servers import volume_attachments as server_volumes
from control_plane.ops import history


def instant(raw: str | None) -> dt.datetime | None:
    """The ``as_of`` query parameter (ISO 8601, ``now`` or ``-5m``); 400 if unreadable."""
    if raw is None:
        return None
    try:
        when = history.parse_instant(raw)
        # a time the database (and UTC) can hold: years 1 to 9999
        return when.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise BadRequest(f"Invalid as_of value: {raw!r}; expected an ISO 8601 time, 'now' "
                         "or a relative time such as -5m") from None


def _usage_time(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def render_server(fold: history.ServerFold) -> dict[str, Any]:
    """A server as GET /servers/{id} shows it to an admin, as far as the log gives it."""
    s = fold.server
    assert s is not None
    flavor = s.flavor
    out: dict[str, Any] = {
        "id": fold.server_id, "name": s.name, "status": s.status,
        "tenant_id": s.project_id, "user_id": s.user_id, "metadata": dict(s.metadata),
        "hostId": host_id(s.project_id, s.host),
        "image": {"id": s.image_ref} if s.image_ref else "",
        "flavor": {"id": flavor.get("id"), "original_name": flavor.get("name"),
                   "vcpus": flavor.get("vcpus"), "ram": flavor.get("ram"),
                   "disk": flavor.get("disk")},
        "created": common.isotime(s.created_on), "updated": common.isotime(s.modified_on),
        "addresses": fold.addresses, "accessIPv4": s.access_ipv4,
        "accessIPv6": s.access_ipv6, "OS-DCF:diskConfig": s.disk_config,
        "key_name": s.key_name,
        "security_groups": [{"name": n} for n in s.security_groups],
        "OS-EXT-AZ:availability_zone": s.availability_zone or "",
        "OS-EXT-STS:task_state": s.task_state, "OS-EXT-STS:vm_state": s.vm_state,
        "OS-EXT-STS:power_state": s.power_state,
        "OS-SRV-USG:launched_at": _usage_time(fold.launched_at),
        "OS-SRV-USG:terminated_at": _usage_time(fold.terminated_at),
        "OS-EXT-SRV-ATTR:host": s.host, "OS-EXT-SRV-ATTR:hypervisor_hostname": s.node,
        "os-extended-volumes:volumes_attached": [
            {"id": v} for v in server_volumes.devices(s)],
        "locked": s.locked_by is not None, "deleted": s.deleted,
    }
    if s.fault and s.status in ("ERROR", "DELETED"):
        out["fault"] = {k: s.fault.get(k) for k in ("code", "message", "created")}
    return out


async def index(request: Request) -> Response:
    common.context(request)
    when = instant(request.query_params.get("as_of")) or dt.datetime.now(dt.UTC)
    folds = await history.servers_as_of(common.deps(request).store, when)
    return common.JSON({"as_of": when.isoformat(),
                        "servers": [render_server(f) for f in folds]})


async def _history(request: Request
                   ) -> tuple[list[history.Entry], history.ServerFold, dt.datetime | None]:
    common.context(request)
    server_id = request.path_params["server_id"]
    when = instant(request.query_params.get("as_of"))
    found = await history.server_history(common.deps(request).store, server_id, when)
    if found is None:
        raise NotFound(f"Instance {server_id} could not be found.")
    entries, fold = found
    if fold.server is None:
        raise NotFound(f"Instance {server_id} did not exist at {when}.")
    return entries, fold, when


async def show(request: Request) -> Response:
    entries, fold, when = await _history(request)
    return common.JSON({
        "server_id": fold.server_id, "as_of": when.isoformat() if when else None,
        "server": render_server(fold), "events": [e.as_dict() for e in entries]})


async def timeline(request: Request) -> Response:
    entries, fold, when = await _history(request)
    return HTMLResponse(page(fold, entries, when))


ROUTES: list[BaseRoute] = [
    P("/os-history/servers", index, "GET", "os_compute_api:os-history:servers:list"),
    P("/os-history/servers/{server_id}", show, "GET", "os_compute_api:os-history:servers:show"),
    P("/os-history/servers/{server_id}/timeline", timeline, "GET",
      "os_compute_api:os-history:servers:timeline"),
]
