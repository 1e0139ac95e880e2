"""Observability: /metrics moves with the work done, /healthz, /readyz, request ids in logs.

Metrics live in one registry per process and every test adds to them, so values are
compared before and after, never as absolute numbers.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import subprocess
import sys

import asyncpg
import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from control_plane.bootstrap import System
from control_plane.observability import logs, metrics
from drivers.fake import FakeDriver
from tests.conftest import Api


async def scrape(http: httpx.AsyncClient) -> str:
    r = await http.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return r.text


def value(text: str, name: str, **labels: str) -> float:
    """The sum of the samples called ``name`` whose labels include ``labels`` (0 if none)."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v
                                           for k, v in labels.items()):
                total += sample.value
    return total


def has(text: str, name: str, **labels: str) -> bool:
    return any(s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
               for f in text_string_to_metric_families(text) for s in f.samples)


async def test_metrics_move_with_a_server_create(system: System, http: httpx.AsyncClient,
                                                 api: Api) -> None:
    before = await scrape(http)
    server = await api.create_server("metered")
    await api.wait_status(server["id"], "ACTIVE")
    after = await scrape(http)

    def grew(name: str, by: float = 1, **labels: str) -> None:
        assert value(after, name, **labels) - value(before, name, **labels) >= by, \
            (name, labels)

    # HTTP by route template, method and status; latency histogram alongside
    grew("control_plane_http_requests_total", route="/v2.1/servers", method="POST",
         status="202")
    grew("control_plane_http_requests_total", route="/v2.1/servers/{server_id}",
         method="GET", status="200")
    grew("control_plane_http_request_duration_seconds_count", route="/v2.1/servers",
         method="POST")
    assert server["id"] not in after  # raw paths never become labels
    # events appended by type, commands by outcome
    grew("control_plane_events_appended_total", event_type="ServerCreated")
    grew("control_plane_events_appended_total", event_type="ServerSpawned")
    grew("control_plane_commands_total", command="CreateServers", outcome="ok")
    grew("control_plane_commands_total", command="MarkServerSpawned", outcome="ok")
    # the driver's spawn, counted and timed
    grew("control_plane_driver_operations_total", driver="fake", operation="spawn")
    grew("control_plane_driver_operation_duration_seconds_count", driver="fake",
         operation="spawn")
    # the compute worker handled the events; positions and lag read at scrape time
    grew("control_plane_follower_events_total", follower="compute:fake",
         event_type="ServerScheduled")
    for name in ("servers", "hosts", "flavors"):
        assert has(after, "control_plane_projection_lag_events", projection=name)
        assert value(after, "control_plane_projection_lag_events", projection=name) == 0
    head = value(after, "control_plane_event_head_position")
    assert head >= value(before, "control_plane_event_head_position") + 2
    assert value(after, "control_plane_projection_position", projection="servers") == head
    assert has(after, "control_plane_follower_lag_events", follower="scheduler")
    assert value(after, "control_plane_database_up") == 1


async def test_driver_failure_is_counted(system: System, http: httpx.AsyncClient, api: Api,
                                         driver: FakeDriver) -> None:
    before = await scrape(http)
    driver.fail_next_spawns(1)
    server = await api.create_server("doomed")
    await api.wait_status(server["id"], "ERROR")
    after = await scrape(http)
    labels = {"driver": "fake", "operation": "spawn"}
    failures = "control_plane_driver_failures_total"
    assert value(after, failures, error="DriverError", **labels) == \
        value(before, failures, error="DriverError", **labels) + 1
    assert value(after, "control_plane_driver_operations_total", **labels) == \
        value(before, "control_plane_driver_operations_total", **labels) + 1
    assert value(after, "control_plane_commands_total", command="MarkServerBuildFailed",
                 outcome="ok") >= 1


async def test_unrouted_requests_share_one_label(system: System, http: httpx.AsyncClient,
                                                 api: Api) -> None:
    before = await scrape(http)
    assert (await api.get("/os-no-such-thing")).status_code == 404
    assert (await http.get("/v2.1/servers")).status_code == 401  # no credentials
    after = await scrape(http)
    key = "control_plane_http_requests_total"
    for status in ("404", "401"):
        assert value(after, key, route="unrouted", status=status) == \
            value(before, key, route="unrouted", status=status) + 1
    assert "os-no-such-thing" not in after


