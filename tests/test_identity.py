"""The built-in identity service (Keystone v3 subset) and token auth of the compute API."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn

from control_plane.bootstrap import System, open_system
from control_plane.config import Settings
from tests.conftest import IMAGE, fake_driver, wait_hosts


@pytest.fixture
async def ks_system(fresh_dsn: str) -> AsyncIterator[System]:
    system = await open_system(fresh_dsn, Settings(auth_strategy="keystone"), pool_size=10)
    system.start_scheduler()
    system.start_compute(fake_driver(), "fake")
    await wait_hosts(system, 2)
    try:
        yield system
    finally:
        await system.close()


@pytest.fixture
async def http(ks_system: System) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=ks_system.app())
    async with httpx.AsyncClient(transport=transport, base_url="http://cloud") as client:
        yield client


def password_auth(user: str, password: str, project: str | None = None) -> dict[str, Any]:
    auth: dict[str, Any] = {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"name": "Default"}, "password": password}}}}
    if project is not None:
        auth["scope"] = {"project": {"name": project, "domain": {"name": "Default"}}}
    return {"auth": auth}


async def login(http: httpx.AsyncClient, user: str = "admin", password: str = "secret",
                project: str | None = "admin") -> tuple[str, dict[str, Any]]:
    r = await http.post("/identity/v3/auth/tokens", json=password_auth(user, password, project))
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()["token"]
    return r.headers["x-subject-token"], body


async def test_version_documents(http: httpx.AsyncClient) -> None:
    r = await http.get("/identity")
    assert r.status_code == 300
    (v,) = r.json()["versions"]["values"]
    assert v["id"].startswith("v3.") and v["status"] == "stable"
    assert v["links"][0]["href"] == "http://cloud/identity/v3/"
    r = await http.get("/identity/v3")
    assert r.status_code == 200 and r.json()["version"]["id"] == v["id"]


async def test_password_token_with_catalog(http: httpx.AsyncClient) -> None:
    token, body = await login(http)
    assert len(token) > 100
    assert body["user"]["name"] == "admin" and body["project"]["name"] == "admin"
    assert body["user"]["domain"] == {"id": "default", "name": "Default"}
    assert {"admin", "member", "reader"} <= {r["name"] for r in body["roles"]}
    assert body["expires_at"].endswith("Z") and body["methods"] == ["password"]
    services = {s["type"]: s for s in body["catalog"]}
    assert set(services) == {"compute", "identity", "image"}
    endpoints = services["compute"]["endpoints"]
    assert {e["interface"] for e in endpoints} == {"public", "internal", "admin"}
    assert all(e["region"] == "RegionOne" == e["region_id"] for e in endpoints)
    assert endpoints[0]["url"] == "http://cloud/compute/v2.1"
    r = await http.post("/identity/v3/auth/tokens?nocatalog",
                        json=password_auth("admin", "secret", "admin"))
    assert "catalog" not in r.json()["token"]


async def test_wrong_credentials_are_401_in_keystone_shape(http: httpx.AsyncClient) -> None:
    for auth in (password_auth("admin", "wrong", "admin"), password_auth("nobody", "x"),
                 password_auth("admin", "secret", "no-such-project")):
        r = await http.post("/identity/v3/auth/tokens", json=auth)
        assert r.status_code == 401
        assert r.json() == {"error": {"code": 401, "title": "Unauthorized", "message":
                                      "The request you have made requires authentication."}}


async def test_token_method_rescopes_and_validation(http: httpx.AsyncClient) -> None:
    unscoped, body = await login(http, project=None)
    assert "project" not in body and "catalog" not in body
    r = await http.get("/v2.1/flavors", headers={"X-Auth-Token": unscoped})
    assert r.status_code == 401  # compute needs a project-scoped token
    r = await http.post("/identity/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["token"], "token": {"id": unscoped}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}})
    assert r.status_code == 201
    scoped = r.headers["x-subject-token"]
    assert r.json()["token"]["expires_at"] == body["expires_at"]  # never outlives the first
    r = await http.get("/identity/v3/auth/tokens",
                       headers={"X-Auth-Token": scoped, "X-Subject-Token": unscoped})
    assert r.status_code == 200 and r.json()["token"]["user"]["name"] == "admin"
    r = await http.head("/identity/v3/auth/tokens",
                        headers={"X-Auth-Token": scoped, "X-Subject-Token": scoped})
    assert r.status_code == 200


async def test_compute_api_with_tokens_and_revocation(ks_system: System,
                                                      http: httpx.AsyncClient) -> None:
    assert (await http.get("/v2.1/flavors")).status_code == 401
    assert (await http.get("/v2.1/flavors", headers={"X-Auth-Token": "garbage"})
            ).status_code == 401
    token, _ = await login(http)
    h = {"X-Auth-Token": token}
    assert (await http.get("/v2.1/flavors", headers=h)).status_code == 200
    r = await http.delete("/identity/v3/auth/tokens",
                          headers={"X-Auth-Token": token, "X-Subject-Token": token})
    assert r.status_code == 204
    other, _ = await login(http)
    r = await http.get("/identity/v3/auth/tokens",
                       headers={"X-Auth-Token": other, "X-Subject-Token": token})
    assert r.status_code == 404
    assert (await http.get("/v2.1/flavors", headers=h)).status_code == 401
    # tokens are never stored: neither the event log nor any view holds one
    async with ks_system.pool.acquire() as conn:
        hits = await conn.fetchval(
            "SELECT count(*) FROM events WHERE data::text LIKE '%' || $1 || '%'", token[:40])
    assert hits == 0


async def test_admin_manages_projects_users_roles(http: httpx.AsyncClient) -> None:
    admin, _ = await login(http)
    h = {"X-Auth-Token": admin}
    r = await http.post("/identity/v3/projects", headers=h, json={"project": {"name": "demo"}})
    assert r.status_code == 201
    project = r.json()["project"]
    r = await http.post("/identity/v3/projects", headers=h, json={"project": {"name": "demo"}})
    assert r.status_code == 409 and r.json()["error"]["title"] == "Conflict"
    r = await http.post("/identity/v3/users", headers=h, json={"user": {
        "name": "demo", "password": "pw", "default_project_id": project["id"]}})
    assert r.status_code == 201
    user = r.json()["user"]
    roles = {x["name"]: x["id"] for x in (await http.get(
        "/identity/v3/roles", headers=h)).json()["roles"]}
    assert {"admin", "member", "reader", "manager", "service"} <= set(roles)
    # no role yet: cannot get a project token
    r = await http.post("/identity/v3/auth/tokens", json=password_auth("demo", "pw", "demo"))
    assert r.status_code == 401
    grant = f"/identity/v3/projects/{project['id']}/users/{user['id']}/roles/{roles['member']}"
    assert (await http.put(grant, headers=h)).status_code == 204
    assert (await http.head(grant, headers=h)).status_code == 204
    listed = (await http.get("/identity/v3/role_assignments", headers=h,
                             params={"user.id": user["id"], "include_names": "1"})).json()
    assert [a["role"]["name"] for a in listed["role_assignments"]] == ["member"]
    token, body = await login(http, "demo", "pw", "demo")
    assert {r["name"] for r in body["roles"]} == {"member", "reader"}
    uh = {"X-Auth-Token": token}
    r = await http.post("/v2.1/servers", headers=uh, json={"server": {
        "name": "mine", "flavorRef": "1", "imageRef": IMAGE}})
    assert r.status_code == 202, r.text
    shown = (await http.get(f"/v2.1/servers/{r.json()['server']['id']}", headers=uh)).json()
    assert shown["server"]["tenant_id"] == project["id"]
    assert shown["server"]["user_id"] == user["id"]
    # a member cannot manage identity
    r = await http.get("/identity/v3/users", headers=uh)
    assert r.status_code == 403 and r.json()["error"]["code"] == 403
    # revoking the only role ends the user's access at once
    assert (await http.delete(grant, headers=h)).status_code == 204
    await asyncio.sleep(5.1)  # the validation cache lives 5 s
    assert (await http.get("/v2.1/servers", headers=uh)).status_code == 401
    # disabling the user ends new logins
    r = await http.patch(f"/identity/v3/users/{user['id']}", headers=h,
                         json={"user": {"enabled": False}})
    assert r.status_code == 200 and r.json()["user"]["enabled"] is False
    assert (await http.post("/identity/v3/auth/tokens",
                            json=password_auth("demo", "pw"))).status_code == 401


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def test_external_keystone_strategy(ks_system: System, fresh_dsn: str) -> None:
    """A compute API that trusts another Keystone: here the built-in one, over real HTTP."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(ks_system.app(), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(500):  # uvicorn offers no event for "started"
            if server.started:
                break
            await asyncio.sleep(0.02)
        settings = Settings(auth_strategy="keystone-external",
                            keystone_url=f"http://127.0.0.1:{port}/identity")
        compute = await open_system(fresh_dsn, settings, pool_size=4, seed=False)
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as ks:
                token, _ = await login(ks)
            transport = httpx.ASGITransport(app=compute.app())
            async with httpx.AsyncClient(transport=transport, base_url="http://c") as c:
                r = await c.get("/v2.1/servers?all_tenants=1", headers={"X-Auth-Token": token})
                assert r.status_code == 200
                assert (await c.get("/v2.1/servers", headers={"X-Auth-Token": "nope"})
                        ).status_code == 401
        finally:
            await compute.close()
    finally:
        server.should_exit = True
        await serving


