"""The servers view's folded state: a Server survives JSON and back unchanged, and the row
written from it shows what the aggregate holds. No database."""

from __future__ import annotations

import datetime as dt
import uuid

import orjson

from control_plane.domain.servers import deletion, resize, states
from control_plane.domain.servers import volume_attachments as sv
from control_plane.domain.servers.aggregate import Server
from control_plane.domain.servers.state_json import from_state, to_state
from projections.servers.projection import COLUMNS, row_of

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _server() -> Server:
    return Server.create(
        uuid.uuid4(), T0, name="vm", project_id="p", user_id="u",
        flavor={"id": "1", "ram": 512}, image_ref="img", key_name=None, key_data=None,
        metadata={"a": "1"}, access_ipv4="", access_ipv6="", disk_config="AUTO",
        availability_zone=None, config_drive="", user_data=None, reservation_id="r-1",
        launch_index=0, security_groups=["default"], networks="auto", hostname="vm",
        admin_pass="", files=[])


def _at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def test_state_round_trips_through_jsonb() -> None:
    s = _server()
    s.schedule("h1", "h1", "nova", _at(1))
    s.mark_spawned("x", {"net": [{"addr": "10.0.0.2"}]}, _at(2))
    for i, vid in enumerate(("v-b", "v-a", "v-c")):
        sv.request_attach(s, vid, None, None, None, _at(3 + i))
    resize.request(s, {"id": "2", "ram": 1024}, _at(9))
    # jsonb keeps no key order: the view's volumes keep theirs all the same
    state = orjson.loads(orjson.dumps(to_state(s), option=orjson.OPT_SORT_KEYS))
    back = from_state(state)
    assert to_state(back) == to_state(s)
    assert row_of(back) == row_of(s)
    assert [v["id"] for v in row_of(back)["volumes_attached"]] == ["v-b", "v-a", "v-c"]


def test_the_row_follows_the_aggregate() -> None:
    s = _server()
    row = row_of(s)
    assert set(row) == set(COLUMNS)
    assert (row["status"], row["vm_state"], row["task_state"]) == ("BUILD", "building",
                                                                    "scheduling")
    assert row["created_at"] == row["updated_at"] == T0
    s.schedule("h1", "h1", "nova", _at(1))
    s.mark_spawned("x", {"net": []}, _at(2))
    row = row_of(s)
    assert (row["status"], row["host"], row["launched_at"], row["updated_at"]) == (
        "ACTIVE", "h1", _at(2), _at(2))
    assert row["addresses"] == {"net": []}
    resize.request(s, {"id": "2"}, _at(3))
    assert row_of(s)["resize"] == {"old_flavor": {"id": "1", "ram": 512},
                                   "new_flavor": {"id": "2"}, "return_to": states.ACTIVE,
                                   "source": "h1"}
    resize.fail(s, "no host", "x", _at(4))
    assert row_of(s)["resize"] is None
    deletion.request_delete(s, True, _at(5))
    s.complete_action("soft_delete", "x", _at(6))
    assert row_of(s)["soft_deleted_at"] == _at(6)
    assert row_of(s)["status"] == "SOFT_DELETED"