async def test_project_scoped_and_compute_prefixed_routes(system: System,
                                                           http: httpx.AsyncClient,
                                                           api: Api) -> None:
    before = await scrape(http)
    headers = api.headers()
    assert (await http.get("/v2.1/project-a/servers", headers=headers)).status_code == 200
    assert (await http.get("/compute/v2.1/flavors/1", headers=headers)).status_code == 200
    assert (await http.post("/v2.1/limits", headers=headers)).status_code == 405
    after = await scrape(http)
    key = "control_plane_http_requests_total"
    for route, method, status in (("/v2.1/{project_id}/servers", "GET", "200"),
                                  ("/compute/v2.1/flavors/{flavor_id}", "GET", "200"),
                                  ("/v2.1/limits", "POST", "405")):
        labels = {"route": route, "method": method, "status": status}
        assert value(after, key, **labels) == value(before, key, **labels) + 1, labels
    assert "project-a" not in after


async def test_failed_command_counted_by_error(system: System, http: httpx.AsyncClient,
                                               admin: Api) -> None:
    before = await scrape(http)
    r = await admin.post("/flavors", {"flavor": {"name": "again", "ram": 512, "vcpus": 1,
                                                 "disk": 1, "id": "1"}})  # m1.tiny's id
    assert r.status_code == 409, r.text
    after = await scrape(http)
    key = "control_plane_commands_total"
    assert value(after, key, command="CreateFlavor", outcome="Conflict") == \
        value(before, key, command="CreateFlavor", outcome="Conflict") + 1


async def test_metrics_access_can_require_an_admin(system: System, http: httpx.AsyncClient
                                                   ) -> None:
    system.settings.metrics_access = "admin"
    assert (await http.get("/metrics")).status_code == 401
    member = await http.get("/metrics", headers={"X-Auth-Token": "alice:project-a"})
    assert member.status_code == 403
    r = await http.get("/metrics", headers={"X-Auth-Token": "admin:admin"})
    assert r.status_code == 200
    assert "control_plane_http_requests_total" in r.text
    system.settings.metrics_access = "off"
    assert (await http.get("/metrics")).status_code == 404


async def test_healthz(http: httpx.AsyncClient) -> None:
    r = await http.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}
    assert r.headers["x-openstack-request-id"].startswith("req-")


async def test_readyz_ready(system: System, http: httpx.AsyncClient) -> None:
    r = await http.get("/readyz")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ready"
    checks = body["checks"]
    assert checks["database"]["ok"] is True
    assert checks["migrations"]["ok"] is True
    assert checks["migrations"]["applied"] == checks["migrations"]["expected"]
    assert checks["projections"]["ok"] is True
    assert checks["projections"]["lag"]["servers"] == 0
    assert checks["projections"]["behind"] == []


async def _app_with_pool(system: System, pool: asyncpg.Pool) -> httpx.AsyncClient:
    """A second API app wired as the system's, but reading through ``pool``."""
    app = system.app()
    app.state.deps.pool = pool
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                             base_url="http://testserver")


async def test_readyz_503_when_the_database_is_unreachable(system: System) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pool = await asyncpg.create_pool(f"postgresql://postgres@127.0.0.1:{port}/postgres",
                                     min_size=0, max_size=1)
    assert pool is not None
    try:
        async with await _app_with_pool(system, pool) as client:
            r = await client.get("/readyz")
            assert r.status_code == 503, r.text
            body = r.json()
            assert body["status"] == "unavailable"
            assert body["checks"]["database"]["ok"] is False
            assert body["checks"]["database"]["error"]
            assert body["checks"]["projections"]["ok"] is False
            assert (await client.get("/healthz")).status_code == 200  # still alive
            scraped = await client.get("/metrics")  # still answers, says the DB is down
            assert scraped.status_code == 200
            assert value(scraped.text, "control_plane_database_up") == 0
    finally:
        await pool.close()


async def test_readyz_503_when_the_pool_is_closed(system: System, fresh_dsn: str) -> None:
    pool = await asyncpg.create_pool(fresh_dsn, min_size=1, max_size=1)
    assert pool is not None
    await pool.close()
    async with await _app_with_pool(system, pool) as client:
        r = await client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["checks"]["database"]["ok"] is False


