"""control_plane.access.policy: Nova's default rules through oslo.policy, and operator overrides."""

from __future__ import annotations

import pathlib

import pytest

from control_plane.access.policy import (
    ENV_POLICY_FILE,
    Policy,
    PolicyFileError,
    UnknownPolicyRule,
    expand_roles,
)
from control_plane.api.compute import policies
from control_plane.api.faults import Forbidden
from control_plane.context import RequestContext

SERVERS = "os_compute_api:servers:"


def ctx(*roles: str, project: str = "p", user: str = "u") -> RequestContext:
    return RequestContext(user_id=user, project_id=project, roles=roles)


@pytest.fixture(scope="module")
def policy() -> Policy:
    return Policy(policy_file=None)


@pytest.fixture(autouse=True)
def _no_env_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_POLICY_FILE, raising=False)


def test_reader_reads_but_does_not_write(policy: Policy) -> None:
    reader = ctx("reader")
    assert policy.check(reader, SERVERS + "show", {"project_id": "p"})
    assert policy.check(reader, SERVERS + "show")  # default target: the caller's project
    assert not policy.check(reader, SERVERS + "create")
    assert not policy.check(reader, SERVERS + "delete", {"project_id": "p"})


def test_member_creates_in_own_project_only(policy: Policy) -> None:
    member = ctx("member")
    assert policy.check(member, SERVERS + "create")
    assert policy.check(member, SERVERS + "show")  # member implies reader
    assert policy.check(member, "os_compute_api:os-pause-server:pause")
    other = ctx("member", project="q")
    assert not policy.check(other, SERVERS + "show", {"project_id": "p", "user_id": "u"})
    assert not policy.check(other, SERVERS + "delete", {"project_id": "p"})
    assert not policy.check(ctx(), SERVERS + "show")  # no role at all


@pytest.mark.parametrize("rule", [
    "os_compute_api:os-flavor-manage:create",
    "os_compute_api:os-hypervisors:list",
    "os_compute_api:os-instance-actions:events",
    "os_compute_api:servers:index:get_all_tenants",
    "os_compute_api:os-services:list",
    "os_compute_api:os-agents:list",
])
def test_admin_only_rules(policy: Policy, rule: str) -> None:
    admin = ctx("admin", project="admin-project")
    assert policy.check(admin, rule, {"project_id": "someone-else"})
    policy.enforce(admin, rule)
    with pytest.raises(Forbidden) as denied:
        policy.enforce(ctx("member"), rule)
    assert denied.value.message == f"Policy doesn't allow {rule} to be performed."
    assert denied.value.code == 403


def test_admin_reaches_other_projects(policy: Policy) -> None:
    admin = ctx("admin", project="admin-project")
    assert policy.check(admin, SERVERS + "delete", {"project_id": "p"})
    assert policy.check(admin, SERVERS + "show", {"project_id": "p"})


def test_manager_moves_servers_but_member_does_not(policy: Policy) -> None:
    rule = "os_compute_api:os-migrate-server:migrate"
    assert policy.check(ctx("manager"), rule)
    assert policy.check(ctx("manager"), SERVERS + "create")  # manager implies member
    assert not policy.check(ctx("member"), rule)
    assert not policy.check(ctx("manager"), rule + ":host")  # choosing the host is admin's


def test_keypairs_belong_to_their_user(policy: Policy) -> None:
    rule = "os_compute_api:os-keypairs:show"
    assert policy.check(ctx("member"), rule, {"user_id": "u"})
    assert not policy.check(ctx("member"), rule, {"user_id": "someone-else"})
    assert policy.check(ctx("admin"), rule, {"user_id": "someone-else"})


def test_open_and_closed_rules(policy: Policy) -> None:
    assert policy.check(ctx(), "os_compute_api:limits")
    assert policy.check(ctx(), "os_compute_api:extensions")
    assert not policy.check(ctx("admin"), "compute:servers:resize:cross_cell")


