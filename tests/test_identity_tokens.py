"""Token validation: fails closed, is authorized as Keystone's, and its cache never lies.

- When the identity projection is behind the log (paused, failed, skipped), every
  validation answers 503 rather than trusting stale grants and revocations.
- GET/HEAD/DELETE /auth/tokens: admin, service, or the token's own user (else 403).
- A cached validation never outlives its token; changes made here are seen at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import httpx
import pytest

from control_plane.access.authentication import ExternalKeystone
from control_plane.api.faults import ServiceUnavailable
from control_plane.bootstrap import System
from tests import keystone_fixtures
from tests.test_identity import login
from tests.test_identity_validation import keystone_error

# the system under test authenticates with its own Keystone
ks, http = keystone_fixtures.ks, keystone_fixtures.http


async def _member(http: httpx.AsyncClient, admin: str, name: str, role: str = "member"
                  ) -> tuple[str, str]:
    """A new user with ``role`` on the admin project: (user id, project-scoped token)."""
    h = {"X-Auth-Token": admin}
    user = (await http.post("/identity/v3/users", headers=h, json={"user": {
        "name": name, "password": "pw"}})).json()["user"]
    project = (await http.get("/identity/v3/projects?name=admin", headers=h)
               ).json()["projects"][0]
    role_id = (await http.get(f"/identity/v3/roles?name={role}", headers=h)
               ).json()["roles"][0]["id"]
    r = await http.put(f"/identity/v3/projects/{project['id']}/users/{user['id']}/roles/"
                       f"{role_id}", headers=h)
    assert r.status_code == 204
    token, _ = await login(http, name, "pw", "admin")
    return user["id"], token


# -- fail closed --------------------------------------------------------------------------


async def test_a_paused_identity_projection_refuses_tokens(
        ks: System, http: httpx.AsyncClient) -> None:
    admin, _ = await login(http)
    _, token = await _member(http, admin, "demo")
    h = {"X-Auth-Token": token}
    assert (await http.get("/v2.1/flavors", headers=h)).status_code == 200
    await ks.runner.pause("identity")
    # the revocation is recorded, but the paused view cannot show it
    r = await http.delete("/identity/v3/auth/tokens",
                          headers={"X-Auth-Token": token, "X-Subject-Token": token})
    assert r.status_code == 204
    r = await http.get("/v2.1/flavors", headers=h)
    assert r.status_code == 503, r.text  # not 200: the revocation is not forgotten
    r = await http.get("/identity/v3/auth/tokens",
                       headers={"X-Auth-Token": admin, "X-Subject-Token": token})
    assert "catching up" in keystone_error(r, 503)
    r = await http.post("/identity/v3/auth/tokens", json={"auth": {"identity": {
        "methods": ["password"], "password": {"user": {
            "name": "demo", "domain": {"id": "default"}, "password": "pw"}}}}})
    keystone_error(r, 503)
    await ks.runner.resume("identity")
    assert (await http.get("/v2.1/flavors", headers=h)).status_code == 401
    assert (await http.get("/v2.1/flavors", headers={"X-Auth-Token": admin})
            ).status_code == 200


async def test_an_identity_projection_behind_the_head_refuses_tokens(
        ks: System, http: httpx.AsyncClient) -> None:
    admin, _ = await login(http)
    ks.authenticator.invalidate()
    # as if the inline path had skipped the last event (the runner has not caught up)
    async with ks.pool.acquire() as conn:
        await conn.execute("UPDATE tracking SET position = position - 1"
                           " WHERE name = 'projection:identity'")
    r = await http.get("/v2.1/flavors", headers={"X-Auth-Token": admin})
    assert r.status_code == 503, r.text
    with pytest.raises(ServiceUnavailable):
        await ks.authenticator.validate(admin)
    await ks.runner.catch_up()
    assert (await http.get("/v2.1/flavors", headers={"X-Auth-Token": admin})
            ).status_code == 200


async def test_a_dead_lettered_identity_event_refuses_tokens_until_resolved(
        ks: System, http: httpx.AsyncClient) -> None:
    """Dead-lettering lets other projections go on; identity fails closed instead, since
    the event it could not apply may be a revocation or a role removal."""
    admin, _ = await login(http)
    ks.authenticator.invalidate()
    async with ks.pool.acquire() as conn:
        event = (await ks.store.read_all(0, 1))[0]
        await conn.execute(
            "INSERT INTO dead_letters (consumer, position, stream_id, event_type, error)"
            " VALUES ('projection:identity', $1, $2, $3, 'boom')",
            event.position, event.stream_id, event.event_type)
    r = await http.get("/v2.1/flavors", headers={"X-Auth-Token": admin})
    assert r.status_code == 503, r.text
    assert await ks.runner.skip("projection:identity") == 1  # the operator's decision
    ks.authenticator.invalidate()
    assert (await http.get("/v2.1/flavors", headers={"X-Auth-Token": admin})
            ).status_code == 200


# -- who may validate and revoke a token ----------------------------------------------------


async def test_only_admin_service_or_the_owner_may_validate_or_revoke(
        http: httpx.AsyncClient) -> None:
    admin, _ = await login(http)
    _, alice = await _member(http, admin, "alice")
    _, bob = await _member(http, admin, "bob")
    _, nova = await _member(http, admin, "nova", role="service")

    def about(caller: str, subject: str) -> dict[str, str]:
        return {"X-Auth-Token": caller, "X-Subject-Token": subject}

    for method in ("GET", "HEAD", "DELETE"):
        r = await http.request(method, "/identity/v3/auth/tokens", headers=about(bob, alice))
        assert r.status_code == 403, (method, r.text)
        if method != "HEAD":
            assert keystone_error(r, 403).startswith("You are not authorized")
    for caller in (alice, admin, nova):
        r = await http.get("/identity/v3/auth/tokens", headers=about(caller, alice))
        assert r.status_code == 200 and r.json()["token"]["user"]["name"] == "alice"
        assert (await http.head("/identity/v3/auth/tokens", headers=about(caller, alice))
                ).status_code == 200
    # the service role may revoke another user's token; then it is gone at once
    r = await http.delete("/identity/v3/auth/tokens", headers=about(nova, alice))
    assert r.status_code == 204
    assert (await http.get("/v2.1/flavors", headers={"X-Auth-Token": alice})
            ).status_code == 401
    r = await http.delete("/identity/v3/auth/tokens", headers=about(admin, bob))
    assert r.status_code == 204


# -- the validation cache ---------------------------------------------------------------------


async def test_the_cache_never_serves_a_token_past_its_expiry(
        ks: System, http: httpx.AsyncClient) -> None:
    _, body = await login(http)
    authn = ks.authenticator
    authn.cache_seconds = 3600.0
    soon = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=2)
    token, _ = authn.tokens.issue(body["user"]["id"], body["project"]["id"], ("password",),
                                  expires_at=soon)
    assert await authn.validate(token) is not None
    assert authn._cache[token][0] - time.monotonic() <= 2.0  # capped at the expiry
    await asyncio.sleep((soon - dt.datetime.now(dt.UTC)).total_seconds() + 0.05)
    assert await authn.validate(token) is None
    assert (await http.get("/v2.1/flavors", headers={"X-Auth-Token": token})
            ).status_code == 401


async def test_identity_changes_here_are_seen_at_once(ks: System,
                                                      http: httpx.AsyncClient) -> None:
    admin, _ = await login(http)
    ks.authenticator.cache_seconds = 3600.0
    h = {"X-Auth-Token": admin}
    user_id, token = await _member(http, admin, "carol")
    uh = {"X-Auth-Token": token}
    assert (await http.get("/v2.1/flavors", headers=uh)).status_code == 200  # cached now
    r = await http.patch(f"/identity/v3/users/{user_id}", headers=h,
                         json={"user": {"enabled": False}})
    assert r.status_code == 200
    assert (await http.get("/v2.1/flavors", headers=uh)).status_code == 401
    r = await http.patch(f"/identity/v3/users/{user_id}", headers=h,
                         json={"user": {"enabled": True}})
    assert (await http.get("/v2.1/flavors", headers=uh)).status_code == 200
    project = (await http.get("/identity/v3/projects?name=admin", headers=h)
               ).json()["projects"][0]
    member = (await http.get("/identity/v3/roles?name=member", headers=h)
              ).json()["roles"][0]["id"]
    r = await http.delete(f"/identity/v3/projects/{project['id']}/users/{user_id}/roles/"
                          f"{member}", headers=h)
    assert r.status_code == 204
    assert (await http.get("/v2.1/flavors", headers=uh)).status_code == 401


async def test_an_external_keystone_is_trusted_no_longer_than_it_says() -> None:
    """keystone-external: a 5xx or an unreachable Keystone is a 503 and is not cached as
    'invalid'; a valid token is cached no later than its expiry."""
    answers: list[httpx.Response] = []

    def keystone(request: httpx.Request) -> httpx.Response:
        return answers.pop(0)

    ext = ExternalKeystone("http://keystone/identity", None, cache_seconds=3600.0)
    await ext._http.aclose()
    ext._http = httpx.AsyncClient(transport=httpx.MockTransport(keystone))
    try:
        answers.append(httpx.Response(503))
        with pytest.raises(ServiceUnavailable):
            await ext.context("tok", "req-1")
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
        answers.append(httpx.Response(200, json={"token": {
            "expires_at": expires.isoformat().replace("+00:00", "Z"),
            "user": {"id": "u"}, "project": {"id": "p"}, "roles": [{"name": "member"}]}}))
        ctx = await ext.context("tok", "req-2")
        assert ctx is not None and ctx.roles == ("member", "reader")
        assert ext._cache["tok"][0] - time.monotonic() <= 2.0
    finally:
        await ext.close()
