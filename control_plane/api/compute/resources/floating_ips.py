"""addFloatingIp and removeFloatingIp server actions (1.4.2, 1.4.18; Nova 2.1 to 2.43).

Addresses come from the default floating pool ("public", control_plane.domain.
floating_ip); binding a free address takes it for the server's project.
"""

from __future__ import annotations

from control_plane.api.compute import action_dispatch
from control_plane.api.compute.schemas import floating_ips as schema
from control_plane.domain.networks import commands as c

RULE = "os_compute_api:os-floating-ips:"


_add = action_dispatch.from_args(lambda sid, args: c.AddFloatingIp(
    sid, args["address"], args.get("fixed_address")))
_remove = action_dispatch.from_args(lambda sid, args: c.RemoveFloatingIp(sid, args["address"]))


ACTIONS: dict[str, action_dispatch.Entry] = {
    "addFloatingIp": (RULE + "add", schema.add_floating_ip, _add),
    "removeFloatingIp": (RULE + "remove", schema.remove_floating_ip, _remove),
}
