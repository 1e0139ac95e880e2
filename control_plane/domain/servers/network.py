"""A server's network interfaces, fixed and floating IPs, as events on the Server stream.

scheduler   -> ServerNetworkAllocated         the boot port on the default network
os-interface POST   -> ServerInterfaceAttachRequested   (a port made for it, state DOWN)
worker      -> ServerInterfaceAttached        (or ...AttachFailed: the port is released)
os-interface DELETE -> ServerInterfaceDetachRequested
worker      -> ServerInterfaceDetached        (or ...DetachFailed: still attached)
addFixedIp / removeFixedIp  -> ServerFixedIpAdded / ServerFixedIpRemoved
addFloatingIp / removeFloatingIp -> ServerFloatingIpAssociated / ...Disassociated
injectNetworkInfo / resetNetwork -> ServerNetworkInfoInjectRequested /
                                    ServerNetworkResetRequested (the worker calls the driver)
server deleted -> ServerNetworkReleased       ports and floating IPs are free again

The matching events on the Network and FloatingIpPool streams are appended in the same
unit of work. The events and the interface state they fold into are declared in
``network_events``; this module holds the decisions.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from typing import Any

from control_plane.domain.errors import Conflict, Invalid, NotFound
from control_plane.domain.servers.aggregate import Server
from control_plane.domain.servers.network_events import (
    ACTIVE,
    ATTACHING,
    DETACHING,
    DOWN,
    INTERFACE_STATES,
    OPENS,
    STEP_NAMES,
    STEPS,
    FixedIpAdded,
    FixedIpRemoved,
    FloatingIpAssociated,
    FloatingIpDisassociated,
    InterfaceAttached,
    InterfaceAttachFailed,
    InterfaceAttachRequested,
    InterfaceDetached,
    InterfaceDetachFailed,
    InterfaceDetachRequested,
    NetworkAllocated,
    NetworkInfoInjectRequested,
    NetworkReleased,
    NetworkResetRequested,
    Vif,
    addresses,
    fixed_ips,
    floating_ips,
    render,
    vifs,
)

__all__ = [  # re-exported from network_events for callers of this module
    "ACTIVE",
    "ATTACHING",
    "DETACHING",
    "DOWN",
    "INTERFACE_STATES",
    "OPENS",
    "STEPS",
    "STEP_NAMES",
    "FixedIpAdded",
    "FixedIpRemoved",
    "FloatingIpAssociated",
    "FloatingIpDisassociated",
    "InterfaceAttachFailed",
    "InterfaceAttachRequested",
    "InterfaceAttached",
    "InterfaceDetachFailed",
    "InterfaceDetachRequested",
    "InterfaceDetached",
    "NetworkAllocated",
    "NetworkInfoInjectRequested",
    "NetworkReleased",
    "NetworkResetRequested",
    "Vif",
    "addresses",
    "fixed_ips",
    "floating_ips",
    "render",
    "vifs",
]


# -- decisions ---------------------------------------------------------------------------


def wire(server: Server, ports: list[Vif], now: dt.datetime) -> None:
    """The server's boot ports were allocated (plugged at spawn)."""
    made = {v["port_id"]: {**v, "state": ACTIVE} for v in ports}
    server.trigger_event(NetworkAllocated, vifs=list(made.values()),
                         addresses=render({**vifs(server), **made}, floating_ips(server)),
                         timestamp=now)


def check_interface_change(server: Server, method: str) -> None:
    server._check(method, INTERFACE_STATES)


def request_attach(server: Server, vif: Vif, now: dt.datetime) -> None:
    check_interface_change(server, "attach_interface")
    server.trigger_event(InterfaceAttachRequested, vif={**vif, "state": ATTACHING},
                         timestamp=now)


def interface(server: Server, port_id: str) -> Vif:
    found = vifs(server).get(port_id)
    if found is None:
        raise NotFound(f"Port id {port_id} could not be found.")
    return found


def request_detach(server: Server, port_id: str, now: dt.datetime) -> bool:
    """Ask the worker to unplug the port; False if that is under way already."""
    vif = interface(server, port_id)
    check_interface_change(server, "detach_interface")
    if vif["state"] == DETACHING:
        return False
    if vif["state"] == ATTACHING:
        raise Conflict(f"Port {port_id} is still being attached to instance {server.id}.")
    server.trigger_event(InterfaceDetachRequested, port_id=port_id, timestamp=now)
    return True


def pending(server: Server, operation: str, port_id: str) -> bool:
    """Is this interface operation still waiting for its compute step?"""
    if server.deleted:
        return False
    found = vifs(server).get(port_id)
    want = ATTACHING if operation == "attach" else DETACHING
    return found is not None and found["state"] == want


