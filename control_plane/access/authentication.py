"""Authentication: password and token checks, token validation for the compute API.

Three strategies (``CONTROL_PLANE_AUTH_STRATEGY``):
  keystone           tokens issued by the built-in identity service (default)
  keystone-external  tokens validated against a real Keystone (``CONTROL_PLANE_KEYSTONE_URL``),
                     as keystonemiddleware does, with a short cache
  noauth             development only: ``X-Auth-Token: <user>:<project>`` or the
                     X-User-Id/X-Project-Id/X-Roles headers are trusted as they are
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx

from control_plane.access.passwords import verify_password
from control_plane.access.tokens import TokenPayload, TokenProvider
from control_plane.api.faults import ServiceUnavailable
from control_plane.context import RequestContext
from projections.identity import queries

IMPLIED_ROLES = {"admin": ("member", "reader"), "manager": ("member", "reader"),
                 "member": ("reader",)}
DEFAULT_DOMAIN = {"id": "default", "name": "Default"}
ALL_IMPLIED = sorted({r for implied in IMPLIED_ROLES.values() for r in implied})

STALE = "The identity service is catching up with recent changes; try again shortly."


def expand_roles(names: list[str]) -> tuple[str, ...]:
    out: list[str] = []
    for name in names:
        for role in (name, *IMPLIED_ROLES.get(name, ())):
            if role not in out:
                out.append(role)
    return tuple(out)


@dataclass(frozen=True)
class Validated:
    payload: TokenPayload
    user: dict[str, Any]
    project: dict[str, Any] | None
    roles: list[dict[str, str]]  # [{"id", "name"}], implied roles included

    def context(self, request_id: str) -> RequestContext:
        return RequestContext(
            user_id=self.user["id"], project_id=self.project["id"] if self.project else "",
            roles=tuple(r["name"] for r in self.roles), request_id=request_id)


class Authenticator:
    def __init__(self, pool: asyncpg.Pool, tokens: TokenProvider, cache_seconds: float = 5.0
                 ) -> None:
        self.pool = pool
        self.tokens = tokens
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, Validated]] = {}
        self._generation = 0  # bumped by every invalidation, so no stale entry comes back

    async def check_password(self, user_ref: dict[str, Any], password: str
                             ) -> dict[str, Any] | None:
        async with self.pool.acquire() as conn:
            if user_ref.get("id"):
                user = await queries.user(conn, user_ref["id"])
            else:
                user = await queries.user_named(conn, user_ref.get("name"),
                                                _domain_id(user_ref.get("domain") or {}))
        if user is None or not user["enabled"]:
            return None
        ok = await asyncio.get_running_loop().run_in_executor(
            None, verify_password, password, user["password_hash"])
        return user if ok else None

    async def find_project(self, ref: dict[str, Any]) -> dict[str, Any] | None:
        async with self.pool.acquire() as conn:
            if ref.get("id"):
                return await queries.project(conn, ref["id"])
            return await queries.project_named(conn, ref.get("name"),
                                               _domain_id(ref.get("domain") or {}))

    async def roles(self, user_id: str, project_id: str) -> list[dict[str, str]]:
        async with self.pool.acquire() as conn:
            rows = await queries.roles_on_project(conn, user_id, project_id)
            named = {r["name"]: r["id"] for r in rows}
            implied = [n for n in expand_roles(list(named)) if n not in named]
            if implied:
                named.update(await queries.role_ids(conn, implied))
        return [{"id": i, "name": n} for n, i in named.items()]

    async def validate(self, token: str) -> Validated | None:
        """A token's full meaning, or None if it is not valid now.

        Raises ServiceUnavailable when the identity views are behind the log (then
        nothing they say about revocations, users and grants can be trusted)."""
        cached = self._cache.get(token)
        if cached is not None and cached[0] > time.monotonic() \
                and not cached[1].payload.expired:
            return cached[1]
        payload = self.tokens.decode(token)
        if payload is None or payload.expired:
            return None
        generation = self._generation
        async with self.pool.acquire() as conn:
            row = await queries.token_facts(conn, payload.audit_id, payload.user_id,
                                            payload.project_id, ALL_IMPLIED)
        if not row["fresh"]:
            raise ServiceUnavailable(STALE)
        user, project = row["usr"], row["prj"]
        if row["revoked"] or user is None or not user["enabled"]:
            return None
        if payload.project_id is not None and (project is None or not project["enabled"]):
            return None
        roles: list[dict[str, str]] = []
        if project is not None:
            named = {name: role_id for role_id, name in row["assigned"]}
            if not named:
                return None  # the user lost every role on the project
            for name in expand_roles(list(named)):
                if name not in named and name in row["implied"]:
                    named[name] = row["implied"][name]
            roles = [{"id": i, "name": n} for n, i in named.items()]
        result = Validated(payload, user, project, roles)
        if generation == self._generation:
            self._remember(token, result)
        return result

    def _remember(self, token: str, result: Validated) -> None:
        """Cache a validation, never past the token's expiry."""
        left = (result.payload.expires_at - dt.datetime.now(dt.UTC)).total_seconds()
        lifetime = min(self.cache_seconds, left)
        if lifetime <= 0:
            return
        if len(self._cache) > 10000:
            self._cache.clear()
        self._cache[token] = (time.monotonic() + lifetime, result)

    def forget(self, token: str) -> None:
        self._generation += 1
        self._cache.pop(token, None)

    def invalidate(self) -> None:
        """Drop every cached validation (after an identity change made here)."""
        self._generation += 1
        self._cache.clear()


def _domain_id(ref: dict[str, Any]) -> str:
    if ref.get("id"):
        return str(ref["id"])
    if str(ref.get("name", "")).lower() == "default":
        return "default"
    return str(ref.get("name") or "default")


class ExternalKeystone:
    """Validates tokens against a real Keystone (GET /v3/auth/tokens), with a cache."""

    def __init__(self, url: str, service_token: str | None, cache_seconds: float = 60.0
                 ) -> None:
        self.url = url.rstrip("/")
        self.service_token = service_token
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, RequestContext | None]] = {}
        self._http = httpx.AsyncClient(timeout=10.0)

    async def context(self, token: str, request_id: str) -> RequestContext | None:
        cached = self._cache.get(token)
        if cached is not None and cached[0] > time.monotonic():
            ctx = cached[1]
            return None if ctx is None else RequestContext(
                ctx.user_id, ctx.project_id, ctx.roles, request_id)
        try:
            r = await self._http.get(
                f"{self.url}/v3/auth/tokens",
                headers={"X-Auth-Token": self.service_token or token, "X-Subject-Token": token})
        except httpx.HTTPError:
            raise ServiceUnavailable("The identity service could not be reached.") from None
        if r.status_code >= 500:  # Keystone cannot answer now: say so, remember nothing
            raise ServiceUnavailable("The identity service is unavailable.")
        ctx = None
        lifetime = self.cache_seconds
        if r.status_code == 200:
            body = r.json()["token"]
            expires = dt.datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
            left = (expires - dt.datetime.now(dt.UTC)).total_seconds()
            if left > 0 and body.get("project"):
                ctx = RequestContext(
                    user_id=body["user"]["id"], project_id=body["project"]["id"],
                    roles=expand_roles([role["name"] for role in body.get("roles", [])]),
                    request_id=request_id)
                lifetime = min(lifetime, left)  # never served past the token's expiry
        self._cache[token] = (time.monotonic() + lifetime, ctx)
        return ctx

    async def close(self) -> None:
        await self._http.aclose()
