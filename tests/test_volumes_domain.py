"""The Volume aggregate and a server's volume block devices, without I/O."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from control_plane.domain.errors import Conflict, NotFound
from control_plane.domain.errors import Invalid as BadRequest
from control_plane.domain.servers import states
from control_plane.domain.servers import volume_attachments as sv
from control_plane.domain.servers.aggregate import Server
from control_plane.domain.volumes.aggregate import Volume
from control_plane.store.event_codec import upcast

NOW = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def _server(ephemeral: int = 0, swap: int = 0) -> Server:
    fields: dict[str, Any] = dict(
        name="s", project_id="p", user_id="u",
        flavor={"id": "1", "vcpus": 1, "ram": 512, "disk": 1, "ephemeral": ephemeral,
                "swap": swap},
        image_ref="i", key_name=None, key_data=None, metadata={}, access_ipv4="",
        access_ipv6="", disk_config="MANUAL", availability_zone=None, config_drive="",
        user_data=None, reservation_id="r-1", launch_index=0, security_groups=[],
        networks=None, hostname="s")
    # a version-1 ServerCreated, brought up to the current version by its upcasters
    _, fields = upcast("ServerCreated", 1, fields)
    server = Server.create(uuid.uuid4(), NOW, **fields)
    server.schedule("host1", "host1", "nova", NOW)
    server.mark_spawned(NOW.isoformat(), {}, NOW)
    return server


def _volume(size: int = 1) -> Volume:
    return Volume.create(uuid.uuid4(), NOW, project_id="p", user_id="u", size=size,
                         display_name=None, display_description=None,
                         volume_type="__DEFAULT__", availability_zone="nova",
                         snapshot_id=None, metadata={})


def test_device_names_skip_the_flavors_local_disks() -> None:
    assert [sv._letters(i) for i in (0, 1, 25, 26, 27)] == ["a", "b", "z", "aa", "ab"]
    assert sv.next_device(_server()) == "/dev/vdb"
    assert sv.next_device(_server(ephemeral=1)) == "/dev/vdc"
    assert sv.next_device(_server(ephemeral=1, swap=512)) == "/dev/vdd"


def test_attach_detach_fold_on_both_aggregates() -> None:
    server, volume = _server(), _volume()
    vid, sid = str(volume.id), str(server.id)
    assert volume.status == "available"
    device = sv.request_attach(server, vid, None, None, None, NOW)
    volume.reserve(sid, device, NOW)
    assert (volume.status, volume.device) == ("attaching", "/dev/vdb")
    with pytest.raises(BadRequest):
        volume.check_attachable()
    with pytest.raises(Conflict):
        sv.request_attach(server, str(uuid.uuid4()), "/dev/vdb", None, None, NOW)
    assert sv.finish(server, "attach", vid, "", NOW.isoformat(), "", "", NOW)
    assert not sv.finish(server, "attach", vid, "", NOW.isoformat(), "", "", NOW)  # once
    volume.finish_attach(sid, True, NOW)
    assert volume.status == "in-use" and sv.devices(server)[vid]["state"] == "attached"
    with pytest.raises(BadRequest):
        volume.delete(0, NOW)
    sv.request_detach(server, vid, NOW)
    volume.begin_detaching(sid, NOW)
    with pytest.raises(BadRequest):  # detaching already
        volume.begin_detaching(sid, NOW)
    assert sv.finish(server, "detach", vid, "", NOW.isoformat(), "", "", NOW)
    volume.finish_detach(sid, True, NOW)
    assert volume.status == "available" and volume.server_id is None
    assert sv.devices(server) == {}
    with pytest.raises(NotFound):
        sv.request_detach(server, vid, NOW)
    volume.delete(0, NOW)
    assert volume.deleted


def test_refused_server_states() -> None:
    server = _server()
    server.reset_state(states.ERROR, NOW)
    with pytest.raises(Conflict, match="while it is in vm_state error"):
        sv.check_attach(server)
    server.reset_state(states.SHELVED_OFFLOADED, NOW)
    with pytest.raises(Conflict, match="vm_state shelved_offloaded"):
        sv.check_attach(server)


def test_release_frees_every_volume_including_a_swap_target() -> None:
    server = _server()
    sid = str(server.id)
    old, new, attaching = _volume(), _volume(), _volume()
    for v in (old, attaching):
        v.reserve(sid, sv.request_attach(server, str(v.id), None, None, None, NOW), NOW)
    sv.finish(server, "attach", str(old.id), "", "", "", "", NOW)
    old.finish_attach(sid, True, NOW)
    device = sv.request_swap(server, str(old.id), str(new.id), NOW)
    old.begin_detaching(sid, NOW)
    new.reserve(sid, device, NOW)
    server.request_delete(NOW)
    server.mark_deleted(NOW.isoformat(), NOW)
    ids = sv.release_all(server, NOW)
    assert sorted(ids) == sorted(str(v.id) for v in (old, new, attaching))
    for v in (old, new, attaching):
        v.release(sid, NOW)
        assert (v.status, v.server_id) == ("available", None)
    assert sv.devices(server) == {}
