"""Hostile input: every route, every bad value, and never a 5xx or an unprojectable event.

The sweep walks the app's own route table (compute, under /v2.1, and the image API),
so a route added later is swept too. It sends NUL characters, control characters,
out-of-range numbers and dates, regular expressions Postgres refuses, deep JSON and
valid bodies with one field made hostile; every answer must be below 500 and carry
the request id, and afterwards no projection may be paused or failing.
"""

from __future__ import annotations

import copy
import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import pytest
from starlette.routing import Route

from control_plane.api import app as app_module
from control_plane.api.compute.resources import versions as versions_module
from control_plane.api.compute.routes import SERVER_ACTIONS
from control_plane.api.compute.schemas import flavors as flavor_schemas
from control_plane.api.compute.schemas import servers as server_schemas
from control_plane.api.compute.schemas import volumes as volume_schemas
from control_plane.api.image import resources as glance
from control_plane.bootstrap import System
from control_plane.observability import logs
from tests.conftest import IMAGE, Api, assert_error

NUL = "a\x00b"
HUGE = 10**30
HOSTILE_SCALARS: list[Any] = [
    NUL, "\x00", "x" * 300, "line\nbreak\r\x1b[31m", 2**31, "2147483648", 2**63,
    "99999999999999999999999", -(2**63) - 1, -1, "-1", 1e308, "NaN", "\uff11\uff12", "",
    {"deep": [[[[{"x": NUL}]]]]}, [NUL],
]
# one of each kind: numbers and dates out of range, regular expressions Postgres
# refuses, unicode digits, long text (NUL is refused for every route before routing)
HOSTILE_QUERY: list[str] = [
    str(HUGE), "-" + str(HUGE), "9999-12-31T23:59:59-23:59", "-99999999999w", "(?P<x>a)",
    "a{1,99999}", "\u0661\u0662", "x" * 5000,
]
QUERY_NAMES = [
    "limit", "marker", "offset", "minRam", "minDisk", "changes-since", "as_of", "name",
    "ip", "ip6", "image", "flavor", "status", "host", "node", "reservation_id",
    "availability_zone", "user_id", "tenant_id", "project_id", "all_tenants", "deleted",
    "sort_key", "sort_dir", "is_public", "server", "type", "instance_uuid",
    "source_compute", "migration_type", "visibility", "owner", "disk_format",
    "container_format",
]
ADMIN_HEADERS = {"X-Auth-Token": "admin:admin", "X-OpenStack-Nova-API-Version": "latest"}
MEMBER_HEADERS = {"X-Auth-Token": "alice:project-a", "X-OpenStack-Nova-API-Version": "latest"}


def deep(levels: int) -> bytes:
    return b'{"a":' * levels + b"1" + b"}" * levels


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _leaves(item, (*path, i))
    else:
        yield path


def _set(body: Any, path: tuple[Any, ...], value: Any) -> Any:
    out = copy.deepcopy(body)
    target = out
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return out


def _properties(schema: dict[str, Any], key: str) -> list[str]:
    inner = schema.get("properties", {}).get(key, {})
    return list(inner.get("properties", {})) if isinstance(inner, dict) else []


def mutations(base: dict[str, Any], schema: dict[str, Any] | None = None
              ) -> Iterator[dict[str, Any]]:
    """The base body with one leaf, or one optional property, made hostile at a time."""
    for path in _leaves(base):
        for value in HOSTILE_SCALARS:
            yield _set(base, path, value)
    if schema is not None:
        (key,) = base
        for prop in _properties(schema, key):
            if prop not in base[key]:
                for value in HOSTILE_SCALARS:
                    yield _set(base, (key, prop), value)
    yield {**base, "bogus\x00key": 1}


def compute_routes() -> list[tuple[str, str]]:
    """(method, path template) for every compute API route, and the image API's."""
    out = []
    for route in app_module.API_ROUTES:
        assert isinstance(route, Route)
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                out.append((method, "/v2.1" + route.path))
    for route in glance.routes():
        assert isinstance(route, Route)
        out.append(("GET", "/image" + route.path))
    return out


PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


def fill(template: str, ids: dict[str, str], hostile: str | None = None,
         only: str | None = None) -> str:
    """The path with real ids, but ``hostile`` in parameter ``only`` (in all if None)."""
    def value(m: re.Match[str]) -> str:
        if hostile is not None and only in (None, m.group(1)):
            return quote(hostile, safe="")
        return ids.get(m.group(1), "x")
    return PARAM.sub(value, template)


async def check(http: httpx.AsyncClient, method: str, url: str, content: bytes | None = None,
                headers: dict[str, str] | None = None) -> httpx.Response:
    h = {**ADMIN_HEADERS, **(headers or {})}
    if content is not None:
        h.setdefault("Content-Type", "application/json")
    r = await http.request(method, url, content=content, headers=h)
    assert r.status_code < 500, (method, url, content and content[:300], r.status_code,
                                 r.text[:300])
    assert r.headers.get("x-openstack-request-id"), (method, url)
    return r


async def assert_projections_healthy(system: System) -> None:
    await system.runner.catch_up()
    bad = [(s.name, s.error) for s in await system.runner.status() if s.paused or s.error]
    assert not bad, bad


@pytest.fixture
async def ids(system: System, http: httpx.AsyncClient) -> dict[str, str]:
    """Real resources, so hostile requests get past the lookups to the code behind them."""
    for key in ("instances", "cores", "ram", "key_pairs"):
        system.settings.quotas[key] = -1
    api = Api(http, "admin", "admin", "latest")
    server = await api.create_server("target")
    await api.wait_status(server["id"], "ACTIVE")
    r = await api.post("/os-volumes", {"volume": {"size": 1}})
    assert r.status_code == 200, r.text
    volume = r.json()["volume"]["id"]
    r = await api.post("/os-keypairs", {"keypair": {"name": "kp"}})
    assert r.status_code == 201, r.text
    return {"server_id": server["id"], "flavor_id": "1", "image_id": IMAGE,
            "volume_id": volume, "snapshot_id": volume, "key": "k", "name": "kp",
            "network": "private", "port_id": volume, "console_id": "1",
            "console_token": "t", "request_id": "req-x", "tenant_id": "admin",
            "alias": "os-volumes", "volume_type_id": "1"}


# -- the sweep ------------------------------------------------------------------------------

async def test_hostile_path_segments_on_every_route(system: System, http: httpx.AsyncClient,
                                                    ids: dict[str, str]) -> None:
    for method, template in compute_routes():
        for name in PARAM.findall(template):
            for value in ("\x00", "a\x00b", "a\nb", "x" * 2000, "..", "%", "\u2028", "\ufb00",
                          "99999999999999999999", "-1", "1_0", "\u0661", "1e5"):
                await check(http, method, fill(template, ids, value, only=name),
                            b"{}" if method in ("POST", "PUT") else None)
    await assert_projections_healthy(system)


async def test_hostile_query_parameters_on_every_route(system: System,
                                                       http: httpx.AsyncClient,
                                                       ids: dict[str, str]) -> None:
    for method, template in compute_routes():
        if method != "GET":
            continue
        url = fill(template, ids)
        for name in QUERY_NAMES:
            for value in HOSTILE_QUERY:
                await check(http, method, f"{url}?{name}={quote(value, safe='')}")
        await check(http, method, url + "?%00=1")
        await check(http, method, url + "?limit=a%00b&name=%0a%5c%25")
    await assert_projections_healthy(system)


async def test_hostile_bodies_on_every_route(system: System, http: httpx.AsyncClient,
                                             ids: dict[str, str]) -> None:
    generic = [deep(1000), deep(65), b'{"\\u0000": 1}', b'{"a": "\\u0000"}', b"[]", b"1",
               b'"\\u0000"', b"null", b"{" * 5000, b'{"a": 1e999}', b"\xff\xfe",
               b'{"a": 18446744073709551616}']
    for method, template in compute_routes():
        if method not in ("POST", "PUT"):
            continue
        url = fill(template, ids)
        for content in generic:
            await check(http, method, url, content)
    await assert_projections_healthy(system)


