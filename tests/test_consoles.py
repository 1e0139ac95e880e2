"""Consoles and diagnostics over HTTP: console output, remote consoles and their tokens,
os-consoles, server diagnostics, and the faults of each."""

from __future__ import annotations

import asyncio
import urllib.parse
from collections.abc import AsyncIterator

import httpx
import pytest

from control_plane.bootstrap import System
from control_plane.domain.consoles.aggregate import token_hash
from drivers.fake import FakeDriver
from tests.conftest import Api, assert_error


async def _active(api: Api, name: str = "console-vm") -> str:
    server = await api.create_server(name)
    await api.wait_status(server["id"], "ACTIVE")
    sid: str = server["id"]
    return sid


async def _output(api: Api, sid: str, length: object = None) -> str:
    r = await api.post(f"/servers/{sid}/action", {"os-getConsoleOutput": {"length": length}})
    assert r.status_code == 200, r.text
    assert list(r.json()) == ["output"]
    output: str = r.json()["output"]
    return output


def _token(url: str) -> str:
    query = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)
    if "path" in query:  # noVNC: the token is inside the path parameter
        query = urllib.parse.parse_qs(urllib.parse.urlparse(query["path"][0]).query)
    return query["token"][0]


# -- console output ----------------------------------------------------------------------


async def test_console_output_follows_the_guest_life(api: Api) -> None:
    sid = await _active(api, "console-life")
    full = await _output(api, sid)
    assert "Linux version" in full and full.endswith("console-life login: ")
    assert full.count("Linux version") == 1
    assert "\r" not in full
    last3 = await _output(api, sid, 3)
    assert last3.split("\n") == full.split("\n")[-3:]
    assert await _output(api, sid, "2") == "\n".join(full.split("\n")[-2:])
    assert await _output(api, sid, -1) == full  # -1: everything
    assert await _output(api, sid, "-1") == full
    assert await _output(api, sid, 0) == ""
    assert (await api.post(f"/servers/{sid}/action", {"reboot": {"type": "SOFT"}})
            ).status_code == 202
    await api.wait_status(sid, "ACTIVE")
    after = await _output(api, sid)
    assert after.startswith(full)
    assert "reboot: Restarting system" in after and after.count("Linux version") == 2
    # a stopped guest still has its log (tempest reads it in SHUTOFF)
    await api.post(f"/servers/{sid}/action", {"os-stop": None})
    await api.wait_status(sid, "SHUTOFF")
    stopped = await _output(api, sid)
    assert stopped.startswith(after) and "reboot: Power down" in stopped
    # the body without a length is accepted too
    r = await api.post(f"/servers/{sid}/action", {"os-getConsoleOutput": {}})
    assert r.status_code == 200 and r.json()["output"] == stopped


async def test_console_output_is_refused_as_nova_refuses_it(api: Api, other: Api) -> None:
    sid = await _active(api)
    for bad in ("abc", -2, 1.5, "1.5", [], {}):
        r = await api.post(f"/servers/{sid}/action", {"os-getConsoleOutput": {"length": bad}})
        assert_error(r, 400, "badRequest")
    r = await api.post(f"/servers/{sid}/action", {"os-getConsoleOutput": {"lines": 3}})
    assert_error(r, 400, "badRequest")
    missing = "5b1d3f6e-0c55-4f3a-9d8e-2a6c4b7e9f10"
    r = await api.post(f"/servers/{missing}/action", {"os-getConsoleOutput": {}})
    assert_error(r, 404, "itemNotFound", f"Instance {missing} could not be found.")
    r = await other.post(f"/servers/{sid}/action", {"os-getConsoleOutput": {}})
    assert_error(r, 404, "itemNotFound", f"Instance {sid} could not be found.")
    reader = Api(api.http, "rita", api.project, roles="reader")
    r = await reader.post(f"/servers/{sid}/action", {"os-getConsoleOutput": {}})
    assert_error(r, 403, "forbidden")


