"""Every compute route is guarded by a named policy rule, and the rules take effect."""

from __future__ import annotations

import pathlib
import re
from collections.abc import Iterator

import httpx
import pytest
from starlette.routing import BaseRoute, Mount, Route

from control_plane.access.policy import Policy
from control_plane.api.app import API_ROUTES
from control_plane.bootstrap import System
from tests.conftest import IMAGE, Api, assert_error

PUBLIC = {"index", "show_v21", "show_v20"}  # version documents need no credentials


def walk(routes: list[BaseRoute]) -> Iterator[Route]:
    for route in routes:
        if isinstance(route, Mount):
            yield from walk(list(route.routes))
        elif isinstance(route, Route):
            yield route


def test_every_compute_route_names_a_registered_rule() -> None:
    known = set(Policy().rules())
    seen = 0
    for route in walk(API_ROUTES):
        rule = getattr(route, "policy_rule", None)
        assert rule, f"{route.path} {route.methods} has no policy rule"
        rules = rule.values() if isinstance(rule, dict) else [rule]
        for name in rules:
            assert name in known, f"{route.path}: rule {name} is not registered"
        seen += 1
    assert seen == len(API_ROUTES)


def _concrete(path: str, server: str) -> str:
    values = {"server_id": server, "flavor_id": "1", "image_id": IMAGE, "name": "k",
              "network": "private", "tenant_id": "project-a",
              "key": "k", "alias": "os-keypairs", "request_id": "req-x",
              "volume_id": "5b1d3f6e-0c55-4f3a-9d8e-2a6c4b7e9f10",
              "snapshot_id": "8c2e4a1b-7d3f-4e6a-b5c9-0f1e2d3c4b5a", "console_id": "1",
              "port_id": "3e1f0c2a-5b4d-4c6e-8f7a-9b0c1d2e3f4a"}
    return re.sub(r"{(\w+)}", lambda m: values[m.group(1)], path)


async def test_reader_cannot_change_anything(http: httpx.AsyncClient, api: Api) -> None:
    server = await api.create_server("guarded")
    reader = Api(http, "rita", "project-a", roles="reader")
    checked = 0
    for route in walk(API_ROUTES):
        methods = (route.methods or set()) - {"HEAD"}
        (method,) = methods
        if method == "GET":
            continue
        body: object = {"os-stop": None} if route.path.endswith("/servers/{server_id}/action") \
            else {"addTenantAccess": {"tenant": "x"}} if route.path.endswith("}/action") \
            else {}
        r = await reader.request(method, _concrete(route.path, server["id"]), json=body)
        assert r.status_code == 403, (method, route.path, r.text)
        assert list(r.json()) == ["forbidden"]
        checked += 1
    assert checked >= 15
    # and reading works
    assert (await reader.get(f"/servers/{server['id']}")).status_code == 200
    assert (await reader.get("/servers/detail")).status_code == 200


@pytest.fixture
def policy_file(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "policy.yaml"
    path.write_text('"os_compute_api:os-keypairs:index": "role:admin"\n'
                    '"os_compute_api:os-flavor-manage:create": "role:member"\n')
    return path


async def test_operator_policy_file_overrides_defaults(system: System, http: httpx.AsyncClient,
                                                       api: Api,
                                                       policy_file: pathlib.Path) -> None:
    assert (await api.get("/os-keypairs")).status_code == 200
    system_policy = Policy(str(policy_file))
    http_app = http._transport.app  # type: ignore[attr-defined]
    http_app.state.policy = system_policy
    r = await api.get("/os-keypairs")
    assert_error(r, 403, "forbidden",
                 "Policy doesn't allow os_compute_api:os-keypairs:index to be performed.")
    r = await api.post("/flavors", {"flavor": {"name": "members", "ram": 64, "vcpus": 1,
                                               "disk": 0}})
    assert r.status_code == 200, r.text


async def test_other_projects_resources_are_invisible_on_every_route(
        http: httpx.AsyncClient, api: Api, other: Api) -> None:
    """A member of project-b gets 404 (or 403 where the rule is admin-only) on every route
    that names one of project-a's servers, and on project-a's private flavor."""
    server = await api.create_server("private-to-a")
    await api.wait_status(server["id"], "ACTIVE")
    checked = 0
    for route in walk(API_ROUTES):
        if "{server_id}" not in route.path:
            continue
        (method,) = (route.methods or set()) - {"HEAD"}
        body: object = {"os-stop": None} if route.path.endswith("/action") else \
            {"meta": {"k": "v"}} if route.path.endswith("/metadata/{key}") else \
            {"metadata": {"k": "v"}} if route.path.endswith("/metadata") else \
            {"server": {"name": "x"}} if method == "PUT" else None
        r = await other.request(method, _concrete(route.path, server["id"]), json=body)
        assert r.status_code in (403, 404), (method, route.path, r.text)
        if r.status_code == 404:
            assert r.json()["itemNotFound"]["message"] == \
                f"Instance {server['id']} could not be found."
        checked += 1
    assert checked >= 6
    # the server is untouched
    shown = (await api.get(f"/servers/{server['id']}")).json()["server"]
    assert (shown["name"], shown["status"]) == ("private-to-a", "ACTIVE")