BASES: list[tuple[str, str, dict[str, Any], dict[str, Any] | None]] = [
    ("POST", "/os-volumes", {"volume": {"size": 1, "display_name": "v"}},
     volume_schemas.create),
    ("POST", "/os-snapshots", {"snapshot": {"volume_id": "{volume_id}"}},
     volume_schemas.snapshot_create),
    ("POST", "/os-keypairs", {"keypair": {"name": "k2"}}, None),
    ("POST", "/flavors", {"flavor": {"name": "f", "ram": 1, "vcpus": 1, "disk": 0}},
     flavor_schemas.create),
    ("POST", "/flavors/1/os-extra_specs", {"extra_specs": {"k": "v"}}, None),
    ("PUT", "/flavors/1/os-extra_specs/k", {"k": "v"}, None),
    ("POST", "/flavors/1/action", {"addTenantAccess": {"tenant": "t"}}, None),
    ("POST", "/servers", {"server": {"name": "s", "flavorRef": "1", "imageRef": IMAGE}},
     server_schemas.create),
    ("POST", "/servers", {"server": {
        "name": "s", "flavorRef": 1, "imageRef": "", "min_count": 1, "max_count": "1",
        "networks": [{"uuid": "x", "fixed_ip": "10.0.0.5", "port": None}],
        "block_device_mapping_v2": [{"boot_index": 0, "uuid": IMAGE, "source_type": "image",
                                     "destination_type": "local", "volume_size": 1,
                                     "device_name": "/dev/vda", "tag": "t"}],
        "security_groups": [{"name": "default"}], "metadata": {"a": "b"},
        "personality": [{"path": "/p", "contents": "YQ=="}], "user_data": "YQ==",
        "availability_zone": "nova", "key_name": "kp", "config_drive": "true",
        "accessIPv4": "1.2.3.4", "accessIPv6": "::1", "OS-DCF:diskConfig": "AUTO",
        "adminPass": "p"}, "os:scheduler_hints": {"group": "g"}}, None),
    ("PUT", "/servers/{server_id}", {"server": {"name": "renamed"}}, server_schemas.update),
    ("POST", "/servers/{server_id}/metadata", {"metadata": {"k": "v"}}, None),
    ("PUT", "/servers/{server_id}/metadata", {"metadata": {"k": "v"}}, None),
    ("PUT", "/servers/{server_id}/metadata/k", {"meta": {"k": "v"}}, None),
    ("POST", "/images/" + IMAGE + "/metadata", {"metadata": {"k": "v"}}, None),
    ("PUT", "/images/" + IMAGE + "/metadata/k", {"meta": {"k": "v"}}, None),
    ("POST", "/servers/{server_id}/os-volume_attachments",
     {"volumeAttachment": {"volumeId": "{volume_id}"}}, None),
    ("POST", "/servers/{server_id}/os-interface", {"interfaceAttachment": {}}, None),
    ("POST", "/servers/{server_id}/remote-consoles",
     {"remote_console": {"protocol": "vnc", "type": "novnc"}}, None),
]

ACTION_BASES: dict[str, dict[str, Any]] = {
    "reboot": {"type": "SOFT"}, "rebuild": {"imageRef": IMAGE},
    "resize": {"flavorRef": "2"}, "createImage": {"name": "i"},
    "createBackup": {"name": "b", "backup_type": "daily", "rotation": 1},
    "os-resetState": {"state": "active"}, "changePassword": {"adminPass": "p"},
    "os-getConsoleOutput": {"length": 5}, "addSecurityGroup": {"name": "default"},
    "os-migrateLive": {"host": None, "block_migration": "auto", "disk_over_commit": False},
    "evacuate": {"host": "h"}, "rescue": {"adminPass": "p"},
    "addFixedIp": {"networkId": "n"}, "addFloatingIp": {"address": "10.0.0.1"},
    "attach": {"volume_id": "{volume_id}"},
}