async def test_long_console_output_crosses_in_chunks(api: Api, driver: FakeDriver) -> None:
    """Far more than one NOTIFY payload (8000 bytes), with non-ASCII text, arrives whole;
    control characters are stripped as Nova strips them."""
    sid = await _active(api, "chatty")
    (console,) = [v for (h, s), v in driver.consoles.items() if s == sid]
    console.lines.extend(f"line {i}: données ✓ {'x' * 40}" for i in range(2000))
    console.lines.append("bell\x07 and\ttab\r")
    output = await _output(api, sid)
    assert len(output.encode()) > 100_000
    assert output.split("\n")[-1] == "bell and\ttab"
    assert "line 1999: données ✓" in output
    assert (await _output(api, sid, 2)).split("\n")[0].startswith("line 1999")


# -- remote consoles -------------------------------------------------------------------


async def test_remote_console_actions(system: System, api: Api) -> None:
    sid = await _active(api)
    cases = [("os-getVNCConsole", "novnc", "http://127.0.0.1:6080/vnc_auto.html?path=%3Ftoken%3D"),
             ("os-getVNCConsole", "xvpvnc", "http://127.0.0.1:6081/console?token="),
             ("os-getSPICEConsole", "spice-html5", "http://127.0.0.1:6082/spice_auto.html?token="),
             ("os-getRDPConsole", "rdp-html5", "http://127.0.0.1:6083/?token="),
             ("os-getSerialConsole", "serial", "ws://127.0.0.1:6083/?token=")]
    tokens = []
    for action, kind, prefix in cases:
        r = await api.post(f"/servers/{sid}/action", {action: {"type": kind}})
        assert r.status_code == 200, r.text
        console = r.json()["console"]
        assert console["type"] == kind and console["url"].startswith(prefix), console
        tokens.append(_token(console["url"]))
    assert len(set(tokens)) == len(tokens)
    # each token was recorded as an event holding only its hash
    issued = [e for e in await system.store.read_all(0, 10_000)
              if e.event_type == "ConsoleTokenIssued"]
    assert [e.data["token_hash"] for e in issued] == [token_hash(t) for t in tokens]
    assert not any(t in str(e.data) for e in issued for t in tokens)
    assert {e.data["instance_uuid"] for e in issued} == {sid}
    # a type the action does not offer, or none at all
    for body in ({"os-getVNCConsole": {"type": "spice-html5"}},
                 {"os-getSPICEConsole": {"type": "novnc"}},
                 {"os-getRDPConsole": {"type": "serial"}},
                 {"os-getSerialConsole": {"type": "novnc"}},
                 {"os-getVNCConsole": {}}):
        assert_error(await api.post(f"/servers/{sid}/action", body), 400, "badRequest")


async def test_remote_consoles_at_2_6(api: Api, other: Api) -> None:
    sid = await _active(api)
    v26 = api.at("2.6")
    r = await v26.post(f"/servers/{sid}/remote-consoles",
                       {"remote_console": {"protocol": "vnc", "type": "novnc"}})
    assert r.status_code == 200, r.text
    body = r.json()["remote_console"]
    assert (body["protocol"], body["type"]) == ("vnc", "novnc")
    assert body["url"].startswith("http://127.0.0.1:6080/vnc_auto.html?path=%3Ftoken%3D")
    r = await v26.post(f"/servers/{sid}/remote-consoles",
                       {"remote_console": {"protocol": "serial", "type": "serial"}})
    assert r.json()["remote_console"]["url"].startswith("ws://127.0.0.1:6083/?token=")
    # protocol and type must agree
    r = await v26.post(f"/servers/{sid}/remote-consoles",
                       {"remote_console": {"protocol": "vnc", "type": "spice-html5"}})
    assert_error(r, 400, "badRequest", "Invalid console type spice-html5")
    # mks from 2.8
    mks = {"remote_console": {"protocol": "mks", "type": "webmks"}}
    assert_error(await v26.post(f"/servers/{sid}/remote-consoles", mks), 400, "badRequest")
    r = await api.at("2.8").post(f"/servers/{sid}/remote-consoles", mks)
    assert r.status_code == 200 and r.json()["remote_console"]["url"].startswith(
        "http://127.0.0.1:6090/?token=")
    # before 2.6 there is no such resource; from 2.6 the old actions are gone
    r = await api.post(f"/servers/{sid}/remote-consoles",
                       {"remote_console": {"protocol": "vnc", "type": "novnc"}})
    assert_error(r, 404, "itemNotFound")
    r = await v26.post(f"/servers/{sid}/action", {"os-getVNCConsole": {"type": "novnc"}})
    assert_error(r, 404, "itemNotFound")
    r = await other.at("2.6").post(f"/servers/{sid}/remote-consoles",
                                   {"remote_console": {"protocol": "vnc", "type": "novnc"}})
    assert_error(r, 404, "itemNotFound", f"Instance {sid} could not be found.")


