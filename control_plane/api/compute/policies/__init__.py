"""Nova's default policy rules, as data.

Rule names and check strings follow nova/policies/*.py in openstack/nova (the defaults in
force with ``enforce_new_defaults=True``): project resources are ``project_reader_or_admin``
to read and ``project_member_or_admin`` to change, cloud-wide resources ``context_is_admin``,
move operations ``project_manager_or_admin``. ``scope_types`` are left out on purpose: this
control plane issues project-scoped tokens only, so a scope check could only ever pass.

One module per API resource, named as the resource module that checks its rules
(``api/compute/resources/servers.py`` checks ``policies/servers.py``), as Nova's
``nova/policies/`` has it; ``base`` holds the base rules and the check-string aliases.
This package lists the modules once, in ``MODULES``; ``table()`` and ``defaults()`` turn
them into ``oslo_policy.policy.DocumentedRuleDefault`` objects.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

from oslo_policy import policy

from control_plane.api.compute.policies import (
    aggregates,
    attach_interfaces,
    availability_zones,
    console_auth_tokens,
    console_output,
    consoles,
    extensions,
    flavors,
    floating_ips,
    history,
    hosts,
    hypervisors,
    images,
    instance_actions,
    ips,
    keypairs,
    limits,
    migrations,
    multinic,
    network_admin_actions,
    networks,
    other_apis,
    quota_sets,
    remote_consoles,
    security_groups,
    server_actions,
    server_diagnostics,
    server_groups,
    server_lifecycle,
    server_metadata,
    server_password,
    servers,
    virtual_interfaces,
    volume_attachments,
    volumes,
)
from control_plane.api.compute.policies.base import BASE_RULES, Section

if TYPE_CHECKING:  # a TypedDict only in oslo.policy's own annotations
    from oslo_policy.policy import Operation

# every policy module, listed once (the order rules are registered in)
MODULES: tuple[ModuleType, ...] = (
    servers,
    aggregates,
    server_actions,
    network_admin_actions,
    server_lifecycle,
    console_output,
    floating_ips,
    multinic,
    remote_consoles,
    security_groups,
    server_diagnostics,
    attach_interfaces,
    instance_actions,
    ips,
    server_metadata,
    server_password,
    volume_attachments,
    flavors,
    keypairs,
    limits,
    extensions,
    availability_zones,
    other_apis,
    console_auth_tokens,
    volumes,
    networks,
    hosts,
    hypervisors,
    migrations,
    quota_sets,
    server_groups,
    history,
    images,
    consoles,
    virtual_interfaces,
)
SECTIONS: list[Section] = [section for module in MODULES for section in module.SECTIONS]


def _operations(root: str, spec: str) -> list[Operation]:
    ops: list[Operation] = []
    for op in spec.split(";"):
        method, _, rest = op.strip().partition(" ")
        ops.append({"method": method, "path": root + rest})
    return ops


def table() -> list[tuple[str, str, list[Operation]]]:
    """Every API rule: (name, check string, operations)."""
    rows = []
    for prefix, root, section in SECTIONS:
        for suffix, check, spec in section:
            name = prefix + suffix if suffix else prefix.rstrip(":")
            rows.append((name, check, _operations(root, spec)))
    return rows


def defaults() -> list[policy.RuleDefault]:
    """The oslo.policy defaults to register: the base rules, then every API rule."""
    rules: list[policy.RuleDefault] = [
        policy.RuleDefault(name, check, description) for name, check, description in BASE_RULES
    ]
    for name, check, ops in table():
        described = ", ".join(f"{op['method']} {op['path']}" for op in ops)
        rules.append(policy.DocumentedRuleDefault(name, check, f"Allow {described}", ops))
    return rules