def _resolve(value: Any, ids: dict[str, str]) -> Any:
    return orjson.loads(orjson.dumps(value).decode().replace(
        "{volume_id}", ids["volume_id"]).replace("{server_id}", ids["server_id"]))


async def test_valid_bodies_with_one_hostile_field(system: System, http: httpx.AsyncClient,
                                                   ids: dict[str, str]) -> None:
    cases = list(BASES)
    for key, (_, schema, _) in SERVER_ACTIONS.actions.items():
        inner = ACTION_BASES.get(key, {})
        cases.append(("POST", "/servers/{server_id}/action", {key: inner}, schema))
    for method, path, base, schema in cases:
        url = "/v2.1" + fill(path, ids)
        for body in mutations(_resolve(base, ids), schema):
            await check(http, method, url, json.dumps(body).encode())
    await assert_projections_healthy(system)


# -- the findings, one by one -------------------------------------------------------------

async def test_oversized_volume_is_refused_before_any_event(system: System,
                                                            api: Api) -> None:
    async with system.pool.acquire() as conn:
        before = await conn.fetchval("SELECT count(*) FROM events")
    for size in ("2147483648", 2147483648, "99999999999999999999999"):
        r = await api.post("/os-volumes", {"volume": {"size": size}})
        assert_error(r, 400, "badRequest")
        assert "maximum" in r.json()["badRequest"]["message"]
    async with system.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM events") == before
    r = await api.post("/os-volumes", {"volume": {"size": "2147483647"}})
    assert r.status_code == 200, r.text
    await assert_projections_healthy(system)


async def test_deep_json_is_400(api: Api) -> None:
    r = await api.http.post("/v2.1/os-volumes", content=deep(1000),
                            headers={**api.headers(), "Content-Type": "application/json"})
    assert_error(r, 400, "badRequest")
    r = await api.http.post("/v2.1/servers/x/action", content=b'{"reboot":' + deep(100) + b"}",
                            headers={**api.headers(), "Content-Type": "application/json"})
    assert r.status_code in (400, 404), r.text


@pytest.mark.parametrize("body", [
    {"volume": {"size": 1, "display_name": NUL}},
    {"volume": {"size": 1, "metadata": {"k": NUL}}},
    {"volume": {"size": 1, "metadata": {NUL: "v"}}},
])
async def test_nul_in_a_body_is_400(api: Api, body: dict[str, Any]) -> None:
    assert_error(await api.post("/os-volumes", body), 400, "badRequest")


@pytest.mark.parametrize("url", [
    "/v2.1/servers/a%00b", "/v2.1/servers?name=a%00b", "/v2.1/os-keypairs/k%00",
    "/v2.1/flavors?a%00=1",
])
async def test_nul_in_a_url_is_400(api: Api, url: str) -> None:
    r = await api.http.get(url, headers=api.headers())
    assert_error(r, 400, "badRequest")
    assert r.headers["x-openstack-request-id"]


@pytest.mark.parametrize("query", [
    "minRam=" + str(HUGE), "minDisk=" + str(HUGE), "minRam=-" + str(HUGE),
])
async def test_flavor_filters_out_of_range(api: Api, query: str) -> None:
    assert_error(await api.get("/flavors/detail?" + query), 400, "badRequest")


@pytest.mark.parametrize("path", ["/servers", "/images/detail"])
async def test_changes_since_out_of_range(api: Api, path: str) -> None:
    r = await api.get(path + "?changes-since=" + quote("9999-12-31T23:59:59-23:59"))
    assert_error(r, 400, "badRequest", "Invalid changes-since value")


async def test_history_as_of_out_of_range(admin: Api) -> None:
    for value in ("-99999999999w", "0001-01-01T00:00:00+23:59"):
        assert_error(await admin.get("/os-history/servers?as_of=" + quote(value)), 400,
                     "badRequest")


