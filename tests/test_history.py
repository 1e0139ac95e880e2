"""Replay for auditors: `control-plane history`, /os-history and the timeline page.

A history is scripted through the HTTP API on the fake driver, with wall-clock
instants taken between the steps; as-of queries at those instants must show each
server exactly as it was then.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import orjson
import pytest

from control_plane import cli
from control_plane.bootstrap import System
from control_plane.ops import history
from tests.conftest import IMAGE, Api, assert_error, root_logging_kept

PASSWORD = "Sup3r-s3cret-pw"
SCRIPT = "db-<script>alert(1)</script>"


async def _instant() -> dt.datetime:
    """A wall-clock instant strictly between what was recorded before and after it."""
    await asyncio.sleep(0.02)
    when = dt.datetime.now(dt.UTC)
    await asyncio.sleep(0.02)
    return when


async def _act(api: Api, sid: str, body: dict[str, Any]) -> None:
    r = await api.post(f"/servers/{sid}/action", body)
    assert r.status_code in (202, 204), r.text


async def _script(api: Api) -> dict[str, Any]:
    """create, stop, start, resize + confirm, metadata, a second server, delete."""
    marks: dict[str, Any] = {"before": await _instant()}
    r = await api.post("/servers", {"server": {"name": "web-1", "flavorRef": "1",
                                               "imageRef": IMAGE, "adminPass": PASSWORD}})
    assert r.status_code == 202, r.text
    sid = marks["sid"] = r.json()["server"]["id"]
    await api.wait_status(sid, "ACTIVE")
    marks["active"] = await _instant()
    await _act(api, sid, {"os-stop": None})
    await api.wait_status(sid, "SHUTOFF")
    marks["stopped"] = await _instant()
    await _act(api, sid, {"os-start": None})
    await api.wait_status(sid, "ACTIVE")
    await _act(api, sid, {"resize": {"flavorRef": "2"}})
    await api.wait_status(sid, "VERIFY_RESIZE")
    marks["verify"] = await _instant()
    await _act(api, sid, {"confirmResize": None})
    await api.wait_status(sid, "ACTIVE")
    marks["resized"] = await _instant()
    r = await api.post(f"/servers/{sid}/metadata", {"metadata": {"env": "prod"}})
    assert r.status_code == 200, r.text
    marks["metadata"] = await _instant()
    second = await api.create_server(SCRIPT)
    marks["sid2"] = second["id"]
    await api.wait_status(second["id"], "ACTIVE")
    marks["two"] = await _instant()
    assert (await api.delete(f"/servers/{sid}")).status_code == 204
    await api.wait_status(sid, "DELETED")
    await asyncio.sleep(0.2)  # let the workers' last events (releases) land
    marks["deleted"] = await _instant()
    return marks


def _q(when: dt.datetime) -> str:
    return when.isoformat().replace("+", "%2B")


async def _as_of(admin: Api, sid: str, when: dt.datetime) -> dict[str, Any] | None:
    r = await admin.get(f"/os-history/servers/{sid}?as_of={_q(when)}")
    if r.status_code == 404:
        return None
    assert r.status_code == 200, r.text
    server: dict[str, Any] = r.json()["server"]
    return server


async def _all_as_of(admin: Api, when: dt.datetime) -> dict[str, tuple[str, bool]]:
    r = await admin.get(f"/os-history/servers?as_of={_q(when)}")
    assert r.status_code == 200, r.text
    return {s["id"]: (s["status"], s["deleted"]) for s in r.json()["servers"]}


def _run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    with root_logging_kept():
        assert cli.main(argv) == 0
    return capsys.readouterr().out


@pytest.fixture
async def scripted(system: System, api: Api) -> dict[str, Any]:
    return await _script(api)


async def test_as_of_shows_each_server_as_it_was(scripted: dict[str, Any], admin: Api
                                                 ) -> None:
    m = scripted
    sid, sid2 = m["sid"], m["sid2"]
    assert await _as_of(admin, sid, m["before"]) is None
    expected = {  # instant: (status, flavor, metadata, deleted, power_state)
        "active": ("ACTIVE", "m1.tiny", {}, False, 1),
        "stopped": ("SHUTOFF", "m1.tiny", {}, False, 4),
        "verify": ("VERIFY_RESIZE", "m1.small", {}, False, 1),
        "resized": ("ACTIVE", "m1.small", {}, False, 1),
        "metadata": ("ACTIVE", "m1.small", {"env": "prod"}, False, 1),
        "two": ("ACTIVE", "m1.small", {"env": "prod"}, False, 1),
        "deleted": ("DELETED", "m1.small", {"env": "prod"}, True, 0),
    }
    for mark, (status, flavor, metadata, deleted, power) in expected.items():
        server = await _as_of(admin, sid, m[mark])
        assert server is not None, mark
        got = (server["status"], server["flavor"]["original_name"], server["metadata"],
               server["deleted"], server["OS-EXT-STS:power_state"])
        assert got == (status, flavor, metadata, deleted, power), mark
        assert server["id"] == sid and server["name"] == "web-1"
        assert server["tenant_id"] == "project-a" and server["user_id"] == "alice"
    active = await _as_of(admin, sid, m["active"])
    assert active is not None and active["OS-EXT-SRV-ATTR:host"]
    assert active["OS-SRV-USG:launched_at"] and active["addresses"]
    gone = await _as_of(admin, sid, m["deleted"])
    assert gone is not None and gone["OS-SRV-USG:terminated_at"]
    # the whole set, one pass over the log
    assert await _all_as_of(admin, m["before"]) == {}
    assert await _all_as_of(admin, m["stopped"]) == {sid: ("SHUTOFF", False)}
    assert await _all_as_of(admin, m["metadata"]) == {sid: ("ACTIVE", False)}
    assert await _all_as_of(admin, m["two"]) == {sid: ("ACTIVE", False),
                                                 sid2: ("ACTIVE", False)}
    assert await _all_as_of(admin, m["deleted"]) == {sid: ("DELETED", True),
                                                     sid2: ("ACTIVE", False)}
    # without as_of: now
    assert await _all_as_of(admin, dt.datetime.now(dt.UTC)) == \
        {sid: ("DELETED", True), sid2: ("ACTIVE", False)}


async def test_history_events_actors_causes_and_secrets(system: System,
                                                        scripted: dict[str, Any],
                                                        admin: Api) -> None:
    sid = scripted["sid"]
    r = await admin.get(f"/os-history/servers/{sid}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["as_of"] is None and body["server"]["status"] == "DELETED"
    events = body["events"]
    own = [e["event_type"] for e in events if e["own_stream"]]
    wanted = ["ServerCreated", "ServerScheduled", "ServerSpawned", "ServerStopRequested",
              "ServerStopped", "ServerStartRequested", "ServerStarted",
              "ServerResizeRequested", "ServerResizeScheduled", "ServerResized",
              "ServerResizeConfirmed", "ServerMetadataSet", "ServerDeleteRequested",
              "ServerDeleted"]
    assert [t for t in own if t in wanted] == wanted
    assert own == [e.event_type for e in await system.store.read_stream(sid)]
    positions = [e["position"] for e in events]
    assert positions == sorted(positions)
    # other streams that name the server: its host's claims at least
    related = {e["event_type"] for e in events if not e["own_stream"]}
    assert {"ResourcesClaimed", "ResourcesReleased", "NetworkPortsAllocated",
            "NetworkPortsReleased"} <= related
    by_type = {e["event_type"]: e for e in events}
    created = by_type["ServerCreated"]
    assert (created["user_id"], created["project_id"]) == ("alice", "project-a")
    assert created["request_id"].startswith("req-") and created["cause"] == "API request"
    assert created["actor"] is None
    scheduled = by_type["ServerScheduled"]
    assert scheduled["actor"] == "scheduler"
    assert scheduled["request_id"] == created["request_id"]
    assert scheduled["causation_id"] == created["position"]
    assert scheduled["cause"] == f"#{created['position']} ServerCreated"
    stopped = by_type["ServerStopped"]
    assert stopped["changes"]["status"] == ["ACTIVE", "SHUTOFF"]
    assert "power_state: RUNNING -> SHUTDOWN" in stopped["summary"]
    assert by_type["ServerResized"]["changes"]["flavor"] == ["m1.tiny", "m1.small"]
    assert by_type["ServerMetadataSet"]["summary"] == "metadata: +env=prod"
    assert by_type["ServerDeleted"]["state"]["deleted"] is True
    # the sealed admin password is in the log, never shown, never decoded
    sealed = (await system.store.read_stream(sid))[0].data["admin_pass"]
    assert sealed and created["data"]["admin_pass"] == "<redacted>"
    assert sealed not in r.text and PASSWORD not in r.text
    # as_of cuts the history at that instant
    r = await admin.get(f"/os-history/servers/{sid}?as_of={_q(scripted['stopped'])}")
    cut = r.json()
    assert cut["server"]["status"] == "SHUTOFF"
    assert cut["events"][-1]["recorded_at"] <= scripted["stopped"].isoformat()
    assert "ServerStartRequested" not in {e["event_type"] for e in cut["events"]}


async def test_endpoints_are_admin_only_with_nova_faults(system: System, api: Api,
                                                          admin: Api) -> None:
    server = await api.create_server("mine")
    sid = server["id"]
    for path in ("/os-history/servers", f"/os-history/servers/{sid}",
                 f"/os-history/servers/{sid}/timeline"):
        assert_error(await api.get(path), 403, "forbidden")
    unknown = str(uuid.uuid4())
    assert_error(await admin.get(f"/os-history/servers/{unknown}"), 404, "itemNotFound",
                 f"Instance {unknown} could not be found.")
    assert_error(await admin.get("/os-history/servers/not-a-uuid/timeline"), 404,
                 "itemNotFound")
    for bad in ("yesterday", "2026-13-45T00:00:00Z", "-5x"):
        assert_error(await admin.get(f"/os-history/servers?as_of={bad}"), 400, "badRequest")
        assert_error(await admin.get(f"/os-history/servers/{sid}?as_of={bad}"), 400,
                     "badRequest")
    # relative and space-for-plus times are understood
    r = await admin.get(f"/os-history/servers/{sid}?as_of=now")
    assert r.status_code == 200 and r.json()["server"]["id"] == sid
    assert (await admin.get(f"/os-history/servers/{sid}?as_of=-1h")).status_code == 404
    now = dt.datetime.now(dt.UTC).isoformat()  # "+00:00" arrives as " 00:00"
    assert (await admin.get(f"/os-history/servers?as_of={now}")).status_code == 200


async def test_timeline_page(scripted: dict[str, Any], admin: Api) -> None:
    r = await admin.get(f"/os-history/servers/{scripted['sid']}/timeline")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    page = r.text
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    for event in ("ServerCreated", "ServerStopped", "ServerResizeConfirmed", "ServerDeleted",
                  "ResourcesClaimed"):
        assert event in page
    assert 'class="st-SHUTOFF' in page and 'class="st-DELETED' in page
    assert "alice/project-a" in page and "scheduler for alice/project-a" in page
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert PASSWORD not in page
    r = await admin.get(f"/os-history/servers/{scripted['sid2']}/timeline")
    assert r.status_code == 200
    assert "db-&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    assert "<script" not in r.text


async def test_cli(system: System, scripted: dict[str, Any],
                   capsys: pytest.CaptureFixture[str]) -> None:
    sid, sid2, dsn = scripted["sid"], scripted["sid2"], system.dsn

    def run(*argv: str) -> str:
        return _run_cli(["history", *argv, "--database-url", dsn], capsys)

    out = await asyncio.to_thread(run, sid)
    lines = out.splitlines()
    assert lines[0].split()[:7] == ["TIME", "(UTC)", "POS", "EVENT", "ACTOR", "REQUEST",
                                    "CAUSE"]
    assert any("ServerCreated" in line and "alice/project-a" in line and "API request" in line
               for line in lines)
    assert any("ServerStopped" in line and "status: ACTIVE -> SHUTOFF" in line
               for line in lines)
    assert any("ServerScheduled" in line and "scheduler for alice/project-a" in line
               for line in lines)
    assert PASSWORD not in out
    out = await asyncio.to_thread(run, sid, "--json")
    entries = [orjson.loads(line) for line in out.splitlines()]
    assert entries[0]["event_type"] == "ServerCreated"
    assert entries[0]["data"]["admin_pass"] == "<redacted>"
    assert any(e["event_type"] == "ServerDeleted" and e["state"]["deleted"] for e in entries)
    # one server at an instant
    out = await asyncio.to_thread(run, sid, "--as-of", scripted["stopped"].isoformat())
    assert out.startswith("as of ") and "SHUTOFF" in out and "m1.tiny" in out
    out = await asyncio.to_thread(run, sid, "--as-of", scripted["metadata"].isoformat(),
                                  "--json")
    view = orjson.loads(out)
    assert (view["status"], view["metadata"], view["flavor"]["original_name"]) == \
        ("ACTIVE", {"env": "prod"}, "m1.small")
    # every server at an instant, deleted ones marked
    out = await asyncio.to_thread(run, "--as-of", scripted["two"].isoformat(), "--json")
    assert {(v["id"], v["status"]) for v in map(orjson.loads, out.splitlines())} == \
        {(sid, "ACTIVE"), (sid2, "ACTIVE")}
    out = await asyncio.to_thread(run, "--as-of=now")
    lines = out.splitlines()
    assert lines[0].endswith(": 2 servers")
    row = next(line for line in lines if line.startswith(sid))
    assert row.split()[2] == "DELETED" and row.split()[-1] == "yes"
    assert next(line for line in lines if line.startswith(sid2)).split()[-1] == "no"
    with pytest.raises(SystemExit):
        await asyncio.to_thread(run, str(uuid.uuid4()))
    with pytest.raises(SystemExit):
        await asyncio.to_thread(run)


def test_parse_instant() -> None:
    now = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert history.parse_instant("now", now) == now
    assert history.parse_instant("-5m", now) == now - dt.timedelta(minutes=5)
    assert history.parse_instant("-1.5h", now) == now - dt.timedelta(minutes=90)
    assert history.parse_instant("2026-01-02T03:04:05Z") == now
    assert history.parse_instant("2026-01-02T03:04:05") == now  # UTC when it says no zone
    assert history.parse_instant("2026-01-02T04:04:05 01:00") == now
    for bad in ("yesterday", "-5", "5m", ""):
        with pytest.raises(ValueError):
            history.parse_instant(bad, now)


def test_redact_masks_secrets_without_decoding() -> None:
    data = {"name": "x", "admin_pass": "gAAAA-sealed", "files": [{"path": "/a"}],
            "user_data": "", "nested": {"password": "p", "ok": 1}, "list": [{"key_data": "k"}]}
    assert history.redact(data) == {
        "name": "x", "admin_pass": "<redacted>", "files": "<redacted>", "user_data": "",
        "nested": {"password": "<redacted>", "ok": 1}, "list": [{"key_data": "<redacted>"}]}
