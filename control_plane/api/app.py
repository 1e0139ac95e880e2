"""The Starlette application: one route list, one place for fault rendering."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from control_plane.api import common, health, metrics, openapi
from control_plane.api.compute.resources import (
    attach_interfaces,
    availability_zones,
    console_auth_tokens,
    console_output,
    consoles,
    extensions,
    flavors,
    floating_ips,
    history,
    images,
    instance_actions,
    ips,
    keypairs,
    limits,
    migrations,
    multinic,
    network_admin_actions,
    quota_sets,
    remote_consoles,
    server_diagnostics,
    server_lifecycle,
    server_metadata,
    server_password,
    servers,
    versions,
    virtual_interfaces,
    volume_attachments,
    volumes,
)
from control_plane.api.compute.resources import server_action_router as server_actions
from control_plane.api.faults import Fault, MethodNotAllowed, NotFound, from_domain
from control_plane.api.identity import routes as identity
from control_plane.api.identity import versions as identity_versions
from control_plane.api.image import resources as glance
from control_plane.api.metadata import resources as metadata
from control_plane.api.middleware import ComputeMiddleware
from control_plane.api.observe import ObserveMiddleware
from control_plane.config import Settings
from control_plane.domain.errors import DomainError

log = logging.getLogger(__name__)

R = Route


def P(path: str, endpoint: Callable[[Request], Awaitable[Response]], method: str,
      rule: str | dict[str, str]) -> Route:
    """A compute API route guarded by a named policy rule (checked before the handler).

    The rule is checked against the caller's own project; handlers that act on another
    user's or project's resources check again with that target, and resources of other
    projects are not found at all (404), as in Nova.
    """

    async def guarded(request: Request) -> Response:
        if isinstance(rule, str):
            common.authorize(request, common.context(request), rule)
        # a dict: an action dispatcher; the handler checks the chosen action's rule
        return await endpoint(request)

    route = Route(path, guarded, methods=[method], name=endpoint.__qualname__)
    route.policy_rule = rule  # type: ignore[attr-defined]
    route.handler = endpoint  # type: ignore[attr-defined]  # for the OpenAPI document
    return route


S = "os_compute_api:servers:"
IA = "os_compute_api:os-instance-actions:"
HI = "os_compute_api:os-history:servers:"
SM = "os_compute_api:server-metadata:"
FM = "os_compute_api:os-flavor-manage:"
FA = "os_compute_api:os-flavor-access"
XS = "os_compute_api:os-flavor-extra-specs:"
KP = "os_compute_api:os-keypairs:"
IM = "os_compute_api:images:"
VA = "os_compute_api:os-volumes-attachments:"
VO = "os_compute_api:os-volumes:"
VT = "os_compute_api:os-volume-types:"

# modules that add actions to POST /servers/{id}/action (imported for that)
ACTION_MODULES = (server_lifecycle, volume_attachments, console_output, remote_consoles)
NETWORK_ACTION_MODULES = (multinic, floating_ips, network_admin_actions)
AI = "os_compute_api:os-attach-interfaces:"
CO = "os_compute_api:os-consoles:"


def _consoles_routes(collection: str, item: str) -> list[BaseRoute]:
    """os-consoles at Nova's path, and at the reference's printed ones (aliases)."""
    routes: list[BaseRoute] = []
    if collection:
        routes += [P(collection, consoles.index, "GET", CO + "index"),
                   P(collection, consoles.create, "POST", CO + "create")]
    return [*routes, P(item, consoles.show, "GET", CO + "show"),
            P(item, consoles.delete, "DELETE", CO + "delete")]


API_ROUTES: list[BaseRoute] = [
    P("/servers", servers.index, "GET", S + "index"),
    P("/servers", servers.create, "POST", S + "create"),
    P("/servers/detail", servers.detail, "GET", S + "detail"),
    P("/servers/{server_id}", servers.show, "GET", S + "show"),
    P("/servers/{server_id}", servers.update, "PUT", S + "update"),
    P("/servers/{server_id}", servers.delete, "DELETE", S + "delete"),
    P("/servers/{server_id}/action", server_actions.action, "POST", server_actions.RULES),
    P("/servers/{server_id}/metadata", server_metadata.index, "GET", SM + "index"),
    P("/servers/{server_id}/metadata", server_metadata.create, "POST", SM + "create"),
    P("/servers/{server_id}/metadata", server_metadata.update_all, "PUT", SM + "update_all"),
    P("/servers/{server_id}/metadata/{key}", server_metadata.show, "GET", SM + "show"),
    P("/servers/{server_id}/metadata/{key}", server_metadata.update, "PUT", SM + "update"),
    P("/servers/{server_id}/metadata/{key}", server_metadata.delete, "DELETE", SM + "delete"),
    P("/servers/{server_id}/ips", ips.index, "GET", "os_compute_api:ips:index"),
    P("/servers/{server_id}/ips/{network}", ips.show, "GET", "os_compute_api:ips:show"),
    P("/servers/{server_id}/os-server-password", server_password.show, "GET",
      "os_compute_api:os-server-password:show"),
    P("/servers/{server_id}/os-server-password", server_password.clear, "DELETE",
      "os_compute_api:os-server-password:clear"),
    P("/servers/{server_id}/os-volume_attachments", volume_attachments.index, "GET",
      VA + "index"),
    P("/servers/{server_id}/os-volume_attachments", volume_attachments.create, "POST",
      VA + "create"),
    P("/servers/{server_id}/os-volume_attachments/{volume_id}", volume_attachments.show,
      "GET", VA + "show"),
    # before 2.85 an update is always a swap, and takes the swap rule
    P("/servers/{server_id}/os-volume_attachments/{volume_id}", volume_attachments.update,
      "PUT", VA + "swap"),
    P("/servers/{server_id}/os-volume_attachments/{volume_id}", volume_attachments.delete,
      "DELETE", VA + "delete"),
    P("/servers/{server_id}/remote-consoles", remote_consoles.create, "POST",
      "os_compute_api:os-remote-consoles"),
    *_consoles_routes("/servers/{server_id}/consoles",
                      "/servers/{server_id}/consoles/{console_id}"),
    *_consoles_routes("/servers/{server_id}/os-consoles",
                      "/servers/{server_id}/os-consoles/{console_id}"),
    *_consoles_routes("", "/servers/{server_id}/os-console/{console_id}"),
    P("/os-console-auth-tokens/{console_token}", console_auth_tokens.show, "GET",
      "os_compute_api:os-console-auth-tokens"),
    P("/servers/{server_id}/diagnostics", server_diagnostics.index, "GET",
      "os_compute_api:os-server-diagnostics"),
    P("/servers/{server_id}/os-interface", attach_interfaces.index, "GET", AI + "list"),
    P("/servers/{server_id}/os-interface", attach_interfaces.create, "POST", AI + "create"),
    P("/servers/{server_id}/os-interface/{port_id}", attach_interfaces.show, "GET",
      AI + "show"),
    P("/servers/{server_id}/os-interface/{port_id}", attach_interfaces.delete, "DELETE",
      AI + "delete"),
    P("/servers/{server_id}/os-virtual-interfaces", virtual_interfaces.index, "GET",
      "os_compute_api:os-virtual-interfaces"),
    P("/os-volumes", volumes.index, "GET", VO + "list"),
    P("/os-volumes", volumes.create, "POST", VO + "create"),
    P("/os-volumes/detail", volumes.detail, "GET", VO + "detail"),
    P("/os-volumes/{volume_id}", volumes.show, "GET", VO + "show"),
    P("/os-volumes/{volume_id}", volumes.delete, "DELETE", VO + "delete"),
    P("/os-volume-types", volumes.types_index, "GET", VT + "list"),
    P("/os-volume-types/{volume_type_id}", volumes.type_show, "GET", VT + "show"),
    P("/os-snapshots", volumes.snapshots_index, "GET", VO + "snapshots:list"),
    P("/os-snapshots", volumes.snapshot_create, "POST", VO + "snapshots:create"),
    P("/os-snapshots/detail", volumes.snapshots_detail, "GET", VO + "snapshots:detail"),
    P("/os-snapshots/{snapshot_id}", volumes.snapshot_show, "GET", VO + "snapshots:show"),
    P("/os-snapshots/{snapshot_id}", volumes.snapshot_delete, "DELETE",
      VO + "snapshots:delete"),
    # the index rule; the handler widens the view with index:all_projects / index:host
    P("/os-migrations", migrations.index, "GET", "os_compute_api:os-migrations:index"),
    P("/servers/{server_id}/os-instance-actions", instance_actions.index, "GET", IA + "list"),
    P("/servers/{server_id}/os-instance-actions/{request_id}", instance_actions.show, "GET",
      IA + "show"),
    P("/os-history/servers", history.index, "GET", HI + "list"),
    P("/os-history/servers/{server_id}", history.show, "GET", HI + "show"),
    P("/os-history/servers/{server_id}/timeline", history.timeline, "GET", HI + "timeline"),
    P("/flavors", flavors.index, "GET", "os_compute_api:flavors:index"),
    P("/flavors", flavors.create, "POST", FM + "create"),
    P("/flavors/detail", flavors.detail, "GET", "os_compute_api:flavors:detail"),
    P("/flavors/os-flavor-manage", flavors.create, "POST", FM + "create"),
    P("/flavors/os-flavor-manage/{flavor_id}", flavors.delete, "DELETE", FM + "delete"),
    P("/flavors/{flavor_id}", flavors.show, "GET", "os_compute_api:flavors:show"),
    P("/flavors/{flavor_id}", flavors.delete, "DELETE", FM + "delete"),
    P("/flavors/{flavor_id}/action", flavors.action, "POST", flavors.ACTION_RULES),
    P("/flavors/{flavor_id}/os-flavor-access", flavors.access_list, "GET", FA),
    P("/flavors/{flavor_id}/os-extra_specs", flavors.extra_specs_index, "GET", XS + "index"),
    P("/flavors/{flavor_id}/os-extra_specs", flavors.extra_specs_create, "POST", XS + "create"),
    P("/flavors/{flavor_id}/os-extra_specs/{key}", flavors.extra_spec_show, "GET", XS + "show"),
    P("/flavors/{flavor_id}/os-extra_specs/{key}", flavors.extra_spec_update, "PUT",
      XS + "update"),
    P("/flavors/{flavor_id}/os-extra_specs/{key}", flavors.extra_spec_delete, "DELETE",
      XS + "delete"),
    P("/os-keypairs", keypairs.index, "GET", KP + "index"),
    P("/os-keypairs", keypairs.create, "POST", KP + "create"),
    P("/os-keypairs/{name}", keypairs.show, "GET", KP + "show"),
    P("/os-keypairs/{name}", keypairs.delete, "DELETE", KP + "delete"),
    P("/limits", limits.show, "GET", "os_compute_api:limits"),
    # the rules are checked in the handlers, against the project named in the URL
    P("/os-quota-sets/{tenant_id}", quota_sets.show, "GET",
      {"show": "os_compute_api:os-quota-sets:show"}),
    P("/os-quota-sets/{tenant_id}/detail", quota_sets.detail, "GET",
      {"detail": "os_compute_api:os-quota-sets:detail"}),
    P("/os-quota-sets/{tenant_id}/defaults", quota_sets.defaults, "GET",
      {"defaults": "os_compute_api:os-quota-sets:defaults"}),
    P("/os-availability-zone", availability_zones.index, "GET",
      "os_compute_api:os-availability-zone:list"),
    P("/os-availability-zone/detail", availability_zones.detail, "GET",
      "os_compute_api:os-availability-zone:detail"),
    P("/extensions", extensions.index, "GET", "os_compute_api:extensions"),
    P("/extensions/{alias}", extensions.show, "GET", "os_compute_api:extensions"),
    P("/images", images.index, "GET", IM + "index"),
    P("/images/detail", images.detail, "GET", IM + "detail"),
    P("/images/{image_id}", images.show, "GET", IM + "show"),
    P("/images/{image_id}", images.delete, "DELETE", IM + "delete"),
    P("/images/{image_id}/metadata", images.metadata_index, "GET", IM + "metadata:index"),
    P("/images/{image_id}/metadata", images.metadata_update, "POST", IM + "metadata:create"),
    P("/images/{image_id}/metadata", images.metadata_replace, "PUT",
      IM + "metadata:update_all"),
    P("/images/{image_id}/metadata/{key}", images.metadata_show, "GET", IM + "metadata:show"),
    P("/images/{image_id}/metadata/{key}", images.metadata_set_item, "PUT",
      IM + "metadata:update"),
    P("/images/{image_id}/metadata/{key}", images.metadata_delete, "DELETE",
      IM + "metadata:delete"),
]


def _scoped(show: Callable[[Request], Any]) -> list[BaseRoute]:
    """The API again under /{project_id}, as Nova serves it with and without it.

    The version document is served at /v2.1/{project_id} only for a segment that cannot
    be a collection of the API, so that an unknown collection (/v2.1/os-foo) is a 404.
    """
    return [
        R("/{project_id:project}", show, methods=["GET"]),
        R("/{project_id:project}/", show, methods=["GET"]),
        Mount("/{project_id:project}", routes=API_ROUTES),
    ]


class ProjectIdConvertor(Convertor[str]):
    """A path segment that can be a project id: not os-*, not a collection name."""

    regex = (r"(?!(?:os-[^/]*|os_[^/]*|servers|flavors|images|limits|extensions)"
             r"(?:/|$))[^/]+")

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("project", ProjectIdConvertor())


def compute_routes() -> list[BaseRoute]:
    return [
        R("/", versions.index, methods=["GET"]),
        R("/v2.1", versions.show_v21, methods=["GET"]),
        R("/v2.1/", versions.show_v21, methods=["GET"]),
        R("/v2", versions.show_v20, methods=["GET"]),
        R("/v2/", versions.show_v20, methods=["GET"]),
        Mount("/v2.1", routes=[*API_ROUTES, *_scoped(versions.show_v21)]),
        Mount("/v2", routes=[*API_ROUTES, *_scoped(versions.show_v20)]),
    ]


async def fault_handler(request: Request, exc: Exception) -> Response:
    if isinstance(exc, DomainError):
        exc = from_domain(exc)
    assert isinstance(exc, Fault)
    return common.JSON(exc.body(), status_code=exc.code)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        fault: Fault = MethodNotAllowed()
    elif exc.status_code == 404:
        fault = NotFound()
    else:
        fault = Fault(str(exc.detail))
        fault.code = exc.status_code
    return common.JSON(fault.body(), status_code=fault.code)


async def unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error", exc_info=exc)
    return common.JSON(Fault().body(), status_code=500)


def create_app(settings: Settings, lifespan: Callable[[Starlette], Any] | None = None
               ) -> Starlette:
    routes = compute_routes()
    app = Starlette(
        routes=[R("/healthz", health.healthz, methods=["GET"]),
                R("/readyz", health.readyz, methods=["GET"]),
                R("/metrics", metrics.show, methods=["GET"]),
                R("/openapi.json", openapi.serve, methods=["GET"]),
                R("/identity", identity_versions.versions, methods=["GET"]),
                Mount("/identity", routes=identity.routes()),
                R("/openstack", metadata.versions, methods=["GET"]),
                Mount("/openstack", routes=metadata.routes()),
                R("/image", glance.versions, methods=["GET"]),
                Mount("/image", routes=glance.routes()),
                *routes, Mount("/compute", routes=routes)],
        exception_handlers={Fault: fault_handler, DomainError: fault_handler,
                            HTTPException: http_error, Exception: unexpected},
        lifespan=lifespan,
    )
    app.add_middleware(ComputeMiddleware, settings=settings)
    app.add_middleware(ObserveMiddleware)  # added last: outermost
    return app


@asynccontextmanager
async def no_lifespan(app: Starlette) -> AsyncIterator[None]:
    yield
