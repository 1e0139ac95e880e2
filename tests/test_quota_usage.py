"""Quotas hold under concurrency: usage is claimed in the append that creates, resizes
or deletes a server (control_plane.domain.quotas.usage), never read from a view."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from control_plane.bootstrap import System
from control_plane.domain.errors import QuotaExceeded
from control_plane.domain.quotas.usage import ProjectUsage, usage_stream_id
from control_plane.domain.servers.aggregate import Server
from control_plane.service import uow as uow_module
from control_plane.service.handlers.quotas import project_usage
from control_plane.service.uow import UnitOfWork
from control_plane.store.event_codec import replay, to_new_event
from control_plane.store.eventstore import ConcurrencyError, StreamAppend
from tests.conftest import IMAGE, Api, assert_error

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
LIMITS = {"instances": 3, "cores": 4, "ram": 4096}
TINY = {"instances": 1, "cores": 1, "ram": 512}


# -- the aggregate, without a database ----------------------------------------------------


def test_fit_takes_as_many_as_fit_between_min_and_max() -> None:
    usage = ProjectUsage.open("p", {"a": TINY}, NOW)
    assert usage.fit(TINY, 1, 5, LIMITS) == 2
    with pytest.raises(QuotaExceeded) as err:
        usage.fit(TINY, 3, 5, LIMITS)
    assert err.value.message == (
        "Quota exceeded for instances: Requested 3, but already used 1 of 3 instances")
    unlimited = dict.fromkeys(LIMITS, -1)
    assert usage.fit(TINY, 1, 50, unlimited) == 50


def test_claims_and_releases_are_idempotent_by_server() -> None:
    usage = ProjectUsage.open("p", {}, NOW)
    usage.claim({"a": TINY, "b": TINY}, NOW)
    usage.claim({"a": TINY}, NOW)  # the same claim again: no event
    assert usage.used() == {"instances": 2, "cores": 2, "ram": 1024}
    usage.hold("a", None, NOW)
    usage.hold("a", None, NOW)
    assert usage.used() == TINY
    assert [type(e).__name__ for e in usage.collect_events()] == [
        "Created", "Claimed", "Released"]


def test_an_increase_must_fit_and_names_the_delta() -> None:
    usage = ProjectUsage.open("p", {"a": TINY, "b": TINY}, NOW)
    with pytest.raises(QuotaExceeded) as err:
        usage.hold("a", {"instances": 1, "cores": 4, "ram": 512}, NOW, LIMITS)
    assert err.value.message == (
        "Quota exceeded for cores: Requested 3, but already used 2 of 4 cores")
    usage.hold("a", {"instances": 1, "cores": 3, "ram": 512}, NOW, LIMITS)
    assert usage.used()["cores"] == 4
    # giving back never needs room
    usage.hold("a", TINY, NOW, LIMITS)
    assert usage.used()["cores"] == 2


# -- the usage stream in Postgres ---------------------------------------------------------


async def test_racing_claims_on_one_usage_stream_clash(bare_system: System) -> None:
    store = bare_system.store
    first = UnitOfWork(store)
    (await project_usage(first, "p")).claim({"a": TINY}, NOW)
    await first.commit({})
    one, two = UnitOfWork(store), UnitOfWork(store)
    (await project_usage(one, "p")).claim({"b": TINY}, NOW)
    (await project_usage(two, "p")).claim({"c": TINY}, NOW)
    await one.commit({})
    with pytest.raises(ConcurrencyError):
        await two.commit({})
    # two openers of a new stream clash as well (both append at version 0)
    one, two = UnitOfWork(store), UnitOfWork(store)
    (await project_usage(one, "q")).claim({"b": TINY}, NOW)
    (await project_usage(two, "q")).claim({"c": TINY}, NOW)
    await one.commit({})
    with pytest.raises(ConcurrencyError):
        await two.commit({})


async def test_an_existing_project_is_seeded_from_its_servers(bare_system: System) -> None:
    """A database from before usage streams: servers but no usage; the first create
    opens the stream with them."""
    uow = UnitOfWork(bare_system.store)
    flavor = {"id": "3", "name": "m1.medium", "vcpus": 2, "ram": 4096, "disk": 40,
              "ephemeral": 0, "swap": 0, "extra_specs": {}}
    old = [uuid.uuid4() for _ in range(3)]
    for sid in old:
        uow.add(Server.create(
            sid, NOW, name="old", project_id="project-a", user_id="alice", flavor=flavor,
            image_ref=IMAGE, key_name=None, key_data=None, metadata={}, access_ipv4="",
            access_ipv6="", disk_config="AUTO", availability_zone=None, config_drive="",
            user_data=None, reservation_id="r-1", launch_index=0, security_groups=[],
            networks="auto", hostname="old", admin_pass="", files=[]))
    await uow.commit({})
    assert await bare_system.store.read_stream(str(usage_stream_id("project-a"))) == []
    transport = httpx.ASGITransport(app=bare_system.app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        api = Api(http, "alice", "project-a")
        r = await api.post("/servers", {"server": {"name": "x", "flavorRef": "1",
                                                   "imageRef": IMAGE, "max_count": 20}})
        assert r.status_code == 202
    usage = await UnitOfWork(bare_system.store).get(ProjectUsage, usage_stream_id("project-a"))
    assert usage is not None
    assert usage.used() == {"instances": 10, "cores": 13, "ram": 3 * 4096 + 7 * 512}
    assert {str(s) for s in old} <= set(usage.holdings)


# -- through the HTTP API -----------------------------------------------------------------


def _create(api: Api, name: str, flavor: str = "1") -> Any:
    return api.post("/servers", {"server": {"name": name, "flavorRef": flavor,
                                            "imageRef": IMAGE}})


FULL = "Quota exceeded for instances: Requested 1, but already used 10 of 10 instances"


async def test_fifty_concurrent_creates_against_ten_instances(system: System,
                                                              api: Api) -> None:
    assert system.settings.quotas["instances"] == 10
    answers = await asyncio.gather(*(_create(api, f"c{i}") for i in range(50)))
    assert sorted(r.status_code for r in answers) == [202] * 10 + [403] * 40
    for r in answers:
        if r.status_code == 403:
            assert_error(r, 403, "forbidden", FULL)
    assert len((await api.get("/servers")).json()["servers"]) == 10
    limits = (await api.get("/limits")).json()["limits"]["absolute"]
    assert limits["totalInstancesUsed"] == 10


@contextlib.asynccontextmanager
async def _no_process_queue() -> AsyncIterator[None]:
    yield


async def test_concurrent_creates_from_several_processes(
    system: System, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the in-process queue every racer appends at the same version: the usage
    stream clashes and each loser retries on fresh usage."""
    monkeypatch.setattr(uow_module, "_keyed", lambda key: _no_process_queue())
    answers = await asyncio.gather(*(_create(api, f"c{i}") for i in range(30)))
    assert sorted(r.status_code for r in answers) == [202] * 10 + [403] * 20
    assert len((await api.get("/servers")).json()["servers"]) == 10