async def test_limits_and_offsets_out_of_range(api: Api) -> None:
    assert_error(await api.get("/servers?limit=" + str(HUGE) + "x"), 400, "badRequest")
    assert (await api.get("/servers?limit=" + str(HUGE))).status_code == 200
    assert_error(await api.get("/os-volumes?offset=" + str(HUGE)), 400, "badRequest")
    r = await api.http.get("/image/v2/images?limit=-1", headers=api.headers())
    assert r.status_code == 400


@pytest.mark.parametrize("query", ["name=(?P<x>a)", "name=a{1,99999}", "ip=[",
                                   "ip=(?P<x>1)", "ip6=(?P<x>1)", "name=(?<!a)b("])
async def test_regular_expressions_postgres_refuses(system: System, admin: Api, query: str
                                                    ) -> None:
    await admin.create_server("vm")
    r = await admin.get("/servers/detail?" + query.replace("+", "%2B"))
    assert_error(r, 400, "badRequest")


async def test_regular_expression_filters_still_match(system: System, api: Api) -> None:
    await api.create_server("web-1")
    r = await api.get("/servers?name=^web-[0-9]$")
    assert [s["name"] for s in r.json()["servers"]] == ["web-1"]


@pytest.mark.parametrize("personality", [
    [{"path": "/x", "contents": "not base64!"}], [{"path": 1, "contents": ""}],
    [{"bogus": "x"}], ["x"],
])
async def test_rebuild_personality_items_are_validated(system: System, api: Api,
                                                       personality: list[Any]) -> None:
    server = await api.create_server()
    await api.wait_status(server["id"], "ACTIVE")
    r = await api.post(f"/servers/{server['id']}/action",
                       {"rebuild": {"imageRef": IMAGE, "personality": personality}})
    assert_error(r, 400, "badRequest")


# -- 500s: one traceback, with the request id -----------------------------------------------

async def test_500_carries_the_request_id_and_logs_one_traceback(
        http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    def boom(root: str) -> dict[str, Any]:
        raise RuntimeError("boom")

    monkeypatch.setattr(versions_module, "_v21", boom)
    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(logs.ContextFilter())
    r = await http.get("/v2.1/", headers=MEMBER_HEADERS)
    assert_error(r, 500, "computeFault")
    request_id = r.headers["x-openstack-request-id"]
    assert r.headers["x-compute-request-id"] == request_id
    tracebacks = [rec for rec in caplog.records if rec.exc_info]
    assert len(tracebacks) == 1, [rec.getMessage() for rec in tracebacks]
    assert tracebacks[0].request_id == request_id  # type: ignore[attr-defined]


# -- log injection -------------------------------------------------------------------------

@pytest.mark.parametrize("headers", [{}, MEMBER_HEADERS])
async def test_control_characters_in_a_path_cannot_forge_log_lines(
        http: httpx.AsyncClient, headers: dict[str, str]) -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.TextFormatter(logs.TEXT_FORMAT))
    handler.addFilter(logs.ContextFilter())
    access = logging.getLogger("control_plane.api.access")
    access.addHandler(handler)
    old_level = access.level
    access.setLevel(logging.INFO)
    try:
        await http.get("/v2.1/servers%0a2026-01-01 INFO forged [-] admin%0d%1b[2J%e2%80%a8x",
                       headers=headers)
    finally:
        access.removeHandler(handler)
        access.setLevel(old_level)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert "\\x0a2026-01-01 INFO forged" in lines[0]
    assert not any(ch in lines[0] for ch in "\r\x1b\u2028")


