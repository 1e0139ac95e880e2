"""The unmodified `openstack` CLI against a live server, logging in through clouds.yaml."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys
import time
from typing import Any

import pytest

from tests.live import Live, live_server

__all__ = ["live_server"]

pytestmark = pytest.mark.clients

OPENSTACK = shutil.which("openstack", path=str(pathlib.Path(sys.executable).parent)) or \
    shutil.which("openstack")


class CLI:
    def __init__(self, live: Live, tmp: pathlib.Path, user: str = "demo") -> None:
        config = tmp / f"clouds-{user}.yaml"
        config.write_text(
            "clouds:\n  local:\n    auth_type: password\n    auth:\n"
            f"      auth_url: {live.auth_url}\n      username: {user}\n"
            "      password: secret\n      project_name: demo\n"
            "      user_domain_name: Default\n      project_domain_name: Default\n"
            "    region_name: RegionOne\n    identity_api_version: 3\n")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        self.env.update(OS_CLIENT_CONFIG_FILE=str(config), OS_CLOUD="local")
        self.cwd = tmp

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        assert OPENSTACK is not None, "python-openstackclient is not installed"
        proc = subprocess.run([OPENSTACK, *args], env=self.env, cwd=self.cwd, text=True,
                              capture_output=True, timeout=120, check=False)
        if check and proc.returncode != 0:
            raise AssertionError(f"openstack {' '.join(args)} failed ({proc.returncode}):\n"
                                 f"{proc.stdout}\n{proc.stderr}")
        return proc

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "-f", "json").stdout)


def _until(cli: CLI, name: str, status: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while cli.json("server", "show", name)["status"] != status:
        assert time.monotonic() < deadline, f"{name} never became {status}"
        time.sleep(0.2)


async def test_openstack_cli_server_flow(live_server: Live, tmp_path: pathlib.Path) -> None:
    cli = CLI(live_server, tmp_path)
    flavors = {f["Name"]: f for f in cli.json("flavor", "list")}
    assert {"m1.tiny", "m1.small", "m1.medium", "m1.large", "m1.xlarge"} <= set(flavors)
    assert flavors["m1.tiny"]["RAM"] == 512

    key = cli.json("keypair", "create", "--private-key", str(tmp_path / "k1.pem"), "k1")
    assert key["name"] == "k1" and key["fingerprint"].count(":") == 15
    assert "PRIVATE KEY-----" in (tmp_path / "k1.pem").read_text()  # OSC makes it locally

    images = {i["Name"] for i in cli.json("image", "list")}
    assert "cirros-0.6.2-x86_64-disk" in images

    server = cli.json("server", "create", "--image", "cirros-0.6.2-x86_64-disk",
                      "--flavor", "m1.tiny", "--key-name", "k1", "--wait", "vm1")
    assert server["status"] == "ACTIVE" and server["name"] == "vm1"
    assert server["key_name"] == "k1"

    listed = cli.json("server", "list")
    assert [(s["Name"], s["Status"]) for s in listed] == [("vm1", "ACTIVE")]
    assert listed[0]["Image"] == "cirros-0.6.2-x86_64-disk"
    assert listed[0]["Flavor"] == "m1.tiny"

    shown = cli.json("server", "show", "vm1")
    assert shown["id"] == server["id"] and shown["OS-EXT-STS:vm_state"] == "active"

    cli.run("server", "stop", "vm1")
    _until(cli, "vm1", "SHUTOFF")
    cli.run("server", "start", "vm1")
    _until(cli, "vm1", "ACTIVE")
    cli.run("server", "reboot", "--hard", "--wait", "vm1")
    assert cli.json("server", "show", "vm1")["status"] == "ACTIVE"

    events = cli.json("server", "event", "list", "vm1")
    assert [e["Action"] for e in events] == ["reboot", "start", "stop", "create"]
    assert all(e["Request ID"].startswith("req-") for e in events)

    cli.run("server", "delete", "--wait", "vm1")
    assert cli.json("server", "list") == []

    # a reader of the same project sees but cannot change
    reader = CLI(live_server, tmp_path, user="demo-reader")
    assert reader.json("server", "list") == []
    denied = reader.run("keypair", "create", "k2", check=False)
    assert denied.returncode != 0