async def test_concurrent_multiple_creates_share_the_quota(system: System, api: Api) -> None:
    bodies = [{"server": {"name": f"m{i}", "flavorRef": "1", "imageRef": IMAGE,
                          "min_count": 2, "max_count": 3}} for i in range(6)]
    answers = await asyncio.gather(*(api.post("/servers", b) for b in bodies))
    assert len((await api.get("/servers")).json()["servers"]) <= 10
    accepted = [r for r in answers if r.status_code == 202]
    # 3 + 3 + 3, then 1 left: less than min_count 2
    assert len(accepted) == 3
    assert len((await api.get("/servers")).json()["servers"]) == 9


async def test_a_delete_gives_the_instance_back(system: System, api: Api) -> None:
    ids = [(await api.create_server(f"d{i}"))["id"] for i in range(10)]
    assert_error(await _create(api, "over"), 403, "forbidden", FULL)
    await api.wait_status(ids[0], "ACTIVE")
    assert (await api.delete(f"/servers/{ids[0]}")).status_code == 204
    await api.wait_status(ids[0], "DELETED")
    assert (await _create(api, "again")).status_code == 202
    assert_error(await _create(api, "over"), 403, "forbidden", FULL)


async def test_soft_deleted_servers_count_until_reclaimed(system: System, api: Api) -> None:
    system.settings.quotas["instances"] = 1
    system.settings.reclaim_instance_interval = 3600
    sid = (await api.create_server("s"))["id"]
    await api.wait_status(sid, "ACTIVE")
    await api.delete(f"/servers/{sid}")
    await api.wait_status(sid, "SOFT_DELETED")
    r = await _create(api, "t")
    assert_error(r, 403, "forbidden",
                 "Quota exceeded for instances: Requested 1, but already used 1 of 1 instances")
    assert (await api.post(f"/servers/{sid}/action", {"forceDelete": None})).status_code == 202
    await api.wait_status(sid, "DELETED")
    assert (await _create(api, "t")).status_code == 202