def test_text_formatter_escapes_message_and_fields_but_not_tracebacks() -> None:
    formatter = logs.TextFormatter(logs.TEXT_FORMAT)
    try:
        raise ValueError("x\n2026-01-01 00:00:00,000 INFO forged [-] line\x1b[2J")
    except ValueError:
        import sys
        record = logging.LogRecord("n", logging.ERROR, "p", 1, "name %s", ("a\nb",),
                                   sys.exc_info())
    record.request_id = "req\n1"
    text = formatter.format(record)
    first, *rest = text.splitlines()
    assert first.endswith("[req\\x0a1] name a\\x0ab")
    assert rest[0] == "    Traceback (most recent call last):"
    assert all(line.startswith("    ") for line in rest)
    assert rest[-1] == "    2026-01-01 00:00:00,000 INFO forged [-] line\\x1b[2J"


# -- Content-Type ----------------------------------------------------------------------------

@pytest.mark.parametrize("content_type", ["application/xml", "text/xml",
                                          "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x"])
async def test_non_json_content_type_is_415(api: Api, content_type: str) -> None:
    r = await api.http.post("/v2.1/os-keypairs", content=b'{"keypair": {"name": "k"}}',
                            headers={**api.headers(), "Content-Type": content_type})
    assert_error(r, 415, "badMediaType", "Unsupported Content-Type")
    assert r.headers["x-openstack-request-id"]


@pytest.mark.parametrize("content_type", [None, "application/json",
                                          "application/json; charset=UTF-8",
                                          "application/vnd.openstack.compute+json",
                                          "text/plain"])
async def test_json_content_types_are_accepted(api: Api, content_type: str | None) -> None:
    headers = api.headers()
    if content_type is not None:
        headers["Content-Type"] = content_type
    r = await api.http.post("/v2.1/os-keypairs", content=b'{"keypair": {"name": "k"}}',
                            headers=headers)
    assert r.status_code == 200, r.text


# -- microversion headers --------------------------------------------------------------------

@pytest.mark.parametrize("headers", [
    {"OpenStack-API-Version": "compute"}, {"OpenStack-API-Version": "2.5"},
    {"OpenStack-API-Version": "compute 2.5 extra"},
    {"OpenStack-API-Version": "compute 2.5, compute 2.6"},
    {"OpenStack-API-Version": "compute 2.x"}, {"X-OpenStack-Nova-API-Version": "abc"},
    {"X-OpenStack-Nova-API-Version": "2"}, {"X-OpenStack-Nova-API-Version": "2.01"},
    {"X-OpenStack-Nova-API-Version": "v2.1"},
])
async def test_malformed_version_headers_are_400(api: Api, headers: dict[str, str]) -> None:
    r = await api.get("/flavors", headers=headers)
    assert_error(r, 400, "badRequest")


@pytest.mark.parametrize("value", ["3.0", "2.0", "2.99999999999999999999", "1.1"])
async def test_versions_out_of_range_are_406(api: Api, value: str) -> None:
    r = await api.get("/flavors", headers={"OpenStack-API-Version": f"compute {value}"})
    assert r.status_code == 406, r.text


