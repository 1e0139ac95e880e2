"""The Network and FloatingIpPool aggregates on their own (no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from control_plane.domain.errors import Conflict, NotFound
from control_plane.domain.errors import Invalid as BadRequest
from control_plane.domain.errors import NotPermitted as Forbidden
from control_plane.domain.networks.aggregate import Network, NoMoreFixedIps
from control_plane.domain.networks.floating_ips import FloatingIpPool

NOW = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def small_network() -> Network:
    net = Network.create_default(NOW)
    net.cidr = "10.9.0.0/29"  # 8 addresses: .0 network, .1 gateway, .7 broadcast
    return net


def test_allocation_skips_reserved_addresses_and_runs_out() -> None:
    net = small_network()
    ports = net.allocate([(f"p{i}", f"s{i}") for i in range(5)], NOW)
    assert [p["ips"] for p in ports] == [["10.9.0.2"], ["10.9.0.3"], ["10.9.0.4"],
                                         ["10.9.0.5"], ["10.9.0.6"]]
    assert len({p["mac"] for p in ports}) == 5
    assert net.capacity() == 0
    with pytest.raises(NoMoreFixedIps):
        net.allocate([("p9", "s9")], NOW)
    with pytest.raises(NoMoreFixedIps):
        net.add_fixed_ip("p0", NOW)
    # one event for the whole batch
    assert [type(e).__name__ for e in net.collect_events()] == ["Created", "PortsAllocated"]


def test_released_addresses_are_reused_but_macs_are_not() -> None:
    net = small_network()
    first = net.allocate([("p1", "s1"), ("p2", "s2")], NOW)
    net.release_ports(["p1"], NOW)
    net.release_fixed_ip("p2", "10.9.0.3", NOW)
    assert net.capacity() == 5
    (again,) = net.allocate([("p3", "s3")], NOW)
    assert again["mac"] not in {p["mac"] for p in first}
    assert again["ips"] == ["10.9.0.4"]  # after the cursor first, then round again
    assert net.add_fixed_ip("p3", NOW) == "10.9.0.5"


def test_requested_addresses_are_checked() -> None:
    net = small_network()
    net.allocate([("p1", "s1")], NOW, address="10.9.0.5")
    with pytest.raises(Conflict, match="already in use on instance s1"):
        net.allocate([("p2", "s2")], NOW, address="10.9.0.5")
    for bad in ("10.9.0.1", "10.9.0.7", "10.8.0.3"):
        with pytest.raises(BadRequest, match="is not a valid IP for network"):
            net.allocate([("p2", "s2")], NOW, address=bad)


def test_floating_ip_binding_rules() -> None:
    pool = FloatingIpPool.create_default(NOW)
    assert pool.associate("172.24.4.5", "proj", False, "s1", "10.0.0.2", "p1", NOW)
    assert not pool.associate("172.24.4.5", "proj", False, "s1", "10.0.0.2", "p1", NOW)
    with pytest.raises(BadRequest, match="already associated"):
        pool.associate("172.24.4.5", "proj", False, "s2", "10.0.0.3", "p2", NOW)
    with pytest.raises(Forbidden):
        pool.associate("172.24.4.5", "other", False, "s3", "10.0.0.4", "p3", NOW)
    for outside in ("172.24.4.1", "172.24.4.255", "172.24.5.9"):
        with pytest.raises(NotFound):
            pool.associate(outside, "proj", False, "s1", "10.0.0.2", "p1", NOW)
    pool.disassociate("172.24.4.5", "s2", NOW)  # not bound there: nothing happens
    assert pool.bound_to("172.24.4.5") == "s1"
    pool.disassociate("172.24.4.5", "s1", NOW)
    assert pool.addresses == {}  # taken implicitly, so back in the pool