def finish(server: Server, operation: str, port_id: str, started_at: str, message: str,
           details: str, now: dt.datetime) -> bool:
    """The compute worker's outcome (an empty message: success). False if not pending."""
    if not pending(server, operation, port_id):
        return False
    outcome: dict[str, Any] = {"port_id": port_id, "started_at": started_at,
                               "step": STEP_NAMES[operation], "timestamp": now}
    if message:
        event = InterfaceAttachFailed if operation == "attach" else InterfaceDetachFailed
        server.trigger_event(event, message=message, details=details, **outcome)
        return True
    ports = dict(vifs(server))
    floating = floating_ips(server)
    if operation == "attach":
        ports[port_id] = {**ports[port_id], "state": ACTIVE}
        server.trigger_event(InterfaceAttached, addresses=render(ports, floating), **outcome)
    else:
        gone = ports.pop(port_id)["ips"]
        floating = {f: x for f, x in floating.items() if x not in gone}
        server.trigger_event(InterfaceDetached, addresses=render(ports, floating), **outcome)
    return True


def port_on(server: Server, net_id: str) -> Vif | None:
    """The server's (settled) interface on the network, if it has one."""
    return next((v for v in vifs(server).values()
                 if v["net_id"] == net_id and v["state"] in (ACTIVE, DOWN)), None)


def add_fixed_ip(server: Server, vif: Vif, address: str, now: dt.datetime) -> None:
    """``vif`` is the port after the change (a new one, or one the server has)."""
    vif = {**vif, "state": vifs(server).get(vif["port_id"], {}).get("state", ACTIVE)}
    ports = {**vifs(server), vif["port_id"]: vif}
    server.trigger_event(FixedIpAdded, vif=vif, address=address,
                         addresses=render(ports, floating_ips(server)), timestamp=now)


def port_with(server: Server, address: str) -> Vif:
    for vif in vifs(server).values():
        if address in vif["ips"] and vif["state"] != ATTACHING:
            return vif
    raise Invalid(f"Instance {server.id} does not have fixed IP '{address}'.")


def remove_fixed_ip(server: Server, address: str, now: dt.datetime) -> tuple[str, list[str]]:
    """Remove the address; returns its port and the floating IPs that were bound to it."""
    vif = port_with(server, address)
    ports = {**vifs(server), vif["port_id"]: {**vif, "ips": [i for i in vif["ips"]
                                                            if i != address]}}
    unbound = [f for f, x in floating_ips(server).items() if x == address]
    floating = {f: x for f, x in floating_ips(server).items() if x != address}
    server.trigger_event(FixedIpRemoved, port_id=vif["port_id"], address=address,
                         addresses=render(ports, floating), timestamp=now)
    return vif["port_id"], unbound


def fixed_address_for(server: Server, fixed_address: str | None) -> tuple[str, str]:
    """The fixed address (and its port) a floating IP is to be bound to: the one asked
    for, or the first IPv4 one (Nova's checks and messages)."""
    if not vifs(server):
        raise Invalid("Instance network is not ready yet")
    ips = fixed_ips(server)
    if not ips:
        raise Invalid("No fixed IPs associated to instance")
    if fixed_address is not None:
        if fixed_address not in ips:
            raise Invalid("Specified fixed address not assigned to instance")
        return fixed_address, port_with(server, fixed_address)["port_id"]
    v4 = [ip for ip in ips if ipaddress.ip_address(ip).version == 4]
    if not v4:
        raise Invalid(f"Unable to associate floating IP to any fixed IPs for instance "
                         f"{server.id}. Instance has no fixed IPv4 addresses to associate.")
    return v4[0], port_with(server, v4[0])["port_id"]


def associate_floating_ip(server: Server, address: str, fixed_address: str,
                          now: dt.datetime) -> None:
    floating = {**floating_ips(server), address: fixed_address}
    server.trigger_event(FloatingIpAssociated, address=address, fixed_address=fixed_address,
                         addresses=render(vifs(server), floating), timestamp=now)


def disassociate_floating_ip(server: Server, address: str, now: dt.datetime) -> None:
    if address not in floating_ips(server):
        raise Conflict(f"Floating IP {address} is not associated with instance {server.id}.")
    floating = {f: x for f, x in floating_ips(server).items() if f != address}
    server.trigger_event(FloatingIpDisassociated, address=address,
                         addresses=render(vifs(server), floating), timestamp=now)


def _require_host(server: Server, method: str) -> None:
    if server.host is None:
        raise Conflict(f"Cannot '{method}' instance {server.id} while it is in vm_state "
                       f"{server.vm_state}")


def request_inject(server: Server, now: dt.datetime) -> None:
    _require_host(server, "inject_network_info")
    server.trigger_event(NetworkInfoInjectRequested, timestamp=now)


def request_reset(server: Server, now: dt.datetime) -> None:
    _require_host(server, "reset_network")
    server.trigger_event(NetworkResetRequested, timestamp=now)


def release_all(server: Server, now: dt.datetime) -> tuple[list[str], list[str]]:
    """The server is deleted: its ports and floating IPs are free. Returns their ids and
    addresses (empty if there was nothing to release)."""
    ports, floating = sorted(vifs(server)), sorted(floating_ips(server))
    if not ports and not floating:
        return [], []
    server.trigger_event(NetworkReleased, port_ids=ports, floating_ips=floating,
                         timestamp=now)
    return ports, floating