def test_unknown_rule_raises(policy: Policy) -> None:
    with pytest.raises(UnknownPolicyRule):
        policy.check(ctx("admin"), "os_compute_api:servers:no-such-rule")
    with pytest.raises(KeyError):
        policy.enforce(ctx("admin"), "no-such-rule")


def test_rules_lists_every_registered_name(policy: Policy) -> None:
    names = policy.rules()
    assert len(names) >= 150
    assert len(names) == len(set(names))
    for name in ("context_is_admin", "admin_api", "admin_or_owner", "project_member_or_admin",
                 "project_reader_or_admin", "os_compute_api:os-pause-server:pause",
                 "os_compute_api:os-instance-actions:events:details",
                 "os_compute_api:os-networks", "os_compute_api:os-fixed-ips",
                 "os_compute_api:os-security-group-default-rules"):
        assert name in names
    assert {name for name, _, _ in policies.table()} <= set(names)


def test_every_default_is_well_defined(policy: Policy) -> None:
    # no typo'd "rule:" reference and no cycle among the defaults
    assert policy._enforcer.check_rules(raise_on_violation=True)
    for _, check, ops in policies.table():
        assert check
        assert ops and all(op["path"].startswith("/") for op in ops)


def test_implied_roles() -> None:
    assert expand_roles(("admin",)) == ["admin", "manager", "member", "reader"]
    assert expand_roles(("member", "reader")) == ["member", "reader"]
    assert expand_roles(("service",)) == ["service"]


def test_override_file_restricts(tmp_path: pathlib.Path) -> None:
    rule = "os_compute_api:os-keypairs:index"
    assert Policy().check(ctx("member"), rule)
    path = tmp_path / "policy.yaml"
    path.write_text(f'"{rule}": "role:admin"\n')
    overridden = Policy(str(path))
    assert not overridden.check(ctx("member"), rule)
    assert overridden.check(ctx("admin"), rule)
    assert overridden.check(ctx("member"), SERVERS + "create")  # the rest keep their defaults


def test_override_file_grants(tmp_path: pathlib.Path) -> None:
    rule = "os_compute_api:os-flavor-manage:create"
    path = tmp_path / "policy.yaml"
    path.write_text(f'"{rule}": "role:member"\n')
    overridden = Policy(str(path))
    overridden.enforce(ctx("member"), rule)
    with pytest.raises(Forbidden):
        overridden.enforce(ctx("reader"), rule)


def test_override_file_json_and_reload(tmp_path: pathlib.Path) -> None:
    rule = "os_compute_api:servers:create"
    path = tmp_path / "policy.json"
    path.write_text("{}")
    live = Policy(str(path))
    assert live.check(ctx("member"), rule)
    path.write_text(f'{{"{rule}": "rule:context_is_admin"}}')
    live.reload()
    assert not live.check(ctx("member"), rule)
    path.write_text("{}")
    live.reload()
    assert live.check(ctx("member"), rule)  # dropping an override restores the default


def test_policy_file_from_environment(tmp_path: pathlib.Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    rule = "os_compute_api:os-hypervisors:list"
    path = tmp_path / "policy.yaml"
    path.write_text(f'"{rule}": "rule:project_reader_or_admin"\n')
    monkeypatch.setenv(ENV_POLICY_FILE, str(path))
    assert Policy().check(ctx("reader"), rule)


def test_missing_policy_file_fails_at_start(tmp_path: pathlib.Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(PolicyFileError, match="does not exist"):
        Policy(str(tmp_path / "absent.yaml"))
    monkeypatch.setenv(ENV_POLICY_FILE, str(tmp_path / "absent.yaml"))
    with pytest.raises(PolicyFileError):
        Policy()


def test_broken_policy_file_fails_at_start(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text('"os_compute_api:servers:create": "rule:no_such_base_rule"\n')
    with pytest.raises(PolicyFileError):
        Policy(str(path))
    path.write_text("rules: [unclosed\n")
    with pytest.raises(PolicyFileError):
        Policy(str(path))
