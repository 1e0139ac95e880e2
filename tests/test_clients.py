"""Drive a live ``control-plane serve`` with the unmodified OpenStack clients from PyPI.

Each test starts the whole system (API, projections, scheduler, fake compute hosts)
as a subprocess on a free port and its own fresh database, then talks to it only
through python-novaclient or openstacksdk, as a user would.
"""

from __future__ import annotations

import os
import pathlib
import time
from typing import Any

import pytest

from control_plane.api.microversion import MAX_VERSION
from tests.conftest import IMAGE
from tests.live import Live, live_server

__all__ = ["live_server"]  # the fixture, imported for pytest

pytestmark = [
    pytest.mark.clients,
    # openstacksdk warns about its own internals (InfluxDB support on every Connection,
    # a ``service_type`` argument its proxy passes to itself), not about our usage.
    pytest.mark.filterwarnings("ignore::openstack.warnings.RemovedInSDK60Warning"),
    pytest.mark.filterwarnings("ignore::openstack.warnings.RemovedInSDK50Warning"),
]

TIMEOUT = 30.0


def _poll(fetch: Any, done: Any, what: str) -> Any:
    deadline = time.monotonic() + TIMEOUT
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last: {value!r}")
        time.sleep(0.05)


def test_novaclient_boot_list_delete(live_server: Live) -> None:
    from keystoneauth1 import session
    from keystoneauth1.identity import v3
    from novaclient import api_versions, client, exceptions

    sess = session.Session(auth=v3.Password(
        auth_url=live_server.auth_url, username="demo", password="secret",
        project_name="demo", user_domain_name="Default", project_domain_name="Default"))
    demo_user, demo_project = sess.get_user_id(), sess.get_project_id()
    version = api_versions.discover_version(client.Client("2.1", session=sess),
                                            api_versions.APIVersion("2.latest"))
    assert version.get_string() == str(MAX_VERSION)
    nova = client.Client(version.get_string(), session=sess)

    flavors = {f.name: f for f in nova.flavors.list()}
    assert {"m1.tiny", "m1.small", "m1.medium", "m1.large", "m1.xlarge"} <= set(flavors)
    tiny = nova.flavors.get("1")
    assert (tiny.name, tiny.vcpus, tiny.ram, tiny.disk) == ("m1.tiny", 1, 512, 1)
    assert tiny.is_public is True

    created = nova.servers.create("nc-vm", IMAGE, "1")
    assert created.adminPass
    assert created.request_ids[0].startswith("req-")

    server = _poll(lambda: nova.servers.get(created.id), lambda s: s.status != "BUILD",
                   "server to leave BUILD")
    info = server.to_dict()
    assert server.status == "ACTIVE", info.get("fault")
    assert server.name == "nc-vm"
    assert (server.tenant_id, server.user_id) == (demo_project, demo_user)
    assert server.image["id"] == IMAGE
    assert server.flavor["id"] == "1"
    assert info["OS-EXT-STS:vm_state"] == "active"
    assert info["OS-EXT-STS:task_state"] is None
    assert info["OS-EXT-STS:power_state"] == 1
    assert info["OS-EXT-AZ:availability_zone"] == "nova"
    assert server.hostId
    assert server.locked is False  # microversion 2.9
    (network, ips), = server.networks.items()
    assert network == "private" and len(ips) == 1
    assert server.addresses[network][0]["version"] == 4

    assert created.id in [s.id for s in nova.servers.list()]
    assert [s.id for s in nova.servers.list(search_opts={"name": "^nc-vm$"})] == [created.id]

    def status_is(status: str) -> None:
        _poll(lambda: nova.servers.get(created.id).status, lambda s: s == status, status)

    nova.servers.stop(created.id)
    status_is("SHUTOFF")
    nova.servers.start(created.id)
    status_is("ACTIVE")
    nova.servers.reboot(created.id, reboot_type="HARD")
    status_is("ACTIVE")
    actions = nova.instance_action.list(created.id)
    assert [a.action for a in actions] == ["reboot", "start", "stop", "create"]
    assert nova.instance_action.get(created.id, actions[0].request_id).action == "reboot"

    nova.servers.delete(created.id)

    def gone() -> bool:
        try:
            nova.servers.get(created.id)
        except exceptions.NotFound:
            return True
        return False

    _poll(gone, bool, "server to be deleted")
    assert created.id not in [s.id for s in nova.servers.list()]


def test_openstacksdk_boot_list_delete(live_server: Live, tmp_path: pathlib.Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import openstack
    from openstack import exceptions

    for name in list(os.environ):
        if name.startswith("OS_"):
            monkeypatch.delenv(name)
    config = tmp_path / "clouds.yaml"
    config.write_text("clouds: {}\n")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(config))

    conn = openstack.connection.Connection(
        auth_type="password", auth={
            "auth_url": live_server.auth_url, "username": "demo", "password": "secret",
            "project_name": "demo", "user_domain_name": "Default",
            "project_domain_name": "Default"},
        region_name="RegionOne", identity_api_version="3",
    )
    try:
        flavors = {f.name: f for f in conn.compute.flavors()}
        assert {"m1.tiny", "m1.small", "m1.medium", "m1.large", "m1.xlarge"} <= set(flavors)
        tiny = conn.compute.find_flavor("m1.tiny", ignore_missing=False)
        assert (tiny.id, tiny.vcpus, tiny.ram, tiny.disk) == ("1", 1, 512, 1)

        server = conn.compute.create_server(name="sdk-vm", flavor_id="1", image_id=IMAGE)
        assert server.admin_password
        server = conn.compute.wait_for_server(server, status="ACTIVE", failures=["ERROR"],
                                              interval=0.1, wait=TIMEOUT)
        assert server.status == "ACTIVE"
        assert server.name == "sdk-vm"
        assert (server.project_id, server.user_id) == (conn.current_project_id,
                                                       conn.current_user_id)
        assert server.image.id == IMAGE
        assert server.flavor.id == "1"
        assert server.vm_state == "active"
        assert server.task_state is None
        assert server.power_state == 1
        assert server.availability_zone == "nova"
        assert server.host_id
        assert server.is_locked is False
        assert [a["version"] for a in server.addresses["private"]] == [4]

        assert server.id in [s.id for s in conn.compute.servers()]
        assert [s.id for s in conn.compute.servers(name="^sdk-vm$")] == [server.id]
        found = conn.compute.find_server("sdk-vm")
        assert found is not None and found.id == server.id

        conn.compute.stop_server(server)
        conn.compute.wait_for_server(server, status="SHUTOFF", interval=0.1, wait=TIMEOUT)
        conn.compute.start_server(server)
        conn.compute.wait_for_server(server, status="ACTIVE", interval=0.1, wait=TIMEOUT)
        conn.compute.reboot_server(server, "SOFT")
        conn.compute.wait_for_server(server, status="ACTIVE", interval=0.1, wait=TIMEOUT)
        actions = list(conn.compute.server_actions(server))
        assert [a.action for a in actions] == ["reboot", "start", "stop", "create"]
        assert all(a.request_id.startswith("req-") for a in actions)

        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, interval=0.1, wait=TIMEOUT)
        with pytest.raises(exceptions.NotFoundException):
            conn.compute.get_server(server.id)
        assert conn.compute.find_server(server.id) is None
    finally:
        conn.close()
