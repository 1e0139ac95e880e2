"""The Starlette application: one route list, one place for fault rendering."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from control_plane.api import (
    common,
    extensions,
    flavors,
    glance,
    identity,
    images,
    instance_actions,
    keypairs,
    limits,
    servers,
    versions,
)
from control_plane.api.middleware import ComputeMiddleware
from control_plane.config import Settings
from control_plane.faults import Fault, MethodNotAllowed, NotFound

log = logging.getLogger(__name__)

R = Route

API_ROUTES: list[BaseRoute] = [
    R("/servers", servers.index, methods=["GET"]),
    R("/servers", servers.create, methods=["POST"]),
    R("/servers/detail", servers.detail, methods=["GET"]),
    R("/servers/{server_id}", servers.show, methods=["GET"]),
    R("/servers/{server_id}", servers.update, methods=["PUT"]),
    R("/servers/{server_id}", servers.delete, methods=["DELETE"]),
    R("/servers/{server_id}/os-instance-actions", instance_actions.index, methods=["GET"]),
    R("/servers/{server_id}/os-instance-actions/{request_id}", instance_actions.show,
      methods=["GET"]),
    R("/flavors", flavors.index, methods=["GET"]),
    R("/flavors", flavors.create, methods=["POST"]),
    R("/flavors/detail", flavors.detail, methods=["GET"]),
    R("/flavors/os-flavor-manage", flavors.create, methods=["POST"]),
    R("/flavors/os-flavor-manage/{flavor_id}", flavors.delete, methods=["DELETE"]),
    R("/flavors/{flavor_id}", flavors.show, methods=["GET"]),
    R("/flavors/{flavor_id}", flavors.delete, methods=["DELETE"]),
    R("/flavors/{flavor_id}/action", flavors.action, methods=["POST"]),
    R("/flavors/{flavor_id}/os-flavor-access", flavors.access_list, methods=["GET"]),
    R("/flavors/{flavor_id}/os-extra_specs", flavors.extra_specs_index, methods=["GET"]),
    R("/flavors/{flavor_id}/os-extra_specs", flavors.extra_specs_create, methods=["POST"]),
    R("/flavors/{flavor_id}/os-extra_specs/{key}", flavors.extra_spec_show, methods=["GET"]),
    R("/flavors/{flavor_id}/os-extra_specs/{key}", flavors.extra_spec_update, methods=["PUT"]),
    R("/flavors/{flavor_id}/os-extra_specs/{key}", flavors.extra_spec_delete,
      methods=["DELETE"]),
    R("/os-keypairs", keypairs.index, methods=["GET"]),
    R("/os-keypairs", keypairs.create, methods=["POST"]),
    R("/os-keypairs/{name}", keypairs.show, methods=["GET"]),
    R("/os-keypairs/{name}", keypairs.delete, methods=["DELETE"]),
    R("/limits", limits.show, methods=["GET"]),
    R("/extensions", extensions.index, methods=["GET"]),
    R("/extensions/{alias}", extensions.show, methods=["GET"]),
    R("/images", images.index, methods=["GET"]),
    R("/images/detail", images.detail, methods=["GET"]),
    R("/images/{image_id}", images.show, methods=["GET"]),
    R("/images/{image_id}", images.delete, methods=["DELETE"]),
    R("/images/{image_id}/metadata", images.metadata_index, methods=["GET"]),
    R("/images/{image_id}/metadata", images.metadata_update, methods=["POST"]),
    R("/images/{image_id}/metadata", images.metadata_replace, methods=["PUT"]),
    R("/images/{image_id}/metadata/{key}", images.metadata_show, methods=["GET"]),
    R("/images/{image_id}/metadata/{key}", images.metadata_set_item, methods=["PUT"]),
    R("/images/{image_id}/metadata/{key}", images.metadata_delete, methods=["DELETE"]),
]


def _scoped(show: Callable[[Request], Any]) -> list[BaseRoute]:
    """The API again under /{project_id}, as Nova serves it with and without it."""
    return [
        R("/{project_id}", show, methods=["GET"]),
        R("/{project_id}/", show, methods=["GET"]),
        Mount("/{project_id}", routes=API_ROUTES),
    ]


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
        routes=[R("/identity", identity.versions, methods=["GET"]),
                Mount("/identity", routes=identity.routes()),
                R("/image", glance.versions, methods=["GET"]),
                Mount("/image", routes=glance.routes()),
                *routes, Mount("/compute", routes=routes)],
        exception_handlers={Fault: fault_handler, HTTPException: http_error,
                            Exception: unexpected},
        lifespan=lifespan,
    )
    app.add_middleware(ComputeMiddleware, settings=settings)
    return app


@asynccontextmanager
async def no_lifespan(app: Starlette) -> AsyncIterator[None]:
    yield
