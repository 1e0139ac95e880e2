"""The Compute API's route table: every resource module, listed once, in match order.

Each module under ``resources`` declares its ``ROUTES`` (and, for server actions, its
``ACTIONS``); this module joins them explicitly. Adding an API resource means adding its
module here. Order matters where paths overlap (``/servers/detail`` before
``/servers/{server_id}``): that is kept inside each module.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from control_plane.api.common import P
from control_plane.api.compute.action_dispatch import ActionDispatcher, combine
from control_plane.api.compute.resources import (
    attach_interfaces,
    availability_zones,
    console_auth_tokens,
    console_output,
    consoles,
    extensions,
    flavors,
    floating_ips,
    history,
    images,
    instance_actions,
    ips,
    keypairs,
    limits,
    migrations,
    multinic,
    network_admin_actions,
    quota_sets,
    remote_consoles,
    server_actions,
    server_diagnostics,
    server_lifecycle,
    server_metadata,
    server_password,
    servers,
    virtual_interfaces,
    volume_attachments,
    volumes,
)

# POST /servers/{id}/action: every resource's actions, one table
SERVER_ACTIONS = ActionDispatcher(combine(
    server_actions.ACTIONS,
    console_output.ACTIONS,
    floating_ips.ACTIONS,
    multinic.ACTIONS,
    network_admin_actions.ACTIONS,
    remote_consoles.ACTIONS,
    server_lifecycle.ACTIONS,
    volume_attachments.ACTIONS,
))

ROUTES: list[BaseRoute] = [
    *servers.ROUTES,
    P("/servers/{server_id}/action", SERVER_ACTIONS, "POST", SERVER_ACTIONS.rules),
    *server_metadata.ROUTES,
    *ips.ROUTES,
    *server_password.ROUTES,
    *volume_attachments.ROUTES,
    *remote_consoles.ROUTES,
    *consoles.ROUTES,
    *console_auth_tokens.ROUTES,
    *server_diagnostics.ROUTES,
    *attach_interfaces.ROUTES,
    *virtual_interfaces.ROUTES,
    *volumes.ROUTES,
    *migrations.ROUTES,
    *instance_actions.ROUTES,
    *history.ROUTES,
    *flavors.ROUTES,
    *keypairs.ROUTES,
    *limits.ROUTES,
    *quota_sets.ROUTES,
    *availability_zones.ROUTES,
    *extensions.ROUTES,
    *images.ROUTES,
]