async def test_consoles_of_a_stopped_server_conflict(api: Api, admin: Api) -> None:
    sid = await _active(api)
    await api.post(f"/servers/{sid}/action", {"os-stop": None})
    await api.wait_status(sid, "SHUTOFF")
    r = await api.post(f"/servers/{sid}/action", {"os-getVNCConsole": {"type": "novnc"}})
    assert_error(r, 409, "conflictingRequest",
                 f"Cannot 'get_vnc_console' instance {sid} while it is in power state shutdown")
    r = await api.at("2.6").post(f"/servers/{sid}/remote-consoles",
                                 {"remote_console": {"protocol": "spice",
                                                     "type": "spice-html5"}})
    assert_error(r, 409, "conflictingRequest")
    r = await admin.get(f"/servers/{sid}/diagnostics")
    assert_error(r, 409, "conflictingRequest",
                 f"Cannot 'get_diagnostics' instance {sid} while it is in power state shutdown")


# -- console auth tokens -----------------------------------------------------------------


async def test_console_tokens_resolve_until_they_expire(system: System, api: Api,
                                                        admin: Api) -> None:
    system.settings.console_token_ttl = 1
    sid = await _active(api)
    r = await api.post(f"/servers/{sid}/action", {"os-getRDPConsole": {"type": "rdp-html5"}})
    token = _token(r.json()["console"]["url"])
    r = await admin.get(f"/os-console-auth-tokens/{token}")
    assert r.status_code == 200, r.text
    console = r.json()["console"]
    assert console["instance_uuid"] == sid
    assert (console["host"], console["port"]) == ("fakerdpconsole.com", 2179)
    assert console["internal_access_path"]
    # admins only
    r = await api.get(f"/os-console-auth-tokens/{token}")
    assert_error(r, 403, "forbidden")
    # at these microversions Nova shows RDP tokens only
    r = await api.post(f"/servers/{sid}/action", {"os-getVNCConsole": {"type": "novnc"}})
    vnc = _token(r.json()["console"]["url"])
    assert_error(await admin.get(f"/os-console-auth-tokens/{vnc}"), 401, "unauthorized",
                 "The requested console type details are not accessible")
    assert_error(await admin.get("/os-console-auth-tokens/not-a-token"), 404, "itemNotFound",
                 "Token not found")
    await asyncio.sleep(1.1)
    assert_error(await admin.get(f"/os-console-auth-tokens/{token}"), 404, "itemNotFound",
                 "Token not found")


async def test_deleting_a_server_invalidates_its_tokens(api: Api, admin: Api) -> None:
    sid = await _active(api)
    keep = await _active(api, "kept")
    tokens = {}
    for server in (sid, keep):
        r = await api.post(f"/servers/{server}/action",
                           {"os-getRDPConsole": {"type": "rdp-html5"}})
        tokens[server] = _token(r.json()["console"]["url"])
        assert (await admin.get(f"/os-console-auth-tokens/{tokens[server]}")
                ).status_code == 200
    assert (await api.delete(f"/servers/{sid}")).status_code == 204
    await api.wait_status(sid, "DELETED")
    assert_error(await admin.get(f"/os-console-auth-tokens/{tokens[sid]}"), 404,
                 "itemNotFound")
    assert (await admin.get(f"/os-console-auth-tokens/{tokens[keep]}")).status_code == 200


