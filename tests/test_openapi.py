"""The OpenAPI document: valid 3.1, complete, and built from the schemas handlers use."""

from __future__ import annotations

import re
from typing import Any

import httpx
import orjson
import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator
from starlette.routing import BaseRoute, Mount, Route

from control_plane.api import common, openapi
from control_plane.api.app import create_app
from control_plane.api.compute.routes import SERVER_ACTIONS
from control_plane.bootstrap import System
from control_plane.config import Settings
from tests.conftest import IMAGE, Api

# -- pure: the document itself ----------------------------------------------------------


def test_document_is_valid_openapi_31() -> None:
    document = openapi.build()
    assert document["openapi"].startswith("3.1")
    errors = [str(e) for e in OpenAPIV31SpecValidator(document).iter_errors()]
    assert errors == []


def _served(routes: list[BaseRoute], prefix: str = "") -> list[tuple[str, str]]:
    """(path, method) of every route the app serves, with mounts expanded."""
    out = []
    for route in routes:
        if isinstance(route, Mount):
            out += _served(route.routes, prefix + route.path)
        elif isinstance(route, Route):
            out += [(prefix + route.path, m) for m in route.methods or () if m != "HEAD"]
    return out


def test_every_route_of_the_three_apis_is_documented() -> None:
    paths = openapi.build()["paths"]
    served = _served(create_app(Settings(auth_strategy="noauth")).routes)
    checked = 0
    for path, method in served:
        if not path.startswith(("/v2.1", "/image", "/identity")):
            continue  # /v2, /compute: the same API again; metadata, health, metrics
        if "{project_id:project}" in path or "{path:path}" in path:
            continue  # the project-scoped copy of /v2.1, the identity catch-all 404
        spelled = re.sub(r"{([^}:]+):[^}]*}", r"{\1}", path)
        assert method.lower() in paths.get(spelled, {}), f"{method} {spelled} undocumented"
        checked += 1
    assert checked > 100


def test_operations_have_their_path_parameters_and_responses() -> None:
    for path, item in openapi.build()["paths"].items():
        names = set(re.findall(r"{([^}]+)}", path))
        for method, op in item.items():
            params = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert params == names, (method, path)
            assert any(code.startswith("2") or code == "300" for code in op["responses"])
            assert {"400", "401", "403", "404"} <= set(op["responses"]), (method, path)


def test_servers_list_documents_paging_and_filters() -> None:
    op = openapi.build()["paths"]["/v2.1/servers"]["get"]
    names = {p["name"] for p in op["parameters"] if p["in"] == "query"}
    assert {"limit", "marker", "name", "status", "changes-since", "all_tenants"} <= names


def test_action_body_is_one_of_the_registered_actions() -> None:
    op = openapi.build()["paths"]["/v2.1/servers/{server_id}/action"]["post"]
    variants = op["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    assert variants == [openapi.draft4_to_2020(s)
                        for _, (_, s, _) in sorted(SERVER_ACTIONS.actions.items())]
    assert len(variants) == len(SERVER_ACTIONS.actions) > 20


def test_microversioned_bodies_say_so() -> None:
    op = openapi.build()["paths"]["/v2.1/os-keypairs"]["post"]
    assert "microversion" in op["requestBody"]["description"]
    assert len(op["requestBody"]["content"]["application/json"]["schema"]["oneOf"]) == 3


def test_draft4_exclusive_bounds_become_2020_numbers() -> None:
    draft4 = {"type": "object", "properties": {
        "a": {"type": "integer", "minimum": 0, "exclusiveMinimum": True},
        "b": {"type": "integer", "maximum": 9, "exclusiveMaximum": False}}}
    before = orjson.dumps(draft4)
    out = openapi.draft4_to_2020(draft4)
    assert out["properties"]["a"] == {"type": "integer", "exclusiveMinimum": 0}
    assert out["properties"]["b"] == {"type": "integer", "maximum": 9}
    assert orjson.dumps(draft4) == before  # the route's schema is not touched


# -- HTTP: served, and the declared schemas are the ones validated with ------------------


async def test_openapi_json_is_served_without_a_token(http: httpx.AsyncClient) -> None:
    r = await http.get("/openapi.json")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == orjson.loads(orjson.dumps(openapi.build()))
    assert openapi.document() is openapi.document()  # built once


def _declared() -> list[openapi.Operation]:
    return [op for op in openapi.operations() if openapi.declared_schemas(op.handler)]


async def test_declared_request_schemas_are_the_ones_validated_with(
        system: System, admin: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    server = await admin.create_server()
    await admin.wait_status(server["id"], "ACTIVE")
    r = await admin.post("/os-volumes", {"volume": {"size": 1}})
    assert r.status_code == 200, r.text
    values = {"server_id": server["id"], "volume_id": r.json()["volume"]["id"],
              "flavor_id": "1", "image_id": IMAGE, "key": "k"}

    seen: list[int] = []
    real_body = common.body

    async def recording_body(request: Any, schema: dict[str, Any]) -> dict[str, Any]:
        seen.append(id(schema))
        return await real_body(request, schema)

    monkeypatch.setattr(common, "body", recording_body)
    operations = _declared()
    assert len(operations) >= 20
    for op in operations:
        assert op.root == openapi.COMPUTE
        path = op.path.format(**values)
        used: set[int] = set()
        for version in ("2.1", "2.2", "2.6", "2.8", "2.10", "latest"):
            seen.clear()
            await admin.at(version).request(op.method, path, json={"not": "valid"})
            used.update(seen)
        declared = {id(s) for s in openapi.declared_schemas(op.handler)}
        assert used == declared, f"{op.method} {op.path}"

    # the action route: each action is validated with the schema its entry registers
    for name, (_, schema, _) in SERVER_ACTIONS.actions.items():
        seen.clear()
        await admin.post(f"/servers/{server['id']}/action", {name: {"not": "valid"}})
        assert seen == [id(schema)], name
