"""The Starlette application: one route list, one place for fault rendering."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from control_plane.api import common, health, metrics, openapi
from control_plane.api.compute import routes
from control_plane.api.compute.resources import versions
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


API_ROUTES = routes.ROUTES


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
