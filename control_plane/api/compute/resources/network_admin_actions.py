"""injectNetworkInfo and resetNetwork server actions (1.5.2, 1.5.5): admin by policy.

Each records a request on the server; the compute worker then calls the driver.
Nova records no instance action for either.
"""

from __future__ import annotations

from control_plane.api.compute import action_dispatch
from control_plane.api.compute.schemas.server_actions import no_argument
from control_plane.domain.networks import commands as c

RULE = "os_compute_api:os-admin-actions:"

ACTIONS: dict[str, action_dispatch.Entry] = {
    "injectNetworkInfo": (RULE + "inject_network_info", no_argument("injectNetworkInfo"),
                          action_dispatch.command(c.InjectNetworkInfo)),
    "resetNetwork": (RULE + "reset_network", no_argument("resetNetwork"),
                     action_dispatch.command(c.ResetNetwork)),
}
