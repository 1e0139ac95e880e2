"""Who the metadata service believes a caller is.

Only a metadata proxy's signed headers (X-Instance-ID, its HMAC-SHA256 under the shared
secret, and X-Tenant-ID matching the instance's project), or the caller's own address
when the operator trusts its network. X-Forwarded-For never names a guest.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from control_plane.api.metadata.resources import sign
from control_plane.bootstrap import System
from control_plane.config import parse_networks
from tests.conftest import IMAGE, Api

USER_DATA = b"#!/bin/sh\necho secret-bootstrap\n"


@pytest.fixture
async def guest(system: System, api: Api) -> dict[str, Any]:
    """An active server with user data: its id, project and fixed address."""
    r = await api.post("/servers", {"server": {
        "name": "vm", "flavorRef": "1", "imageRef": IMAGE,
        "user_data": base64.b64encode(USER_DATA).decode()}})
    assert r.status_code == 202, r.text
    sid = r.json()["server"]["id"]
    await api.wait_status(sid, "ACTIVE")
    body = (await api.get(f"/servers/{sid}")).json()["server"]
    return {"id": sid, "project": body["tenant_id"],
            "address": body["addresses"]["private"][0]["addr"]}


@pytest.fixture
async def from_guest(system: System, guest: dict[str, Any]
                     ) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose requests come from the guest's own address."""
    transport = httpx.ASGITransport(app=system.app(), client=(guest["address"], 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://169.254.169.254"
                                 ) as client:
        yield client


async def test_x_forwarded_for_names_no_guest(system: System, api: Api,
                                              guest: dict[str, Any]) -> None:
    """The black-box finding: no token, any X-Forwarded-For, and a guest's secrets."""
    system.settings.metadata_secret = "proxy-secret"
    spoof = {"X-Forwarded-For": guest["address"]}
    for path in ("/openstack/latest/user_data", "/openstack/latest/meta_data.json",
                 "/openstack/latest/password"):
        assert (await api.http.get(path, headers=spoof)).status_code == 404
    r = await api.http.post("/openstack/latest/password", content=b"pwned", headers=spoof)
    assert r.status_code == 404
    assert (await api.get(f"/servers/{guest['id']}/os-server-password")).json() == {
        "password": ""}
    # not even from a trusted network: a forwarded request is not the guest speaking
    system.settings.metadata_trusted_sources = parse_networks("127.0.0.0/8")
    assert (await api.http.get("/openstack/latest/user_data", headers=spoof)
            ).status_code == 404


async def test_signed_proxy_headers(system: System, api: Api, guest: dict[str, Any]
                                    ) -> None:
    sid, project = guest["id"], guest["project"]
    good = {"X-Instance-ID": sid, "X-Instance-ID-Signature": sign("proxy-secret", sid),
            "X-Tenant-ID": project}
    http = api.http
    # without a configured secret, the headers mean nothing
    assert (await http.get("/openstack/latest/user_data", headers=good)).status_code == 404
    system.settings.metadata_secret = "proxy-secret"
    r = await http.get("/openstack/latest/user_data", headers=good)
    assert r.status_code == 200 and r.content == USER_DATA
    wrong = {**good, "X-Instance-ID-Signature": sign("other-secret", sid)}
    assert (await http.get("/openstack/latest/user_data", headers=wrong)).status_code == 403
    unsigned = {k: v for k, v in good.items() if k != "X-Instance-ID-Signature"}
    assert (await http.get("/openstack/latest/user_data", headers=unsigned)
            ).status_code == 403
    no_tenant = {k: v for k, v in good.items() if k != "X-Tenant-ID"}
    assert (await http.get("/openstack/latest/user_data", headers=no_tenant)
            ).status_code == 400
    other_tenant = {**good, "X-Tenant-ID": "project-b"}
    assert (await http.get("/openstack/latest/user_data", headers=other_tenant)
            ).status_code == 404
    junk: dict[str, str | bytes] = {
        "X-Instance-ID": "a\u00e9\u00ff".encode("latin-1"), "X-Tenant-ID": project,
        "X-Instance-ID-Signature": sign("proxy-secret", "a\u00e9\u00ff")}
    assert (await http.get("/openstack/latest/user_data", headers=junk)).status_code == 404
    junk["X-Instance-ID-Signature"] = "\u00e9".encode("latin-1")
    assert (await http.get("/openstack/latest/user_data", headers=junk)).status_code == 403
    r = await http.post("/openstack/latest/password", content=b"a\x00b", headers=good)
    assert r.status_code == 400
    r = await http.post("/openstack/latest/password", content=b"c2VjcmV0", headers=good)
    assert r.status_code == 200
    assert (await api.get(f"/servers/{sid}/os-server-password")).json() == {
        "password": "c2VjcmV0"}


async def test_source_address_only_from_trusted_networks(
        system: System, guest: dict[str, Any], from_guest: httpx.AsyncClient) -> None:
    # nothing is trusted by default
    assert (await from_guest.get("/openstack/latest/meta_data.json")).status_code == 404
    system.settings.metadata_trusted_sources = parse_networks("192.0.2.0/24, fd00::/64")
    assert (await from_guest.get("/openstack/latest/meta_data.json")).status_code == 404
    system.settings.metadata_trusted_sources = parse_networks(f"{guest['address']}/16")
    r = await from_guest.get("/openstack/latest/meta_data.json")
    assert r.status_code == 200 and r.json()["uuid"] == guest["id"]
    assert (await from_guest.get("/openstack/latest/user_data")).content == USER_DATA
    # loopback is not trusted unless listed
    transport = httpx.ASGITransport(app=system.app(), client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://m") as local:
        assert (await local.get("/openstack/latest/meta_data.json")).status_code == 404
