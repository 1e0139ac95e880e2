"""addFixedIp and removeFixedIp server actions (1.4.1, 1.4.17; Nova 2.1 to 2.43).

``networkId`` names the network (the default network's id); Nova casts this to the
compute host and reports nothing, while here an unknown network is refused at once.
"""

from __future__ import annotations

from control_plane.api.compute import action_dispatch
from control_plane.api.compute.schemas import multinic as schema
from control_plane.domain.networks import commands as c

RULE = "os_compute_api:os-multinic:"


_add = action_dispatch.from_args(lambda sid, args: c.AddFixedIp(sid, str(args["networkId"])))
_remove = action_dispatch.from_args(lambda sid, args: c.RemoveFixedIp(sid, args["address"]))


ACTIONS: dict[str, action_dispatch.Entry] = {
    "addFixedIp": (RULE + "add", schema.add_fixed_ip, _add),
    "removeFixedIp": (RULE + "remove", schema.remove_fixed_ip, _remove),
}
