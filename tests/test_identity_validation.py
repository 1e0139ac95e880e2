"""Identity requests are validated before anything is appended.

- The aggregates refuse what the identity views cannot hold (pure, no database).
- Every identity body has a JSON Schema with Keystone's bounds: a bad one is a 400 in
  Keystone's shape and leaves no event behind, so it can never pause the projection.
- POST /identity/v3/auth/tokens, unauthenticated, answers 400 or 401 to any body
  (fuzzed with hypothesis), never 500.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from control_plane.bootstrap import System, open_system
from control_plane.config import Settings
from control_plane.domain.errors import Invalid as BadRequest
from control_plane.domain.identity.aggregate import Project, RevokedToken, Role, User
from tests import keystone_fixtures
from tests.conftest import scratch_database
from tests.test_identity import login, password_auth

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
USER = {"name": "u", "domain_id": "default", "password_hash": None, "enabled": True,
        "email": None, "description": None, "default_project_id": None}

# the system under test authenticates with its own Keystone
ks, http = keystone_fixtures.ks, keystone_fixtures.http


def keystone_error(r: httpx.Response, code: int) -> str:
    assert r.status_code == code, r.text
    body = r.json()
    assert list(body) == ["error"] and body["error"]["code"] == code, body
    assert isinstance(body["error"]["title"], str) and body["error"]["title"]
    message: str = body["error"]["message"]
    return message


# -- the aggregates (no database) ---------------------------------------------------------


@pytest.mark.parametrize("fields", [
    {"email": 5}, {"name": 7}, {"name": ""}, {"name": "  "}, {"name": "x" * 256},
    {"name": "a\x00b"}, {"enabled": "yes"}, {"domain_id": "d" * 65},
    {"default_project_id": ["p"]}, {"description": "\x00"}, {"colour": "blue"},
])
def test_user_refuses_what_the_view_cannot_hold(fields: dict[str, Any]) -> None:
    with pytest.raises(BadRequest):
        User.create(uuid.uuid4(), NOW, **{**USER, **fields})


def test_updates_grants_roles_and_revocations_are_checked_too() -> None:
    user = User.create(uuid.uuid4(), NOW, **USER)
    for changes in ({"email": 5}, {"enabled": 1}, {"name": "n\x00"}, {"domain_id": "x"},
                    {"password_hash": "h"}):
        with pytest.raises(BadRequest):
            user.update(changes, NOW)
    user.update({"email": "u@example.org", "enabled": False}, NOW)
    project = Project.create(uuid.uuid4(), NOW, name="p", domain_id="default",
                             description=None, enabled=True)
    for changes in ({"description": 5}, {"name": None}, {"enabled": None}):
        with pytest.raises(BadRequest):
            project.update(changes, NOW)
    with pytest.raises(BadRequest):
        project.grant("u" * 65, "r", NOW)
    with pytest.raises(BadRequest):
        Role.create(uuid.uuid4(), NOW, name="r", description="d" * 256)
    with pytest.raises(BadRequest):
        RevokedToken.revoke(uuid.uuid4(), NOW, audit_id="a", user_id="u", expires_at=5)
    assert len(user.collect_events()) == 2  # created, updated once


# -- over HTTP ----------------------------------------------------------------------------


async def _events(system: System) -> int:
    async with system.pool.acquire() as conn:
        count: int = await conn.fetchval("SELECT position FROM event_head")
    return count


async def test_a_poison_user_is_refused_and_identity_keeps_working(
        ks: System, http: httpx.AsyncClient) -> None:
    """The black-box finding: {"email": 5} was accepted, the projection paused, and
    revocations, disables and role removals then answered success with no effect."""
    admin, _ = await login(http)
    h = {"X-Auth-Token": admin}
    before = await _events(ks)
    r = await http.post("/identity/v3/users", headers=h, json={"user": {"name": "u",
                                                                         "email": 5}})
    assert "email" in keystone_error(r, 400)
    assert await _events(ks) == before  # nothing appended
    assert not await ks.runner.behind()
    # revocation still takes effect
    other, _ = await login(http)
    r = await http.delete("/identity/v3/auth/tokens",
                          headers={"X-Auth-Token": admin, "X-Subject-Token": other})
    assert r.status_code == 204
    assert (await http.get("/v2.1/flavors", headers={"X-Auth-Token": other})
            ).status_code == 401


@pytest.mark.parametrize(("path", "method", "body"), [
    ("/users", "POST", {"user": {"name": "u", "email": 5}}),
    ("/users", "POST", {"user": {"name": "u", "enabled": "yes"}}),
    ("/users", "POST", {"user": {"name": "x" * 256}}),
    ("/users", "POST", {"user": {"name": "a\u0000b"}}),
    ("/users", "POST", {"user": {"name": "u", "description": "\u0000"}}),
    ("/users", "POST", {"user": {"name": "u", "domain_id": "d" * 65}}),
    ("/users", "POST", {"user": {"name": "u", "password": "p" * 4097}}),
    ("/users", "POST", {"user": {"name": "u", "default_project_id": 3}}),
    ("/users", "POST", {"user": "u"}),
    ("/users", "POST", {}),
    ("/projects", "POST", {"project": {"name": "p", "description": {"a": 1}}}),
    ("/projects", "POST", {"project": {"name": ["p"]}}),
    ("/projects", "POST", {"project": {"name": "p", "enabled": 1}}),
    ("/roles", "POST", {"role": {"name": "r", "description": "d" * 256}}),
    ("/roles", "POST", {"role": {"name": None}}),
])
async def test_bad_bodies_are_400_in_keystone_shape(
        ks: System, http: httpx.AsyncClient, path: str, method: str,
        body: dict[str, Any]) -> None:
    admin, _ = await login(http)
    before = await _events(ks)
    r = await http.request(method, f"/identity/v3{path}", headers={"X-Auth-Token": admin},
                           json=body)
    keystone_error(r, 400)
    assert await _events(ks) == before


async def test_bad_updates_and_ids_are_refused(ks: System, http: httpx.AsyncClient) -> None:
    admin, body = await login(http)
    h = {"X-Auth-Token": admin}
    user_id, project_id = body["user"]["id"], body["project"]["id"]
    before = await _events(ks)
    for change in ({"email": 5}, {"enabled": "false"}, {"name": "\u0000"}, {}):
        r = await http.patch(f"/identity/v3/users/{user_id}", headers=h,
                             json={"user": change})
        keystone_error(r, 400)
    for pchange in ({"description": 5}, {"name": "n" * 256}):
        r = await http.patch(f"/identity/v3/projects/{project_id}", headers=h,
                             json={"project": pchange})
        keystone_error(r, 400)
    assert await _events(ks) == before
    # ids and filters that cannot name anything: 404 and 400, never 500 (a NUL anywhere
    # in the URL is refused before routing)
    assert keystone_error(await http.get("/identity/v3/users/a%00b", headers=h), 400
                          ) == "Invalid input: the URL contains a NUL character"
    keystone_error(await http.get(f"/identity/v3/users/{'x' * 65}", headers=h), 404)
    keystone_error(await http.get("/identity/v3/users?name=a%00b", headers=h), 400)
    keystone_error(await http.get("/identity/v3/role_assignments?user.id=%00",
                                  headers=h), 400)
    keystone_error(await http.put(f"/identity/v3/projects/{project_id}/users/%00/roles/x",
                                  headers=h), 400)
    keystone_error(await http.put(f"/identity/v3/projects/{project_id}/users/u/roles/x",
                                  headers=h), 404)
    # a sound update still works
    r = await http.patch(f"/identity/v3/users/{user_id}", headers=h,
                         json={"user": {"email": "admin@example.org"}})
    assert r.status_code == 200 and r.json()["user"]["email"] == "admin@example.org"


@pytest.mark.parametrize("body", [
    b'{"auth": {"identity": {"methods": "password"}}}',
    b'{"auth": {"identity": {"methods": ["password"], "password": {"user": 5}}}}',
    b'{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": 5,'
    b' "password": "x"}}}}}',
    b'{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "a",'
    b' "domain": "default", "password": "x"}}}}}',
    b'{"auth": {"identity": {"methods": ["password"], "password": {"user": {"id": "a\\u0000",'
    b' "password": "x"}}}}}',
    b'{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin",'
    b' "domain": {"name": "Default"}, "password": 5}}}}}',
    b'{"auth": {"identity": {"methods": ["token"], "token": {"id": 5}}}}',
    b'{"auth": {"identity": {"methods": ["token"], "token": "x"}}}',
    b'{"auth": {"identity": {"methods": [null]}}}',
    b'{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin",'
    b' "domain": {"name": "Default"}, "password": "secret"}}}, "scope": {"project": 5}}}',
    b'{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin",'
    b' "domain": {"name": "Default"}, "password": "secret"}}}, "scope": {"project":'
    b' {"id": 5}}}}',
    b'{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin",'
    b' "domain": {"name": "Default"}, "password": "secret"}}}, "scope": {"project":'
    b' {"name": "admin", "domain": {"name": "a\\u0000"}}}}}',
    b'{"auth": "x"}', b'{"auth": {"identity": 5}}', b'[]', b'"x"', b'{',
])
async def test_malformed_token_requests_are_400(http: httpx.AsyncClient, body: bytes) -> None:
    keystone_error(await http.post("/identity/v3/auth/tokens", content=body), 400)


async def test_huge_strings_are_400_and_good_requests_still_work(
        http: httpx.AsyncClient) -> None:
    for auth in (password_auth("x" * 100000, "secret"), password_auth("admin", "s" * 100000),
                 password_auth("admin", "secret", "p" * 100000)):
        r = await http.post("/identity/v3/auth/tokens", json=auth)
        message = keystone_error(r, 400)
        assert len(message) < 300  # the value is never echoed back
    await login(http)


# -- fuzzing: any body is 400 or 401, never 500 ------------------------------------------

JSON_LEAVES = (st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1)
               | st.floats(allow_nan=False, allow_infinity=False)
               | st.text(max_size=12) | st.sampled_from(["", "\x00", "a\x00", "x" * 9000,
                                                        "password", "token", "default"]))
JSON = st.recursive(JSON_LEAVES, lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)

TEMPLATE: dict[str, Any] = {"auth": {
    "identity": {"methods": ["password", "token"],
                 "password": {"user": {"name": "admin", "id": "x",
                                       "domain": {"name": "Default", "id": "default"},
                                       "password": "secret"}},
                 "token": {"id": "gAAAA"}},
    "scope": {"project": {"name": "admin", "id": "y",
                          "domain": {"name": "Default", "id": "default"}}}}}


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


PATHS = _paths(TEMPLATE)


@st.composite
def token_requests(draw: st.DrawFn) -> bytes:
    """A valid request with a few parts replaced by anything or removed, or raw junk."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=64) | st.sampled_from(
            [b"1e999", b"99999999999999999999999", b'{"auth": {"identity": "\\ud800"}}']))
    body: Any = orjson.loads(orjson.dumps(TEMPLATE))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        if not path:
            body = draw(JSON)
            continue
        parent = body
        for key in path[:-1]:
            if isinstance(parent, dict) and key in parent:
                parent = parent[key]
            elif isinstance(parent, list) and isinstance(key, int) and key < len(parent):
                parent = parent[key]
            else:
                parent = None
                break
        last = path[-1]
        if isinstance(parent, dict) and last in parent:
            if draw(st.booleans()):
                del parent[last]
            else:
                parent[last] = draw(JSON)
        elif isinstance(parent, list) and isinstance(last, int) and last < len(parent):
            parent[last] = draw(JSON)
    return orjson.dumps(body)


def test_fuzzed_token_requests_are_never_500(server_url: str, template_db: str) -> None:
    loop = asyncio.new_event_loop()

    async def start() -> tuple[Any, System, httpx.AsyncClient]:
        database = scratch_database(server_url, template_db)
        dsn = await database.__aenter__()
        system = await open_system(dsn, Settings(auth_strategy="keystone"), pool_size=4)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=system.app()),
                                   base_url="http://cloud")
        return database, system, client

    database, system, client = loop.run_until_complete(start())
    seen: dict[int, bytes] = {}
    try:
        @settings(max_examples=400, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(body=token_requests())
        def check(body: bytes) -> None:
            r = loop.run_until_complete(client.post("/identity/v3/auth/tokens",
                                                    content=body))
            seen.setdefault(r.status_code, body)
            assert r.status_code in (201, 400, 401), (r.status_code, body[:300], r.text)
            if r.status_code != 201:
                error = r.json()["error"]
                assert error["code"] == r.status_code and error["title"] and \
                    isinstance(error["message"], str)

        check()
        assert {400, 401} <= set(seen)
    finally:
        async def stop() -> None:
            await client.aclose()
            await system.close()
            await database.__aexit__(None, None, None)

        loop.run_until_complete(stop())
        loop.close()
