"""injectNetworkInfo and resetNetwork server actions (1.5.2, 1.5.5): admin by policy.

Each records a request on the server; the compute worker then calls the driver.
Nova records no instance action for either.
"""

from __future__ import annotations

from control_plane.api.compute.resources import server_action_router as server_actions
from control_plane.api.compute.schemas.server_actions import no_argument
from control_plane.domain import commands as c

RULE = "os_compute_api:os-admin-actions:"

server_actions.register({
    "injectNetworkInfo": (RULE + "inject_network_info", no_argument("injectNetworkInfo"),
                          server_actions.command(c.InjectNetworkInfo)),
    "resetNetwork": (RULE + "reset_network", no_argument("resetNetwork"),
                     server_actions.command(c.ResetNetwork)),
})