# -- diagnostics -----------------------------------------------------------------------


async def test_diagnostics_for_admins(api: Api, admin: Api) -> None:
    sid = await _active(api)
    r = await admin.get(f"/servers/{sid}/diagnostics")
    assert r.status_code == 200, r.text
    diags = r.json()
    assert diags["memory"] == 512 * 1024  # flavor 1: 512 MB
    assert {"cpu0_time", "vda_read", "vda_write", "vda_errors", "vnet0_rx", "vnet0_tx",
            "vnet0_rx_packets", "vnet0_tx_drop"} <= set(diags)
    assert all(isinstance(v, int) for v in diags.values())
    assert_error(await api.get(f"/servers/{sid}/diagnostics"), 403, "forbidden")
    missing = "5b1d3f6e-0c55-4f3a-9d8e-2a6c4b7e9f10"
    assert_error(await admin.get(f"/servers/{missing}/diagnostics"), 404, "itemNotFound")


# -- os-consoles -------------------------------------------------------------------------


async def test_os_consoles(system: System, api: Api, other: Api) -> None:
    sid = await _active(api)
    base = f"/servers/{sid}/consoles"
    assert (await api.get(base)).json() == {"consoles": []}
    r = await api.post(base)
    assert r.status_code == 200 and r.content == b""
    assert (await api.post(base)).status_code == 200  # Nova keeps the one it has
    listed = (await api.get(base)).json()["consoles"]
    assert len(listed) == 1
    console_id = listed[0]["console"]["id"]
    assert listed == [{"console": {"console_type": "vnc+xvp", "id": console_id}}]
    assert isinstance(console_id, int)
    shown = (await api.get(f"{base}/{console_id}")).json()["console"]
    assert set(shown) == {"console_type", "host", "id", "instance_name", "password", "port"}
    assert shown["id"] == console_id and shown["port"] == 5900
    assert shown["host"] == system.settings.console_public_hostname
    assert shown["instance_name"].startswith("instance-") and len(shown["password"]) == 8
    # the password is not in the log in clear
    events = [e for e in await system.store.read_all(0, 10_000)
              if e.event_type == "ConsoleCreated"]
    assert len(events) == 1 and shown["password"] not in str(events[0].data)
    # the reference's printed paths are aliases
    assert (await api.get(f"/servers/{sid}/os-consoles")).json()["consoles"] == listed
    assert (await api.get(f"/servers/{sid}/os-console/{console_id}")).json()["console"] == \
        shown
    assert (await api.get(f"/servers/{sid}/os-consoles/{console_id}")).status_code == 200
    # others' servers are not found; unknown consoles neither
    assert_error(await other.get(base), 404, "itemNotFound",
                 f"Instance {sid} could not be found.")
    assert_error(await api.get(f"{base}/{console_id + 1000}"), 404, "itemNotFound",
                 f"Console {console_id + 1000} could not be found.")
    assert_error(await api.get(f"{base}/abc"), 404, "itemNotFound")
    # delete, then it is gone; a new one gets a new id
    assert (await api.delete(f"/servers/{sid}/os-console/{console_id}")).status_code == 202
    assert_error(await api.get(f"{base}/{console_id}"), 404, "itemNotFound")
    assert_error(await api.delete(f"{base}/{console_id}"), 404, "itemNotFound")
    assert (await api.get(base)).json() == {"consoles": []}
    assert (await api.post(f"/servers/{sid}/os-consoles")).status_code == 200
    (again,) = (await api.get(base)).json()["consoles"]
    assert again["console"]["id"] != console_id
    reader = Api(api.http, "rita", api.project, roles="reader")
    assert (await reader.get(base)).status_code == 200
    assert_error(await reader.post(base), 403, "forbidden")


# -- servers without a reachable compute -----------------------------------------------


