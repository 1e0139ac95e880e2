"""Golden responses: a scripted walk over the compute, image and identity APIs.

Every response (status, the headers that matter, the JSON body) is compared with the
committed fixture tests/golden/responses.json, so a structural re-cut of the source tree
can prove that no API response changed.

    CONTROL_PLANE_GOLDEN_UPDATE=1 pytest tests/test_golden_responses.py   # rewrite it

What legitimately varies between runs is normalized: UUIDs become "<uuid:N>" numbered by
first appearance in the run, timestamps "<time>", request ids "<request-id>", generated
keys, fingerprints, passwords and tokens "<secret>" (or "<secret:N>" where they are reused
in a later path), names derived from random ids ("instance-<hex>", "r-<hex>"), the fake
driver's diagnostics counters "<number>". Nothing the API orders is sorted. Host names and
hostId are kept: the scheduler's choice is deterministic (most free RAM, ties by name) and
each mutating request is settled (no task in progress) before the next one, so the event
positions in os-history are stable too. The run assumes the default Settings: the
CONTROL_PLANE_* environment variables (quotas, periodic windows, console URLs) change
responses. /openapi.json is recorded as its list of operations, which this walk covers.
"""

from __future__ import annotations

import asyncio
import difflib
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import orjson
import pytest

from tests.conftest import IMAGE, IMAGE_ALT

GOLDEN = Path(__file__).parent / "golden" / "responses.json"
UPDATE = os.environ.get("CONTROL_PLANE_GOLDEN_UPDATE") == "1"
MAX = "2.14"

HEADERS = ("content-type", "location", "openstack-api-version",
           "x-openstack-nova-api-version", "x-subject-token")
# values generated per run (keys, passwords, tokens): masked wherever they appear
SECRET_KEYS = {"private_key", "public_key", "fingerprint", "adminPass", "password",
               "x-subject-token", "token", "id_token", "secret", "audit_ids"}

UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                  r"[0-9a-fA-F]{12}")
REQUEST_ID = re.compile(r"req-<uuid:\d+>")
HEX_ID = re.compile(r"\b[0-9a-f]{32}\b")  # Keystone's ids
TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?")
# the history's summaries cut long values: a cut UUID or time is no longer whole
CUT = re.compile(r"=(?:[0-9a-f][0-9a-f-]*|\d{4}-\d{2}-\d{2}T[\d:]*)\.\.\.")
# names derived from random ids: instance-1a2b3c4d, r-1a2b3c4d (reservations)
DERIVED = re.compile(r"\b(instance|r)-[0-9a-f]{8}\b")


