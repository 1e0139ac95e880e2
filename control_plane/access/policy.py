"""Policy enforcement: Nova's default rules, overridable by the operator, checked by oslo.policy.

The rules themselves are in ``control_plane.api.compute.policies``. An operator may override
any of them
with a policy file in Nova's format (YAML or JSON, rule name -> check string), named by the
``policy_file`` argument or the ``CONTROL_PLANE_POLICY_FILE`` environment variable. oslo.policy
re-reads that file when it changes; ``Policy.reload()`` forces it.

The enforcer runs on a private ``oslo_config.cfg.ConfigOpts``: it parses no command line, reads
no configuration file, and looks for no policy file or policy.d directory in ``~`` or ``/etc``.
"""

from __future__ import annotations

import os

from oslo_config import cfg
from oslo_policy import policy as oslo_policy

from control_plane.api.compute import policies
from control_plane.api.faults import Forbidden
from control_plane.context import RequestContext

ENV_POLICY_FILE = "CONTROL_PLANE_POLICY_FILE"

# Keystone's implied roles (admin implies manager implies member implies reader). Tokens here
# carry the roles as assigned, so expand them before checking.
IMPLIED_ROLES: dict[str, tuple[str, ...]] = {
    "admin": ("manager", "member", "reader"),
    "manager": ("member", "reader"),
    "member": ("reader",),
}


class UnknownPolicyRule(KeyError):
    """A rule name nobody registered: a programming error, never an implicit allow."""


class PolicyFileError(RuntimeError):
    """The operator's policy file is missing or unusable."""


def expand_roles(roles: tuple[str, ...] | list[str]) -> list[str]:
    """The roles with the roles they imply, in order, without duplicates."""
    expanded: list[str] = []
    for role in roles:
        for name in (role, *IMPLIED_ROLES.get(role.lower(), ())):
            if name not in expanded:
                expanded.append(name)
    return expanded


class _Enforcer(oslo_policy.Enforcer):
    """Finds policy files only by absolute path, never by searching ~ and /etc."""

    def _get_policy_path(self, path: str) -> str:
        if os.path.isabs(path) and os.path.exists(path):
            return path
        raise cfg.ConfigFilesNotFoundError([path])


class Policy:
    def __init__(self, policy_file: str | None = None) -> None:
        if policy_file is None:
            policy_file = os.environ.get(ENV_POLICY_FILE) or None
        self.policy_file = os.path.abspath(policy_file) if policy_file else None
        if self.policy_file is not None and not os.path.isfile(self.policy_file):
            raise PolicyFileError(f"policy file {self.policy_file} does not exist")

        conf = cfg.ConfigOpts()
        conf(args=[], project=None, default_config_files=[], default_config_dirs=[],
             use_env=False)
        # the Enforcer registers the [oslo_policy] options on conf; Nova's new defaults only,
        # no policy.d directories
        self._enforcer = _Enforcer(conf, policy_file=self.policy_file or "policy.yaml")
        conf.set_override("enforce_new_defaults", True, group="oslo_policy")
        conf.set_override("policy_dirs", [], group="oslo_policy")
        if "enforce_scope" in conf.oslo_policy:  # gone in oslo.policy 6, where no scope_types
            conf.set_override("enforce_scope", False, group="oslo_policy")  # means no check
        self._enforcer.suppress_deprecation_warnings = True
        self._enforcer.suppress_default_change_warnings = True
        self._enforcer.register_defaults(policies.defaults())
        self._load(force=False)

    def _load(self, *, force: bool) -> None:
        """Read the override file now, failing loudly on a bad file or a dangling rule."""
        try:
            self._enforcer.load_rules(force_reload=force)
        except (OSError, ValueError) as exc:
            raise PolicyFileError(f"policy file {self.policy_file}: {exc}") from exc
        try:
            self._enforcer.check_rules(raise_on_violation=True)
        except oslo_policy.InvalidDefinitionError as exc:
            raise PolicyFileError(f"policy file {self.policy_file}: {exc}") from exc

    def check(self, ctx: RequestContext, rule: str,
              target: dict[str, object] | None = None) -> bool:
        if rule not in self._enforcer.registered_rules:
            raise UnknownPolicyRule(rule)
        if target is None:
            target = {"project_id": ctx.project_id, "user_id": ctx.user_id}
        credentials = {
            "user_id": ctx.user_id,
            "project_id": ctx.project_id,
            "roles": expand_roles(ctx.roles),
            "is_admin": ctx.is_admin,
        }
        return bool(self._enforcer.authorize(rule, dict(target), credentials))

    def enforce(self, ctx: RequestContext, rule: str,
                target: dict[str, object] | None = None) -> None:
        if not self.check(ctx, rule, target):
            raise Forbidden(f"Policy doesn't allow {rule} to be performed.")

    def rules(self) -> list[str]:
        """Every registered rule name (base rules included), sorted."""
        return sorted(self._enforcer.registered_rules)

    def reload(self) -> None:
        """Re-read the override file now (oslo.policy also does when the file changes)."""
        self._load(force=True)