@pytest.fixture
async def stoppable(bare_system: System, driver: FakeDriver
                    ) -> AsyncIterator[tuple[System, asyncio.Event]]:
    """A system whose compute worker the test can stop."""
    from tests.conftest import wait_hosts

    bare_system.start_scheduler()
    stop = asyncio.Event()
    bare_system.start_compute(driver, "fake", stop)
    await wait_hosts(bare_system, 2)
    yield bare_system, stop


async def test_unanswered_questions_are_503(stoppable: tuple[System, asyncio.Event]) -> None:
    system, stop = stoppable
    system.settings.compute_rpc_timeout = 0.3
    transport = httpx.ASGITransport(app=system.app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        api, admin = Api(http, "alice", "project-a"), Api(http, "admin", "admin")
        sid = await _active(api)
        assert "login:" in await _output(api, sid)
        worker = system.followers[-1]
        stop.set()
        await system.tasks[-1]
        assert getattr(worker, "rpc", None) is None
        r = await api.post(f"/servers/{sid}/action", {"os-getConsoleOutput": {}})
        assert_error(r, 503, "serviceUnavailable")
        host = (await admin.get(f"/servers/{sid}")).json()["server"]["OS-EXT-SRV-ATTR:host"]
        assert r.json()["serviceUnavailable"]["message"] == (
            f"Compute host {host} did not answer within 0.3 seconds; its compute service "
            "may be down.")
        assert_error(await admin.get(f"/servers/{sid}/diagnostics"), 503,
                     "serviceUnavailable")
        r = await api.post(f"/servers/{sid}/action", {"os-getVNCConsole": {"type": "novnc"}})
        assert_error(r, 503, "serviceUnavailable")
        # no token was issued for the console that could not be reached
        assert not [e for e in await system.store.read_all(0, 10_000)
                    if e.event_type == "ConsoleTokenIssued"]


async def test_a_server_without_a_host_is_not_ready(bare_system: System) -> None:
    """No scheduler runs: the server stays BUILDING without a host (Nova: 409)."""
    transport = httpx.ASGITransport(app=bare_system.app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        api, admin = Api(http, "alice", "project-a"), Api(http, "admin", "admin")
        sid = (await api.create_server("waiting"))["id"]
        message = f"Instance {sid} is not ready"
        r = await api.post(f"/servers/{sid}/action", {"os-getConsoleOutput": {}})
        assert_error(r, 409, "conflictingRequest", message)
        r = await api.post(f"/servers/{sid}/action", {"os-getSerialConsole": {"type": "serial"}})
        assert_error(r, 409, "conflictingRequest", message)
        assert_error(await admin.get(f"/servers/{sid}/diagnostics"), 409, "conflictingRequest",
                     message)
        assert_error(await api.post(f"/servers/{sid}/consoles"), 409, "conflictingRequest",
                     message)


async def test_console_views_rebuild_from_zero(system: System, api: Api, admin: Api) -> None:
    sids = [await _active(api, f"rebuilt-{i}") for i in range(3)]
    for sid in sids:
        await api.post(f"/servers/{sid}/consoles")
        await api.post(f"/servers/{sid}/action", {"os-getRDPConsole": {"type": "rdp-html5"}})
    first = (await api.get(f"/servers/{sids[0]}/consoles")).json()["consoles"][0]
    await api.delete(f"/servers/{sids[0]}/consoles/{first['console']['id']}")
    await api.post(f"/servers/{sids[0]}/consoles")
    assert (await api.delete(f"/servers/{sids[1]}")).status_code == 204
    await api.wait_status(sids[1], "DELETED")

    async def dump() -> dict[str, list[tuple[object, ...]]]:
        async with system.pool.acquire() as conn:
            return {t: [tuple(r) for r in await conn.fetch(f"SELECT * FROM {t} ORDER BY 1")]
                    for t in ("v_consoles", "v_console_tokens")}

    before = await dump()
    assert len(before["v_consoles"]) == 2 and len(before["v_console_tokens"]) == 2
    await system.runner.rebuild("consoles")
    assert await dump() == before