class Recorder:
    """Sends requests and keeps their normalized exchanges, in order."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.uuids: dict[str, str] = {}
        self.secrets: dict[str, str] = {}
        self.entries: list[dict[str, Any]] = []

    # -- normalization --------------------------------------------------------------------

    def secret(self, value: str) -> None:
        """A generated value that later requests reuse (a token in a path)."""
        self.secrets.setdefault(value, f"<secret:{len(self.secrets) + 1}>")

    def text(self, s: str) -> str:
        for value, placeholder in self.secrets.items():
            s = s.replace(value, placeholder)

        def uuid(m: re.Match[str]) -> str:
            key = m.group(0).lower()
            return self.uuids.setdefault(key, f"<uuid:{len(self.uuids) + 1}>")

        s = UUID.sub(uuid, s)
        s = HEX_ID.sub(lambda m: self.uuids.setdefault(
            m.group(0), f"<id:{len(self.uuids) + 1}>"), s)
        s = REQUEST_ID.sub("<request-id>", s)
        s = TIME.sub("<time>", s)
        s = CUT.sub("=<cut>...", s)
        return DERIVED.sub(r"\1-<hex>", s)

    def norm(self, value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: self.norm(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.norm(v, key) for v in value]
        if isinstance(value, str):
            if key in SECRET_KEYS and value and value not in self.secrets:
                return "<secret>"
            return self.text(value)
        return value

    # -- requests -------------------------------------------------------------------------

    async def call(self, method: str, path: str, body: Any = None, *,
                   as_: str = "alice:project-a", version: str | None = None,
                   token: str | None = None, raw: bytes | None = None,
                   headers: dict[str, str] | None = None, record: bool = True
                   ) -> httpx.Response:
        h: dict[str, str] = {}
        if token is not None:
            h["X-Auth-Token"] = token
            as_ = token
        elif path.startswith("/identity"):
            as_ = "-"
        else:
            h["X-Auth-Token"] = as_
        if version is not None:
            h["X-OpenStack-Nova-API-Version"] = version
        h.update(headers or {})
        if raw is not None:
            h["Content-Type"] = "application/json"
            r = await self.http.request(method, path, content=raw, headers=h)
        else:
            r = await self.http.request(method, path, json=body, headers=h)
        if record:
            self.record(method, path, body if raw is None else raw.decode(), as_, version, r)
        return r

    def record(self, method: str, path: str, body: Any, as_: str, version: str | None,
               r: httpx.Response) -> None:
        entry: dict[str, Any] = {"request": self.norm(
            {"method": method, "path": path, "as": as_, "microversion": version,
             "body": body})}
        headers = {}
        for name in HEADERS:
            if name in r.headers:
                headers[name] = ("<secret>" if name in SECRET_KEYS
                                 else self.text(r.headers[name]))
        content: Any = None
        if r.content:
            if "json" in r.headers.get("content-type", ""):
                content = r.json()
                if r.request.url.path == "/openapi.json":
                    # the document is big: its list of operations stands for it
                    content = [f"{m.upper()} {p}" for p, ops in content["paths"].items()
                               for m in ops]
            else:
                content = r.text
            if r.request.url.path.endswith("/diagnostics") and r.status_code == 200:
                # the fake driver's counters grow with the wall clock
                content = {k: "<number>" if isinstance(v, int | float) else v
                           for k, v in content.items()}
        entry["response"] = {"status": r.status_code, "headers": headers,
                             "body": self.norm(content)}
        self.entries.append(entry)

    # -- settling -------------------------------------------------------------------------

    async def until(self, path: str, check: Any, as_: str = "alice:project-a",
                    timeout: float = 15.0) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            r = await self.call("GET", path, as_=as_, version=MAX, record=False)
            body: dict[str, Any] = r.json() if r.content else {}
            if check(r.status_code, body):
                return body
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{path} never settled: {r.status_code} {r.text}")
            await asyncio.sleep(0.02)

    async def server_status(self, sid: str, *statuses: str, as_: str = "alice:project-a"
                            ) -> None:
        def done(code: int, body: dict[str, Any]) -> bool:
            if "DELETED" in statuses and code == 404:
                return True
            server = body.get("server", {})
            return (code == 200 and server.get("status") in statuses
                    and server.get("OS-EXT-STS:task_state") is None)
        await self.until(f"/v2.1/servers/{sid}", done, as_=as_)

    async def volume_status(self, vid: str, status: str) -> None:
        await self.until(f"/v2.1/os-volumes/{vid}",
                         lambda c, b: c == 200 and b["volume"]["status"] == status)


ADMIN = "admin:admin"
BOB = "bob:project-b"


async def scenario(rec: Recorder) -> None:
    c = rec.call

    # -- version documents, extensions, openapi --------------------------------------------
    for path in ("/", "/v2.1", "/v2.1/", "/v2", "/compute/", "/v2.1/project-a",
                 "/image", "/image/", "/image/versions", "/identity", "/identity/",
                 "/identity/v3", "/identity/v3/"):
        await c("GET", path)
    await c("GET", "/openapi.json")
    await c("GET", "/v2.1/extensions")
    await c("GET", "/v2.1/extensions/os-keypairs")
    await c("GET", "/v2.1/extensions/os-nothing")
    await c("GET", "/v2.1/servers", version="2.99")
    await c("GET", "/v2.1/servers", version="nonsense")
    await c("GET", "/v2.1/os-nothing")

    # -- flavors ----------------------------------------------------------------------------
    await c("GET", "/v2.1/flavors")
    await c("GET", "/v2.1/flavors/detail")
    await c("GET", "/v2.1/flavors/detail?minRam=1024&limit=2")
    await c("GET", "/v2.1/flavors?marker=1&limit=2")
    await c("GET", "/v2.1/flavors/1")
    await c("GET", "/v2.1/flavors/1", version=MAX)
    await c("GET", "/v2.1/flavors/nope")
    await c("POST", "/v2.1/flavors", {"flavor": {"name": "gold", "ram": 512, "vcpus": 1,
                                                 "disk": 1, "id": "gold"}})
    await c("POST", "/v2.1/flavors", {"flavor": {"name": "gold", "ram": 512, "vcpus": 1,
                                                 "disk": 1, "id": "gold"}}, as_=ADMIN)
    await c("POST", "/v2.1/flavors", {"flavor": {"name": "gold", "ram": 512, "vcpus": 1,
                                                 "disk": 1, "id": "gold"}}, as_=ADMIN)
    await c("POST", "/v2.1/flavors", {"flavor": {"name": "bad", "ram": -1, "vcpus": 1,
                                                 "disk": 1}}, as_=ADMIN)
    await c("POST", "/v2.1/flavors", {"flavor": {
        "name": "secret", "ram": 256, "vcpus": 1, "disk": 1, "id": "private-1",
        "os-flavor-access:is_public": False}}, as_=ADMIN)
    await c("POST", "/v2.1/flavors/os-flavor-manage", {"flavor": {
        "name": "managed", "ram": 128, "vcpus": 1, "disk": 0, "id": "managed"}}, as_=ADMIN)
    await c("DELETE", "/v2.1/flavors/os-flavor-manage/managed", as_=ADMIN)
    await c("GET", "/v2.1/flavors/private-1/os-flavor-access", as_=ADMIN)
    await c("POST", "/v2.1/flavors/private-1/action",
            {"addTenantAccess": {"tenant": "project-a"}}, as_=ADMIN)
    await c("POST", "/v2.1/flavors/private-1/action",
            {"addTenantAccess": {"tenant": "project-a"}}, as_=ADMIN)
    await c("GET", "/v2.1/flavors/private-1/os-flavor-access", as_=ADMIN)
    await c("GET", "/v2.1/flavors/private-1")
    await c("GET", "/v2.1/flavors/private-1", as_=BOB)
    await c("POST", "/v2.1/flavors/private-1/action",
            {"removeTenantAccess": {"tenant": "project-a"}}, as_=ADMIN)
    await c("POST", "/v2.1/flavors/gold/action",
            {"addTenantAccess": {"tenant": "project-a"}}, as_=ADMIN)
    await c("POST", "/v2.1/flavors/gold/os-extra_specs",
            {"extra_specs": {"hw:cpu_policy": "shared", "quota:cpu_shares": "100"}},
            as_=ADMIN)
    await c("GET", "/v2.1/flavors/gold/os-extra_specs")
    await c("GET", "/v2.1/flavors/gold/os-extra_specs/hw:cpu_policy")
    await c("PUT", "/v2.1/flavors/gold/os-extra_specs/hw:cpu_policy",
            {"hw:cpu_policy": "dedicated"}, as_=ADMIN)
    await c("PUT", "/v2.1/flavors/gold/os-extra_specs/hw:cpu_policy",
            {"other": "x"}, as_=ADMIN)
    await c("DELETE", "/v2.1/flavors/gold/os-extra_specs/quota:cpu_shares", as_=ADMIN)
    await c("GET", "/v2.1/flavors/gold/os-extra_specs/quota:cpu_shares")
    await c("POST", "/v2.1/flavors/gold/os-extra_specs", {"extra_specs": {"a": "b"}})
    await c("GET", "/v2.1/flavors/gold", version=MAX)
    await c("DELETE", "/v2.1/flavors/gold", as_=ADMIN)
    await c("DELETE", "/v2.1/flavors/gold", as_=ADMIN)

    # -- keypairs ---------------------------------------------------------------------------
    await c("POST", "/v2.1/os-keypairs", {"keypair": {"name": "gen"}})
    await c("POST", "/v2.1/os-keypairs", {"keypair": {"name": "gen"}})
    await c("POST", "/v2.1/os-keypairs", {"keypair": {"name": "x509", "type": "x509"}},
            version=MAX)
    await c("POST", "/v2.1/os-keypairs", {"keypair": {"name": "bad name!"}})
    await c("GET", "/v2.1/os-keypairs")
    await c("GET", "/v2.1/os-keypairs", version=MAX)
    await c("GET", "/v2.1/os-keypairs/gen")
    await c("GET", "/v2.1/os-keypairs/gen", version=MAX)
    await c("GET", "/v2.1/os-keypairs/gen", as_=BOB)
    await c("GET", "/v2.1/os-keypairs?user_id=alice", as_=ADMIN, version=MAX)
    await c("DELETE", "/v2.1/os-keypairs/x509", version=MAX)
    await c("DELETE", "/v2.1/os-keypairs/x509")

    # -- images: compute proxy and Glance ---------------------------------------------------
    await c("GET", "/v2.1/images")
    await c("GET", "/v2.1/images/detail")
    await c("GET", "/v2.1/images/detail?limit=1")
    await c("GET", f"/v2.1/images/{IMAGE}")
    await c("GET", "/v2.1/images/00000000-0000-0000-0000-000000000000")
    await c("GET", f"/v2.1/images/{IMAGE}/metadata")
    await c("GET", f"/v2.1/images/{IMAGE}/metadata/nope")
    await c("PUT", f"/v2.1/images/{IMAGE}/metadata", {"metadata": {"x": "1"}})
    await c("POST", f"/v2.1/images/{IMAGE}/metadata", {"metadata": {"k": "v"}}, as_=ADMIN)
    await c("PUT", f"/v2.1/images/{IMAGE}/metadata/k", {"meta": {"k": "w"}}, as_=ADMIN)
    await c("PUT", f"/v2.1/images/{IMAGE}/metadata/k", {"meta": {"j": "w"}}, as_=ADMIN)
    await c("GET", f"/v2.1/images/{IMAGE}/metadata/k")
    await c("DELETE", f"/v2.1/images/{IMAGE}/metadata/k", as_=ADMIN)
    await c("DELETE", f"/v2.1/images/{IMAGE}")
    await c("GET", "/image/v2/images")
    await c("GET", f"/image/v2/images/{IMAGE_ALT}")
    await c("GET", "/image/v2/images/nope")

    # -- limits, quotas, availability zones -------------------------------------------------
    await c("GET", "/v2.1/limits")
    await c("GET", "/v2.1/os-quota-sets/project-a")
    await c("GET", "/v2.1/os-quota-sets/project-a/detail")
    await c("GET", "/v2.1/os-quota-sets/project-a/defaults")
    await c("GET", "/v2.1/os-quota-sets/project-b")
    await c("GET", "/v2.1/os-availability-zone")
    await c("GET", "/v2.1/os-availability-zone/detail", as_=ADMIN)
    await c("GET", "/v2.1/os-availability-zone/detail")

    # -- servers ----------------------------------------------------------------------------
    await c("POST", "/v2.1/os-keypairs", {"keypair": {"name": "mine", "public_key":
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
            " golden"}})
    r = await c("POST", "/v2.1/servers", {"server": {
        "name": "web", "flavorRef": "1", "imageRef": IMAGE, "key_name": "mine",
        "metadata": {"role": "web"}}})
    web = r.json()["server"]["id"]
    await rec.server_status(web, "ACTIVE")
    r = await c("POST", "/v2.1/servers", {"server": {
        "name": "db", "flavorRef": "2", "imageRef": IMAGE_ALT}}, version=MAX)
    dbs = r.json()["server"]["id"]
    await rec.server_status(dbs, "ACTIVE")
    await c("POST", "/v2.1/servers", {"server": {"name": "x", "flavorRef": "nope",
                                                 "imageRef": IMAGE}})
    await c("POST", "/v2.1/servers", {"server": {"name": "x", "flavorRef": "1",
                                                 "imageRef": "not-an-image"}})
    await c("POST", "/v2.1/servers", {"server": {"flavorRef": "1", "imageRef": IMAGE}})
    await c("POST", "/v2.1/servers", raw=b"{not json")
    await c("POST", "/v2.1/servers", {"server": {"name": "x", "flavorRef": "1",
                                                 "imageRef": IMAGE, "key_name": "none"}})
    for version in (None, MAX):
        await c("GET", "/v2.1/servers", version=version)
        await c("GET", "/v2.1/servers/detail", version=version)
        await c("GET", f"/v2.1/servers/{web}", version=version)
    await c("GET", "/v2.1/servers?name=web")
    await c("GET", "/v2.1/servers/detail?status=ACTIVE&flavor=2")
    await c("GET", "/v2.1/servers/detail?limit=1")
    await c("GET", f"/v2.1/servers/detail?limit=1&marker={dbs}")
    await c("GET", "/v2.1/servers?marker=00000000-0000-0000-0000-000000000000")
    await c("GET", "/v2.1/servers?limit=-1")
    await c("GET", "/v2.1/servers/detail?all_tenants=1", as_=ADMIN)
    await c("GET", "/v2.1/servers?all_tenants=1")
    await c("GET", f"/v2.1/servers/{web}", as_=BOB)
    await c("GET", "/v2.1/servers/00000000-0000-0000-0000-000000000000")
    await c("PUT", f"/v2.1/servers/{web}", {"server": {"name": "web-1"}})
    await c("PUT", f"/v2.1/servers/{web}", {"server": {"name": "web-2"}}, version=MAX)
    await c("PUT", f"/v2.1/servers/{web}", {"server": {"color": "red"}})

    # metadata and ips
    await c("GET", f"/v2.1/servers/{web}/metadata")
    await c("POST", f"/v2.1/servers/{web}/metadata", {"metadata": {"a": "1", "b": "2"}})
    await c("PUT", f"/v2.1/servers/{web}/metadata", {"metadata": {"c": "3"}})
    await c("GET", f"/v2.1/servers/{web}/metadata/c")
    await c("PUT", f"/v2.1/servers/{web}/metadata/d", {"meta": {"d": "4"}})
    await c("PUT", f"/v2.1/servers/{web}/metadata/d", {"meta": {"e": "4"}})
    await c("DELETE", f"/v2.1/servers/{web}/metadata/c")
    await c("GET", f"/v2.1/servers/{web}/metadata/c")
    await c("GET", f"/v2.1/servers/{web}/ips")
    await c("GET", f"/v2.1/servers/{web}/ips/private")
    await c("GET", f"/v2.1/servers/{web}/ips/public")

    # interfaces, fixed and floating IPs
    await c("GET", f"/v2.1/servers/{web}/os-interface")
    r = await c("POST", f"/v2.1/servers/{web}/os-interface", None)
    port = r.json()["interfaceAttachment"]["port_id"]
    await rec.until(f"/v2.1/servers/{web}/os-interface/{port}",
                    lambda code, b: code == 200
                    and b["interfaceAttachment"]["port_state"] == "ACTIVE")
    await c("GET", f"/v2.1/servers/{web}/os-interface")
    await c("GET", f"/v2.1/servers/{web}/os-interface/{port}")
    await c("GET", f"/v2.1/servers/{web}/os-virtual-interfaces")
    await c("DELETE", f"/v2.1/servers/{web}/os-interface/{port}")
    await rec.until(f"/v2.1/servers/{web}/os-interface/{port}",
                    lambda code, b: code == 404)
    await c("GET", f"/v2.1/servers/{web}/os-interface/{port}")
    await c("POST", f"/v2.1/servers/{web}/action", {"addFloatingIp": {"address": "1.2.3.4"}})
    await c("POST", f"/v2.1/servers/{web}/action", {"removeFixedIp": {"address": "1.2.3.4"}})

    # volumes, snapshots, attachments
    await c("GET", "/v2.1/os-volume-types")
    await c("GET", "/v2.1/os-volume-types/__DEFAULT__")
    r = await c("POST", "/v2.1/os-volumes", {"volume": {
        "size": 1, "display_name": "data", "metadata": {"purpose": "golden"}}})
    vol = r.json()["volume"]["id"]
    await c("POST", "/v2.1/os-volumes", {"volume": {"size": 0}})
    await c("GET", "/v2.1/os-volumes")
    await c("GET", "/v2.1/os-volumes/detail")
    await c("GET", f"/v2.1/os-volumes/{vol}")
    await c("GET", f"/v2.1/os-volumes/{vol}", as_=BOB)
    r = await c("POST", "/v2.1/os-snapshots", {"snapshot": {
        "volume_id": vol, "display_name": "snap"}})
    snap = r.json()["snapshot"]["id"]
    await c("GET", "/v2.1/os-snapshots")
    await c("GET", "/v2.1/os-snapshots/detail")
    await c("GET", f"/v2.1/os-snapshots/{snap}")
    await c("DELETE", f"/v2.1/os-snapshots/{snap}")
    await c("GET", f"/v2.1/os-snapshots/{snap}")
    await c("POST", f"/v2.1/servers/{web}/os-volume_attachments",
            {"volumeAttachment": {"volumeId": vol}})
    await rec.volume_status(vol, "in-use")
    await c("POST", f"/v2.1/servers/{web}/os-volume_attachments",
            {"volumeAttachment": {"volumeId": vol}})
    await c("GET", f"/v2.1/servers/{web}/os-volume_attachments")
    await c("GET", f"/v2.1/servers/{web}/os-volume_attachments/{vol}")
    await c("GET", f"/v2.1/servers/{web}", version="2.3")
    await c("PUT", f"/v2.1/servers/{web}/os-volume_attachments/{vol}",
            {"volumeAttachment": {"volumeId": vol}})
    await c("PUT", f"/v2.1/servers/{web}/os-volume_attachments/{vol}",
            {"volumeAttachment": {"volumeId": "00000000-0000-0000-0000-000000000000"}},
            as_=ADMIN)
    await c("DELETE", f"/v2.1/os-volumes/{vol}")
    await c("DELETE", f"/v2.1/servers/{web}/os-volume_attachments/{vol}")
    await rec.volume_status(vol, "available")
    await c("DELETE", f"/v2.1/os-volumes/{vol}")
    await c("GET", f"/v2.1/os-volumes/{vol}")

    # consoles
    await c("POST", f"/v2.1/servers/{web}/action", {"os-getConsoleOutput": {"length": 5}})
    r = await c("POST", f"/v2.1/servers/{web}/action", {"os-getVNCConsole": {"type": "novnc"}})
    url = r.json()["console"]["url"]
    token = unquote(url).split("token=")[-1]
    await c("POST", f"/v2.1/servers/{web}/action",
            {"os-getSPICEConsole": {"type": "spice-html5"}})
    await c("POST", f"/v2.1/servers/{web}/action", {"os-getVNCConsole": {"type": "bogus"}})
    await c("POST", f"/v2.1/servers/{web}/remote-consoles",
            {"remote_console": {"protocol": "vnc", "type": "novnc"}}, version="2.6")
    await c("GET", f"/v2.1/os-console-auth-tokens/{token}", as_=ADMIN)
    await c("GET", "/v2.1/os-console-auth-tokens/nope", as_=ADMIN)
    await c("GET", f"/v2.1/os-console-auth-tokens/{token}")
    await c("GET", f"/v2.1/servers/{web}/consoles")
    await c("POST", f"/v2.1/servers/{web}/consoles")
    r = await c("GET", f"/v2.1/servers/{web}/consoles")
    console = r.json()["consoles"][0]["console"]["id"]
    await c("GET", f"/v2.1/servers/{web}/consoles/{console}")
    await c("GET", f"/v2.1/servers/{web}/os-console/{console}")
    await c("GET", f"/v2.1/servers/{web}/os-consoles/{console}")
    await c("GET", f"/v2.1/servers/{web}/os-consoles")
    await c("POST", f"/v2.1/servers/{web}/os-consoles")
    await c("GET", f"/v2.1/servers/{web}/consoles/{console}", as_=BOB)
    await c("DELETE", f"/v2.1/servers/{web}/consoles/{console}")
    await c("DELETE", f"/v2.1/servers/{web}/os-console/{console}")
    await c("DELETE", f"/v2.1/servers/{web}/os-consoles/{console}")
    await c("GET", f"/v2.1/servers/{web}/consoles")
    await c("GET", f"/v2.1/servers/{web}/diagnostics", as_=ADMIN)
    await c("GET", f"/v2.1/servers/{web}/diagnostics")
    await c("GET", f"/v2.1/servers/{web}/os-server-password")
    await c("DELETE", f"/v2.1/servers/{web}/os-server-password")

    # server actions at 2.1 and at the maximum, each settled before the next
    async def act(sid: str, action: dict[str, Any], *settled: str,
                  version: str | None = None, as_: str = "alice:project-a") -> None:
        r = await c("POST", f"/v2.1/servers/{sid}/action", action, version=version, as_=as_)
        if settled and r.status_code < 300:
            await rec.server_status(sid, *settled, as_=ADMIN)

    for version, sid in ((None, web), (MAX, dbs)):
        await act(sid, {"os-stop": None}, "SHUTOFF", version=version)
        await act(sid, {"os-stop": None}, version=version)  # 409
        await act(sid, {"os-start": None}, "ACTIVE", version=version)
        await act(sid, {"reboot": {"type": "SOFT"}}, "ACTIVE", version=version)
        await act(sid, {"reboot": {"type": "HARD"}}, "ACTIVE", version=version)
        await act(sid, {"reboot": {"type": "GENTLE"}}, version=version)  # 400
        await act(sid, {"pause": None}, "PAUSED", version=version)
        await act(sid, {"unpause": None}, "ACTIVE", version=version)
        await act(sid, {"suspend": None}, "SUSPENDED", version=version)
        await act(sid, {"resume": None}, "ACTIVE", version=version)
        await act(sid, {"lock": None}, version=version)
        await act(sid, {"os-stop": None}, version=version, as_=BOB)  # 404
        await act(sid, {"unlock": None}, version=version)
        await act(sid, {"rescue": {"adminPass": "golden-pass"}}, "RESCUE", version=version)
        await act(sid, {"unrescue": None}, "ACTIVE", version=version)
        await act(sid, {"changePassword": {"adminPass": "new-pass"}}, "ACTIVE",
                  version=version)
        await act(sid, {"rebuild": {"imageRef": IMAGE, "name": "rebuilt",
                                    "adminPass": "golden-pass"}}, "ACTIVE", version=version)
        await act(sid, {"resize": {"flavorRef": "3"}}, "VERIFY_RESIZE", version=version)
        await act(sid, {"confirmResize": None}, "ACTIVE", version=version)
        await act(sid, {"resize": {"flavorRef": "2"}}, "VERIFY_RESIZE", version=version)
        await act(sid, {"revertResize": None}, "ACTIVE", version=version)
        await act(sid, {"createImage": {"name": "snap-image"}}, "ACTIVE", version=version)
        await act(sid, {"shelve": None}, "SHELVED_OFFLOADED", version=version)
        await act(sid, {"unshelve": None}, "ACTIVE", version=version)
        await act(sid, {"migrate": None}, "VERIFY_RESIZE", version=version, as_=ADMIN)
        await act(sid, {"confirmResize": None}, "ACTIVE", version=version)
        await act(sid, {"os-migrateLive": {"host": None, "block_migration": False,
                                           "disk_over_commit": False}}, "ACTIVE",
                  version=version, as_=ADMIN)
        await act(sid, {"os-resetState": {"state": "active"}}, "ACTIVE", version=version,
                  as_=ADMIN)
        await act(sid, {"injectNetworkInfo": None}, "ACTIVE", version=version, as_=ADMIN)
        await act(sid, {"resetNetwork": None}, "ACTIVE", version=version, as_=ADMIN)
        await act(sid, {"addSecurityGroup": {"name": "default"}}, version=version)
        await act(sid, {"createBackup": {"name": "bk", "backup_type": "daily",
                                         "rotation": 1}}, "ACTIVE", version=version)
        await act(sid, {"os-getSerialConsole": {"type": "serial"}}, version=version)
        await act(sid, {"restore": None}, version=version)
        await act(sid, {"evacuate": {}}, version=version, as_=ADMIN)
        await act(sid, {"nonsense": None}, version=version)
        await c("GET", f"/v2.1/servers/{sid}", version=version)

    # instance actions and migrations
    r = await c("GET", f"/v2.1/servers/{web}/os-instance-actions")
    first = r.json()["instanceActions"][-1]["request_id"]
    await c("GET", f"/v2.1/servers/{web}/os-instance-actions/{first}")
    await c("GET", f"/v2.1/servers/{web}/os-instance-actions/{first}", as_=ADMIN)
    await c("GET", f"/v2.1/servers/{web}/os-instance-actions/req-nope")
    await c("GET", "/v2.1/os-migrations", as_=ADMIN)
    await c("GET", "/v2.1/os-migrations")
    await c("GET", "/v2.1/os-history/servers", as_=ADMIN)
    await c("GET", f"/v2.1/os-history/servers/{web}", as_=ADMIN)
    await c("GET", f"/v2.1/os-history/servers/{web}/timeline", as_=ADMIN)

    # deletion
    await c("DELETE", f"/v2.1/servers/{dbs}")
    await rec.server_status(dbs, "DELETED", as_=ADMIN)
    await c("GET", f"/v2.1/servers/{dbs}")
    await c("DELETE", f"/v2.1/servers/{dbs}")
    await c("GET", "/v2.1/servers/detail")
    await c("GET", "/v2.1/limits")
    # the same API under a project id, under /compute, and as v2.0
    await c("GET", "/v2.1/project-a/servers")
    await c("GET", "/v2.1/project-b/servers")
    await c("GET", "/compute/v2.1/flavors/1")
    await c("GET", f"/v2/servers/{web}")
    await c("GET", f"/v2/servers/{web}", version=MAX)
    await c("DELETE", f"/v2.1/servers/{web}", version=MAX)
    await rec.server_status(web, "DELETED", as_=ADMIN)
    await c("GET", "/v2.1/servers", version=MAX)
    await c("GET", "/v2.1/os-quota-sets/project-a/detail")

    # -- identity ---------------------------------------------------------------------------
    auth = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"name": "Default"}, "password": "secret"}}},
        "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}
    r = await c("POST", "/identity/v3/auth/tokens", auth)
    tok = r.headers["x-subject-token"]
    rec.secret(tok)
    bad = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"name": "Default"}, "password": "wrong"}}}}}
    await c("POST", "/identity/v3/auth/tokens", bad)
    await c("POST", "/identity/v3/auth/tokens", {"auth": {}})
    await c("GET", "/identity/v3/auth/tokens", token=tok, headers={"X-Subject-Token": tok})
    await c("GET", "/identity/v3/auth/projects", token=tok)
    await c("GET", "/identity/v3/users", token=tok)
    await c("GET", "/identity/v3/users")
    r = await c("POST", "/identity/v3/users", {"user": {"name": "carol", "password": "pw",
                                                        "domain_id": "default"}}, token=tok)
    user = r.json()["user"]["id"]
    await c("POST", "/identity/v3/users", {"user": {"name": "carol", "password": "pw",
                                                    "domain_id": "default"}}, token=tok)
    await c("GET", f"/identity/v3/users/{user}", token=tok)
    await c("PATCH", f"/identity/v3/users/{user}", {"user": {"email": "c@example.org"}},
            token=tok)
    r = await c("POST", "/identity/v3/projects", {"project": {"name": "golden",
                                                              "domain_id": "default"}},
                token=tok)
    project = r.json()["project"]["id"]
    await c("GET", "/identity/v3/projects", token=tok)
    await c("GET", f"/identity/v3/projects/{project}", token=tok)
    await c("PATCH", f"/identity/v3/projects/{project}",
            {"project": {"description": "gold"}}, token=tok)
    r = await c("POST", "/identity/v3/roles", {"role": {"name": "golden-role"}}, token=tok)
    role = r.json()["role"]["id"]
    await c("GET", "/identity/v3/roles", token=tok)
    await c("GET", f"/identity/v3/roles/{role}", token=tok)
    await c("PUT", f"/identity/v3/projects/{project}/users/{user}/roles/{role}", token=tok)
    await c("GET", f"/identity/v3/projects/{project}/users/{user}/roles/{role}", token=tok)
    await c("HEAD", f"/identity/v3/projects/{project}/users/{user}/roles/{role}", token=tok)
    await c("GET", f"/identity/v3/projects/{project}/users/{user}/roles", token=tok)
    await c("GET", f"/identity/v3/role_assignments?user.id={user}", token=tok)
    await c("GET", f"/identity/v3/users/{user}/projects", token=tok)
    await c("DELETE", f"/identity/v3/projects/{project}/users/{user}/roles/{role}",
            token=tok)
    r = await c("GET", "/identity/v3/roles?name=member", token=tok)
    member = r.json()["roles"][0]["id"]
    await c("PUT", f"/identity/v3/projects/{project}/users/{user}/roles/{member}", token=tok)
    carol = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "carol", "domain": {"name": "Default"}, "password": "pw"}}},
        "scope": {"project": {"id": project}}}}
    r = await c("POST", "/identity/v3/auth/tokens", carol)
    carol_tok = r.headers["x-subject-token"]
    rec.secret(carol_tok)
    await c("GET", "/identity/v3/users", token=carol_tok)
    await c("POST", "/identity/v3/roles", {"role": {"name": "mine"}}, token=carol_tok)
    await c("GET", "/identity/v3/auth/projects", token=carol_tok)
    await c("GET", "/identity/v3/domains", token=tok)
    await c("GET", "/identity/v3/domains/default", token=tok)
    await c("GET", "/identity/v3/domains/nope", token=tok)
    await c("DELETE", f"/identity/v3/roles/{role}", token=tok)
    await c("DELETE", f"/identity/v3/projects/{project}", token=tok)
    await c("DELETE", f"/identity/v3/users/{user}", token=tok)
    await c("GET", f"/identity/v3/users/{user}", token=tok)
    await c("GET", "/identity/v3/nothing", token=tok)
    await c("DELETE", "/identity/v3/auth/tokens", token=tok, headers={"X-Subject-Token": tok})
    await c("GET", "/identity/v3/auth/tokens", token=tok, headers={"X-Subject-Token": tok})


def render(entries: list[dict[str, Any]]) -> bytes:
    return orjson.dumps(entries, option=orjson.OPT_INDENT_2) + b"\n"


def describe(e: dict[str, Any]) -> str:
    return orjson.dumps(e, option=orjson.OPT_INDENT_2).decode()


async def test_golden_responses(http: httpx.AsyncClient) -> None:
    rec = Recorder(http)
    await scenario(rec)
    actual = rec.entries
    if UPDATE:
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_bytes(render(actual))
        return
    assert GOLDEN.exists(), "no golden file: run with CONTROL_PLANE_GOLDEN_UPDATE=1"
    expected: list[dict[str, Any]] = orjson.loads(GOLDEN.read_bytes())
    report: list[str] = []
    for i in range(max(len(expected), len(actual))):
        want = expected[i] if i < len(expected) else None
        got = actual[i] if i < len(actual) else None
        if want == got:
            continue
        req = (got or want or {}).get("request")
        diff = difflib.unified_diff(describe(want or {}).splitlines(),
                                    describe(got or {}).splitlines(),
                                    "expected", "actual", lineterm="", n=2)
        report.append(f"#{i} {orjson.dumps(req).decode()}\n" + "\n".join(diff))
        if len(report) == 5:
            break
    if report:
        pytest.fail("responses differ from tests/golden/responses.json "
                    "(CONTROL_PLANE_GOLDEN_UPDATE=1 rewrites it):\n\n" + "\n\n".join(report),
                    pytrace=False)