async def test_readyz_503_when_a_projection_is_far_behind(system: System,
                                                          http: httpx.AsyncClient) -> None:
    system.settings.ready_max_lag = 5
    async with system.pool.acquire() as conn:
        head = await conn.fetchval("SELECT position FROM event_head")
        await conn.execute("UPDATE tracking SET position = $1 WHERE name = 'projection:hosts'",
                           head - 6)
    r = await http.get("/readyz")
    assert r.status_code == 503, r.text
    projections = r.json()["checks"]["projections"]
    assert projections["ok"] is False
    assert projections["behind"] == ["hosts"]
    assert projections["lag"]["hosts"] == 6
    system.settings.ready_max_lag = -1  # lag reported, never fatal
    r = await http.get("/readyz")
    assert r.status_code == 200
    assert r.json()["checks"]["projections"]["lag"]["hosts"] == 6


async def test_readyz_503_when_migrations_are_missing(system: System,
                                                      http: httpx.AsyncClient) -> None:
    async with system.pool.acquire() as conn:
        await conn.execute("DELETE FROM schema_migrations WHERE version ="
                           " (SELECT max(version) FROM schema_migrations)")
    r = await http.get("/readyz")
    assert r.status_code == 503
    migrations = r.json()["checks"]["migrations"]
    assert migrations["ok"] is False
    assert migrations["applied"] == migrations["expected"] - 1


async def test_one_request_id_from_api_to_driver(system: System, http: httpx.AsyncClient,
                                                 api: Api,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.handler.addFilter(logs.ContextFilter())
    r = await api.post("/servers", {"server": {"name": "traced", "flavorRef": "1",
                                               "imageRef": "70a599e0-31e7-49b7-b260-"
                                                           "868f441e862b"}})
    assert r.status_code == 202
    request_id = r.headers["x-openstack-request-id"]
    server_id = r.json()["server"]["id"]
    await api.wait_status(server_id, "ACTIVE")
    await asyncio.sleep(0.05)  # the worker logs its outcome command just after

    mine = [rec for rec in caplog.records if getattr(rec, "request_id", None) == request_id]
    by_logger = {rec.name for rec in mine}
    # the API's request line, the compute worker handling the scheduled server, the
    # driver's spawn, and the command reporting the outcome: one request id throughout
    access = [rec for rec in mine if rec.name == "control_plane.api.access"]
    assert access and "POST /v2.1/servers" in access[0].getMessage()
    assert any(rec.name == "control_plane.store.follower"
               and rec.getMessage() == "compute:fake: handling ServerScheduled"
               for rec in mine), by_logger
    spawn = [rec for rec in mine if rec.name == "workers.compute.metered"
             and rec.getMessage().startswith("driver spawn on host")]
    assert spawn, by_logger
    assert getattr(spawn[0], "server_id", None) == server_id
    assert getattr(spawn[0], "event_type", None) == "ServerScheduled"
    assert any(rec.name == "control_plane.service.bus"
               and rec.getMessage().startswith("command MarkServerSpawned: ok")
               for rec in mine), by_logger
    # and the events carry it too (context.py puts it in their metadata)
    async with system.pool.acquire() as conn:
        types = [row["event_type"] for row in await conn.fetch(
            "SELECT event_type FROM events WHERE stream_id = $1"
            " AND metadata->>'request_id' = $2 ORDER BY position", server_id, request_id)]
    assert {"ServerCreated", "ServerScheduled", "ServerSpawned"} <= set(types), types


def test_json_logs_carry_the_context() -> None:
    code = (
        "import logging\n"
        "from control_plane.observability import logs\n"
        "logs.configure()\n"
        "with logs.bound(request_id='req-abc', server_id='s-1'):\n"
        "    logging.getLogger('demo').info('hello %s', 'there')\n"
        "logging.getLogger('demo').warning('outside')\n"
    )
    env = {**os.environ, "CONTROL_PLANE_LOG_FORMAT": "json"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True)
    first, second = (orjson.loads(line) for line in out.stderr.splitlines())
    assert first["message"] == "hello there"
    assert first["level"] == "INFO"
    assert first["logger"] == "demo"
    assert first["request_id"] == "req-abc"
    assert first["server_id"] == "s-1"
    assert "timestamp" in first
    assert second["request_id"] == "-"
    assert "server_id" not in second
    env["CONTROL_PLANE_LOG_FORMAT"] = "text"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True)
    assert "INFO demo [req-abc] hello there" in out.stderr


async def test_metrics_port_serves_the_registry() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    metrics.serve(port)
    async with httpx.AsyncClient() as client:
        r = await client.get(f"http://127.0.0.1:{port}/metrics")
    assert r.status_code == 200
    assert "control_plane_driver_operations_total" in r.text