async def test_concurrent_resizes_against_the_cores_quota(system: System, api: Api) -> None:
    """Four m1.tiny servers (4 cores) at a quota of 8 cores: a resize to m1.large
    claims 3 more cores, so only one of four racing resizes fits."""
    system.settings.quotas["cores"] = 8
    ids = [(await api.create_server(f"r{i}"))["id"] for i in range(4)]
    for sid in ids:
        await api.wait_status(sid, "ACTIVE")
    answers = await asyncio.gather(*(
        api.post(f"/servers/{sid}/action", {"resize": {"flavorRef": "4"}}) for sid in ids))
    assert sorted(r.status_code for r in answers) == [202] + [403] * 3
    for r in answers:
        if r.status_code == 403:
            assert_error(r, 403, "forbidden",
                         "Quota exceeded for cores: Requested 3, but already used 7 of 8 cores")
    # a revert gives the increase back; then another resize fits
    resized = ids[[r.status_code for r in answers].index(202)]
    await api.wait_status(resized, "VERIFY_RESIZE")
    other = next(s for s in ids if s != resized)
    r = await api.post(f"/servers/{other}/action", {"resize": {"flavorRef": "4"}})
    assert r.status_code == 403
    assert (await api.post(f"/servers/{resized}/action", {"revertResize": None})
            ).status_code == 202
    await api.wait_status(resized, "ACTIVE")
    r = await api.post(f"/servers/{other}/action", {"resize": {"flavorRef": "4"}})
    assert r.status_code == 202, r.text
    await api.wait_status(other, "VERIFY_RESIZE")
    # a confirm keeps the new flavor's cores: nothing more fits
    assert (await api.post(f"/servers/{other}/action", {"confirmResize": None})
            ).status_code == 204
    await api.wait_status(other, "ACTIVE")
    usage = await UnitOfWork(system.store).get(ProjectUsage, usage_stream_id("project-a"))
    assert usage is not None and usage.used()["cores"] == 7
    r = await api.post(f"/servers/{resized}/action", {"resize": {"flavorRef": "4"}})
    assert_error(r, 403, "forbidden",
                 "Quota exceeded for cores: Requested 3, but already used 7 of 8 cores")
    # and a delete gives all of it back
    assert (await api.delete(f"/servers/{other}")).status_code == 204
    await api.wait_status(other, "DELETED")
    assert (await api.post(f"/servers/{resized}/action", {"resize": {"flavorRef": "4"}})
            ).status_code == 202


async def test_projects_have_their_own_usage(system: System, api: Api, other: Api) -> None:
    system.settings.quotas["instances"] = 2
    for i in range(2):
        await api.create_server(f"a{i}")
    assert (await _create(api, "a")).status_code == 403
    assert (await _create(other, "b")).status_code == 202



async def test_kept_usage_is_brought_up_to_date_or_dropped(bare_system: System) -> None:
    """The usage a process keeps after a commit (uow.RECENT) is only a head start: events
    appended elsewhere are folded in, and a state whose stream changed is not used."""
    store = bare_system.store
    uow = UnitOfWork(store)
    (await project_usage(uow, "p")).claim({"a": TINY}, NOW)
    await uow.commit({})
    # another process appends (its commit is not kept here)
    stream = str(usage_stream_id("p"))
    elsewhere = replay(ProjectUsage, await store.read_stream(stream))
    assert elsewhere is not None and set(elsewhere.holdings) == {"a"}
    elsewhere.claim({"b": TINY}, NOW)
    await store.append([StreamAppend(stream, elsewhere.version - 1,
                                     [to_new_event(e) for e in elsewhere.collect_events()])])
    fresh = await UnitOfWork(store).get(ProjectUsage, usage_stream_id("p"))
    assert fresh is not None and set(fresh.holdings) == {"a", "b"}
    # a kept state whose event is no longer the stream's (another database) is dropped
    mark, snap = uow_module.RECENT._kept[usage_stream_id("p")]
    uow_module.RECENT._kept[usage_stream_id("p")] = ((mark[0] + 1000, *mark[1:]), snap)
    assert await uow_module.RECENT.load(store, ProjectUsage, usage_stream_id("p")) is None
    again = await UnitOfWork(store).get(ProjectUsage, usage_stream_id("p"))
    assert again is not None and set(again.holdings) == {"a", "b"}