@pytest.mark.parametrize(("headers", "version"), [
    ({"OpenStack-API-Version": "compute latest"}, "2.14"),
    ({"OpenStack-API-Version": "COMPUTE 2.3"}, "2.3"),
    ({"OpenStack-API-Version": "volume 3.0, compute 2.4"}, "2.4"),
    ({"OpenStack-API-Version": "volume 3.0"}, "2.1"),
    ({"OpenStack-API-Version": " "}, "2.1"),
    ({"X-OpenStack-Nova-API-Version": "Latest"}, "2.14"),
])
async def test_wellformed_version_headers(api: Api, headers: dict[str, str], version: str
                                          ) -> None:
    r = await api.get("/flavors", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["x-openstack-nova-api-version"] == version


# -- pinned links ---------------------------------------------------------------------------

async def test_links_ignore_the_host_header_when_a_prefix_is_set(
        system: System, http: httpx.AsyncClient, api: Api) -> None:
    system.settings.compute_link_prefix = "https://compute.example.com/nova"
    system.settings.image_public_endpoint = "https://image.example.com"
    evil = {"Host": "evil.example.org"}
    r = await http.get("/", headers=evil)
    assert [v["links"][0]["href"] for v in r.json()["versions"]] == [
        "https://compute.example.com/nova/v2/", "https://compute.example.com/nova/v2.1/"]
    r = await http.get("/v2.1/", headers={**evil, **api.headers()})
    assert r.json()["version"]["links"][0]["href"] == "https://compute.example.com/nova/v2.1/"
    server = await api.create_server()
    r = await api.get(f"/servers/{server['id']}", headers=evil)
    assert {link["href"] for link in r.json()["server"]["links"]} == {
        f"https://compute.example.com/nova/v2.1/servers/{server['id']}",
        f"https://compute.example.com/nova/servers/{server['id']}"}
    r = await api.get(f"/images/{IMAGE}", headers=evil)
    assert [link["href"] for link in r.json()["image"]["links"]] == [
        f"https://compute.example.com/nova/v2.1/images/{IMAGE}",
        f"https://compute.example.com/nova/images/{IMAGE}",
        f"https://image.example.com/images/{IMAGE}"]
    r = await http.get("/image/", headers=evil)
    assert {v["links"][0]["href"] for v in r.json()["versions"]} == {
        "https://image.example.com/v2/"}
    r = await http.get("/compute/", headers=evil)
    assert r.json()["versions"][0]["links"][0]["href"] == \
        "https://compute.example.com/nova/compute/v2/"


async def test_links_follow_the_request_without_a_prefix(http: httpx.AsyncClient) -> None:
    r = await http.get("/", headers={"Host": "api.example.net"})
    assert r.json()["versions"][0]["links"][0]["href"] == "http://api.example.net/v2/"


# -- projections store what events carry ---------------------------------------------------

async def test_volume_sizes_widen_on_an_existing_database(bare_system: System) -> None:
    """A database whose volume tables still have int sizes is widened at start, and a
    VolumeCreated accepted before the API bounded sizes then projects."""
    import datetime as dt
    import uuid

    from control_plane.store.eventstore import RecordedEvent
    from projections.volumes.projection import VolumesProjection

    projection = VolumesProjection()
    async with bare_system.pool.acquire() as conn:
        await conn.execute("ALTER TABLE v_volumes ALTER COLUMN size TYPE int;"
                           "ALTER TABLE v_volume_snapshots ALTER COLUMN size TYPE int")
        await projection.create_schema(conn)
        await projection.create_schema(conn)  # idempotent
        types = await conn.fetch(
            "SELECT data_type FROM information_schema.columns WHERE column_name = 'size'"
            " AND table_name IN ('v_volumes', 'v_volume_snapshots')")
        assert {r["data_type"] for r in types} == {"bigint"}
        now = dt.datetime.now(dt.UTC)
        event = RecordedEvent(1, str(uuid.uuid4()), 1, "VolumeCreated", 1, {
            "project_id": "p", "user_id": "u", "size": 2**31, "availability_zone": "nova",
            "display_name": None, "display_description": None, "volume_type": "lvmdriver-1",
            "snapshot_id": None, "metadata": {}, "timestamp": now.isoformat()}, {}, now)
        await projection.apply(conn, event)
        assert await conn.fetchval("SELECT size FROM v_volumes") == 2**31


@pytest.mark.parametrize(("content_type", "status"), [
    ("application/xml", 400), ("text/plain", 400), ("application/x-www-form-urlencoded", 400),
    ("application/json", 401), ("application/json; charset=utf-8", 401), (None, 401),
])
async def test_identity_bodies_must_be_json(http: httpx.AsyncClient, content_type: str | None,
                                            status: int) -> None:
    """As Keystone: a body whose Content-Type is neither empty nor JSON is a 400."""
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "nobody", "domain": {"id": "default"}, "password": "wrong"}}}}}
    headers = {"Content-Type": content_type} if content_type else {}
    r = await http.post("/identity/v3/auth/tokens", content=orjson.dumps(body),
                        headers=headers)
    assert r.status_code == status, r.text
    if status == 400:
        assert r.json()["error"]["code"] == 400