async def test_expired_tokens_are_refused(ks_system: System, http: httpx.AsyncClient) -> None:
    import datetime as dt

    _, body = await login(http)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    tokens = ks_system.authenticator.tokens
    expired, _ = tokens.issue(body["user"]["id"], body["project"]["id"], ("password",),
                              expires_at=past)
    assert (await http.get("/v2.1/flavors", headers={"X-Auth-Token": expired})).status_code \
        == 401
    r = await http.post("/identity/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["token"], "token": {"id": expired}}}})
    assert r.status_code == 401


async def test_image_service_subset(http: httpx.AsyncClient) -> None:
    token, _ = await login(http)
    h = {"X-Auth-Token": token}
    assert (await http.get("/image")).status_code == 300
    assert (await http.get("/image/v2/images")).status_code == 401
    listed = (await http.get("/image/v2/images", headers=h)).json()
    names = {i["name"] for i in listed["images"]}
    assert "cirros-0.6.2-x86_64-disk" in names and listed["first"] == "/v2/images"
    one = (await http.get("/image/v2/images", headers=h,
                          params={"name": "cirros-0.6.2-x86_64-disk"})).json()["images"]
    assert [i["id"] for i in one] == [IMAGE]
    shown = (await http.get(f"/image/v2/images/{IMAGE}", headers=h)).json()
    assert shown["status"] == "active" and shown["disk_format"] == "qcow2"
    assert shown["os_distro"] == "cirros"  # image properties are top-level keys
    page = (await http.get("/image/v2/images?limit=1", headers=h)).json()
    assert len(page["images"]) == 1 and "marker=" in page["next"]
    assert (await http.get("/image/v2/images/nope", headers=h)).status_code == 404
