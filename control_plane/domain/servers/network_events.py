"""A server's network interfaces and addresses: their state on the Server aggregate, and
the events that change it (declared here; the decisions that trigger them are in
``control_plane.domain.servers.network``).

Each event that changes what GET /servers shows carries the server's whole
``addresses`` afterwards, so the servers view just stores it (and a rebuild from zero
gives the same). None of these change vm_state or task_state.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from control_plane.domain.servers import actions, states
from control_plane.domain.servers.aggregate import Server
from control_plane.domain.servers.transitions import KEEP, Transition

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
    s.shown_addresses = {}


class NetworkAllocated(Server.Event):
    TOPIC = "ServerNetworkAllocated"
    TRANSITION = Transition(KEEP, KEEP)
    vifs: list[dict[str, Any]]
    addresses: dict[str, Any]

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)
        s.shown_addresses = self.addresses
        _allocated(self, s)


class InterfaceAttachRequested(Server.Event):
    TOPIC = "ServerInterfaceAttachRequested"
    TRANSITION = Transition(KEEP, KEEP)
    vif: dict[str, Any]

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)
        _attach_requested(self, s)


class InterfaceAttached(Server.Event):
    TOPIC = "ServerInterfaceAttached"
    TRANSITION = Transition(KEEP, KEEP)
    port_id: str
    started_at: str
    step: str
    addresses: dict[str, Any]

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)
        s.shown_addresses = self.addresses
        _with_state(ACTIVE)(self, s)


class InterfaceAttachFailed(Server.Event):
    TOPIC = "ServerInterfaceAttachFailed"
    TRANSITION = Transition(KEEP, KEEP)
    port_id: str
    started_at: str
    step: str
    message: str
    details: str

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)
        _unplugged(self, s)


class InterfaceDetachRequested(Server.Event):
    TOPIC = "ServerInterfaceDetachRequested"
    TRANSITION = Transition(KEEP, KEEP)
    port_id: str

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)
        _with_state(DETACHING)(self, s)


class InterfaceDetached(Server.Event):
    TOPIC = "ServerInterfaceDetached"
    TRANSITION = Transition(KEEP, KEEP)
    port_id: str
    started_at: str
    step: str
    addresses: dict[str, Any]

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)
        s.shown_addresses = self.addresses
        _unplugged(self, s)


class InterfaceDetachFailed(Server.Event):
    TOPIC = "ServerInterfaceDetachFailed"
    TRANSITION = Transition(KEEP, KEEP)
    port_id: str
    started_at: str
    step: str
    message: str
    details: str

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)
        _with_state(ACTIVE)(self, s)


class FixedIpAdded(Server.Event):
    TOPIC = "ServerFixedIpAdded"
    TRANSITION = Transition(KEEP, KEEP)
    vif: dict[str, Any]
    address: str
    addresses: dict[str, Any]

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)
        s.shown_addresses = self.addresses
        _fixed_added(self, s)


class FixedIpRemoved(Server.Event):
    TOPIC = "ServerFixedIpRemoved"
    TRANSITION = Transition(KEEP, KEEP)
    port_id: str
    address: str
    addresses: dict[str, Any]

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)
        s.shown_addresses = self.addresses
        _fixed_removed(self, s)


class FloatingIpAssociated(Server.Event):
    TOPIC = "ServerFloatingIpAssociated"
    TRANSITION = Transition(KEEP, KEEP)
    address: str
    fixed_address: str
    addresses: dict[str, Any]

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)
        s.shown_addresses = self.addresses
        _floating_added(self, s)


class FloatingIpDisassociated(Server.Event):
    TOPIC = "ServerFloatingIpDisassociated"
    TRANSITION = Transition(KEEP, KEEP)
    address: str
    addresses: dict[str, Any]

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)
        s.shown_addresses = self.addresses
        _floating_removed(self, s)


class NetworkInfoInjectRequested(Server.Event):
    TOPIC = "ServerNetworkInfoInjectRequested"
    TRANSITION = Transition(KEEP, KEEP)

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)


class NetworkResetRequested(Server.Event):
    TOPIC = "ServerNetworkResetRequested"
    TRANSITION = Transition(KEEP, KEEP)

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)


class NetworkReleased(Server.Event):
    TOPIC = "ServerNetworkReleased"
    TRANSITION = Transition(KEEP, KEEP)
    port_ids: list[str]
    floating_ips: list[str]

    def apply(self, s: Server) -> None:
        self.TRANSITION.move(self, s)
        _released(self, s)


# request event -> instance action (Nova's names); the events that end each action's
# compute step (their "step" data names it) and whether it succeeded
OPENS = {"ServerInterfaceAttachRequested": actions.ATTACH_INTERFACE,
         "ServerInterfaceDetachRequested": actions.DETACH_INTERFACE}
STEPS = {"ServerInterfaceAttached": True, "ServerInterfaceAttachFailed": False,
         "ServerInterfaceDetached": True, "ServerInterfaceDetachFailed": False}
STEP_NAMES = {"attach": "compute_attach_interface", "detach": "compute_detach_interface"}
