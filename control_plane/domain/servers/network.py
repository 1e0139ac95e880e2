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
unit of work. Each event that changes what GET /servers shows carries the server's
whole ``addresses`` afterwards, so the servers view just stores it (and a rebuild from
zero gives the same). None of these change vm_state or task_state.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from typing import Any

from control_plane.domain.errors import Conflict, Invalid, NotFound
from control_plane.domain.servers import states
from control_plane.domain.servers.aggregate import Server
from control_plane.domain.servers.transitions import KEEP, Transition, transition_event

ACTIVE = "ACTIVE"  # Neutron's port status once plugged
DOWN = "DOWN"
ATTACHING = "attaching"
DETACHING = "detaching"

# Nova's allowed vm_states for attaching and detaching interfaces (no task running)
INTERFACE_STATES = (states.ACTIVE, states.PAUSED, states.STOPPED)

Vif = dict[str, Any]  # {"port_id", "net_id", "net_name", "subnet_id", "mac", "ips", "state"}


def vifs(server: Server) -> dict[str, Vif]:
    """port id -> the server's interface on it, in the order they were made."""
    found: dict[str, Vif] = getattr(server, "vifs", {})
    return found


def floating_ips(server: Server) -> dict[str, str]:
    """floating address -> the fixed address it is bound to."""
    found: dict[str, str] = getattr(server, "floating_ips", {})
    return found


def fixed_ips(server: Server) -> list[str]:
    return [ip for v in vifs(server).values() if v["state"] != ATTACHING for ip in v["ips"]]


def render(ports: dict[str, Vif], floating: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """Nova's ``addresses``: by network name, each fixed IP then the floating IPs bound
    to it. Interfaces still being plugged are not shown yet."""
    out: dict[str, list[dict[str, Any]]] = {}
    for vif in ports.values():
        if vif["state"] == ATTACHING:
            continue
        entries = out.setdefault(vif["net_name"], [])
        for ip in vif["ips"]:
            for address, kind in [(ip, "fixed"),
                                  *((f, "floating") for f, x in floating.items() if x == ip)]:
                entries.append({"version": ipaddress.ip_address(address).version,
                                "addr": address, "OS-EXT-IPS:type": kind,
                                "OS-EXT-IPS-MAC:mac_addr": vif["mac"]})
    return out


def addresses(server: Server) -> dict[str, list[dict[str, Any]]]:
    return render(vifs(server), floating_ips(server))


def _set(server: Server, ports: dict[str, Vif] | None = None,
         floating: dict[str, str] | None = None) -> None:
    if ports is not None:
        server.vifs = ports  # type: ignore[attr-defined]
    if floating is not None:
        server.floating_ips = floating  # type: ignore[attr-defined]


def _allocated(event: Any, s: Server) -> None:
    _set(s, {**vifs(s), **{v["port_id"]: dict(v) for v in event.vifs}})


def _attach_requested(event: Any, s: Server) -> None:
    _set(s, {**vifs(s), event.vif["port_id"]: dict(event.vif)})


def _with_state(state: str) -> Any:
    def also(event: Any, s: Server) -> None:
        found = vifs(s).get(event.port_id)
        if found is not None:
            _set(s, {**vifs(s), event.port_id: {**found, "state": state}})
    return also


def _unplugged(event: Any, s: Server) -> None:
    gone = vifs(s).get(event.port_id, {}).get("ips", [])
    _set(s, {k: v for k, v in vifs(s).items() if k != event.port_id},
         {f: x for f, x in floating_ips(s).items() if x not in gone})


def _fixed_added(event: Any, s: Server) -> None:
    _set(s, {**vifs(s), event.vif["port_id"]: dict(event.vif)})


def _fixed_removed(event: Any, s: Server) -> None:
    vif = vifs(s)[event.port_id]
    _set(s, {**vifs(s), event.port_id: {**vif, "ips": [i for i in vif["ips"]
                                                         if i != event.address]}},
         {f: x for f, x in floating_ips(s).items() if x != event.address})


def _floating_added(event: Any, s: Server) -> None:
    _set(s, floating={**floating_ips(s), event.address: event.fixed_address})


def _floating_removed(event: Any, s: Server) -> None:
    _set(s, floating={f: x for f, x in floating_ips(s).items() if f != event.address})


def _released(event: Any, s: Server) -> None:
    _set(s, {}, {})


_ADDRESSES = Transition(KEEP, KEEP, view_sql=", addresses = $7", view_args=("addresses",))
_OUTCOME = {"port_id": str, "started_at": str, "step": str}
_FAILURE = {**_OUTCOME, "message": str, "details": str}


def _shows(fields: dict[str, Any]) -> Transition:
    """A transition that stores the event's ``addresses`` in the servers view."""
    return Transition(KEEP, KEEP, view_sql=_ADDRESSES.view_sql, view_args=("addresses",),
                      fields={**fields, "addresses": dict[str, Any]})


NetworkAllocated = transition_event("ServerNetworkAllocated", _shows(
    {"vifs": list[Vif]}), _allocated)
InterfaceAttachRequested = transition_event("ServerInterfaceAttachRequested", Transition(
    KEEP, KEEP, fields={"vif": Vif}), _attach_requested)
InterfaceAttached = transition_event("ServerInterfaceAttached", _shows(_OUTCOME),
                                     _with_state(ACTIVE))
InterfaceAttachFailed = transition_event("ServerInterfaceAttachFailed", Transition(
    KEEP, KEEP, fields=_FAILURE), _unplugged)
InterfaceDetachRequested = transition_event("ServerInterfaceDetachRequested", Transition(
    KEEP, KEEP, fields={"port_id": str}), _with_state(DETACHING))
InterfaceDetached = transition_event("ServerInterfaceDetached", _shows(_OUTCOME), _unplugged)
InterfaceDetachFailed = transition_event("ServerInterfaceDetachFailed", Transition(
    KEEP, KEEP, fields=_FAILURE), _with_state(ACTIVE))
FixedIpAdded = transition_event("ServerFixedIpAdded", _shows(
    {"vif": Vif, "address": str}), _fixed_added)
FixedIpRemoved = transition_event("ServerFixedIpRemoved", _shows(
    {"port_id": str, "address": str}), _fixed_removed)
FloatingIpAssociated = transition_event("ServerFloatingIpAssociated", _shows(
    {"address": str, "fixed_address": str}), _floating_added)
FloatingIpDisassociated = transition_event("ServerFloatingIpDisassociated", _shows(
    {"address": str}), _floating_removed)
NetworkInfoInjectRequested = transition_event("ServerNetworkInfoInjectRequested",
                                              Transition(KEEP, KEEP))
NetworkResetRequested = transition_event("ServerNetworkResetRequested", Transition(KEEP, KEEP))
NetworkReleased = transition_event("ServerNetworkReleased", Transition(
    KEEP, KEEP, view_sql=", addresses = '{}'::jsonb",
    fields={"port_ids": list[str], "floating_ips": list[str]}), _released)

# request event -> instance action (Nova's names); the events that end each action's
# compute step (their "step" data names it) and whether it succeeded
OPENS = {"ServerInterfaceAttachRequested": "attach_interface",
         "ServerInterfaceDetachRequested": "detach_interface"}
STEPS = {"ServerInterfaceAttached": True, "ServerInterfaceAttachFailed": False,
         "ServerInterfaceDetached": True, "ServerInterfaceDetachFailed": False}
STEP_NAMES = {"attach": "compute_attach_interface", "detach": "compute_detach_interface"}


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
