"""Server networking on the default network: ports, fixed and floating IPs.

Each command decides on the server and on the Network (or FloatingIpPool) aggregate
together and appends both sides in one unit of work; a clash on the network's stream
(another allocation won) is retried on fresh state, so an address is never handed out
twice. The compute worker does the hypervisor part (workers.compute.network_interfaces).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from control_plane.api.faults import NotFound
from control_plane.context import RequestContext, now
from control_plane.domain.networks import commands as c
from control_plane.domain.networks.aggregate import DEFAULT_NETWORK_ID, Network
from control_plane.domain.networks.floating_ips import DEFAULT_POOL_ID, FloatingIpPool
from control_plane.domain.servers import network as server_network
from control_plane.domain.servers.aggregate import Server
from control_plane.service.deps import Deps
from control_plane.service.handlers.references import check_port
from control_plane.service.handlers.servers import act_on_server, load_visible
from control_plane.service.uow import UnitOfWork


async def load_network(uow: UnitOfWork, stamp: dt.datetime) -> Network:
    """The default network (created on first use)."""
    net = await uow.get(Network, DEFAULT_NETWORK_ID)
    if net is None:
        net = Network.create_default(stamp)
        uow.add(net)
    return net


async def load_pool(uow: UnitOfWork, stamp: dt.datetime) -> FloatingIpPool:
    pool = await uow.get(FloatingIpPool, DEFAULT_POOL_ID)
    if pool is None:
        pool = FloatingIpPool.create_default(stamp)
        uow.add(pool)
    return pool


async def unbind_floating_ips(uow: UnitOfWork, addresses: Iterable[str], server_id: str,
                              stamp: dt.datetime) -> None:
    """Free the floating IPs a server's port or address took with it (none: no load)."""
    addresses = list(addresses)
    if addresses:
        pool = await load_pool(uow, stamp)
        for address in addresses:
            pool.disassociate(address, server_id, stamp)


def vif_of(net: Network, port: dict[str, Any]) -> server_network.Vif:
    """A server's record of one of its ports."""
    return {"port_id": port["port_id"], **net.describe(), "mac": port["mac"],
            "ips": list(port["ips"]), "state": port.get("status", server_network.ACTIVE)}


def wire_servers(net: Network, servers: list[Server], stamp: dt.datetime) -> None:
    """Give each newly placed server its boot port, all in one network event (the
    scheduler checked ``net.capacity()`` before placing them)."""
    ports = net.allocate([(str(uuid.uuid4()), str(s.id)) for s in servers], stamp)
    for server, port in zip(servers, ports, strict=True):
        server_network.wire(server, [vif_of(net, port)], stamp)


def _check_network(net: Network, network_id: str) -> None:
    if network_id != str(net.id):
        raise NotFound(f"Network {network_id} could not be found.")


# -- interfaces (os-interface) -----------------------------------------------------------


async def attach_interface(deps: Deps, cmd: c.AttachInterface, ctx: RequestContext
                           ) -> server_network.Vif:
    """Make a port for the server (or take the one named) and ask for it to be plugged;
    returns the server's record of it."""

    async def work(uow: UnitOfWork) -> server_network.Vif:
        server = await load_visible(uow, cmd.server_id, ctx)
        server.check_lock(ctx.is_admin)
        server_network.check_interface_change(server, "attach_interface")
        stamp = now()
        net = await load_network(uow, stamp)
        if cmd.port_id is not None:
            await check_port(uow, cmd.port_id, ctx, NotFound)
        if cmd.net_id is not None:
            _check_network(net, cmd.net_id)
        (port,) = net.allocate([(str(uuid.uuid4()), cmd.server_id)], stamp,
                               address=cmd.fixed_ip, status=server_network.DOWN)
        vif = vif_of(net, port)
        server_network.request_attach(server, vif, stamp)
        await uow.commit(ctx.metadata())
        return vif

    return await deps.retrying(work, key=cmd.server_id)


async def detach_interface(deps: Deps, cmd: c.DetachInterface, ctx: RequestContext) -> None:
    await act_on_server(deps, cmd.server_id, ctx, lambda server, stamp:
                        server_network.request_detach(server, cmd.port_id, stamp))


async def finish_interface(deps: Deps, cmd: c.FinishInterfaceOperation, ctx: RequestContext
                           ) -> None:
    async def work(uow: UnitOfWork) -> None:
        server = await uow.get(Server, uuid.UUID(cmd.server_id))
        if server is None:
            return
        stamp = now()
        ips = server_network.vifs(server).get(cmd.port_id, {}).get("ips", [])
        bound = [f for f, x in server_network.floating_ips(server).items() if x in ips]
        if not server_network.finish(server, cmd.operation, cmd.port_id, cmd.started_at,
                                     cmd.message, cmd.details, stamp):
            return  # reported before (seen again after a restart), or the server is gone
        failed = bool(cmd.message)
        if (cmd.operation == "attach" and failed) or (cmd.operation == "detach" and not failed):
            # the port goes away (Nova deletes the ports it made), and its floating IPs
            # are unbound with it
            (await load_network(uow, stamp)).release_ports([cmd.port_id], stamp)
            await unbind_floating_ips(uow, bound, cmd.server_id, stamp)
        await uow.commit(ctx.metadata(host=cmd.host))

    await deps.retrying(work, key=cmd.server_id)


# -- fixed IPs (addFixedIp / removeFixedIp) ------------------------------------------------


async def add_fixed_ip(deps: Deps, cmd: c.AddFixedIp, ctx: RequestContext) -> None:
    """A new address on the network: on the server's port there, or on a new port."""

    async def work(uow: UnitOfWork) -> None:
        server = await load_visible(uow, cmd.server_id, ctx)
        server.check_lock(ctx.is_admin)
        stamp = now()
        net = await load_network(uow, stamp)
        _check_network(net, cmd.network_id)
        vif = server_network.port_on(server, str(net.id))
        if vif is None:
            (port,) = net.allocate([(str(uuid.uuid4()), cmd.server_id)], stamp)
            vif = vif_of(net, port)
            address = port["ips"][0]
        else:
            address = net.add_fixed_ip(vif["port_id"], stamp)
            vif = {**vif, "ips": [*vif["ips"], address]}
        server_network.add_fixed_ip(server, vif, address, stamp)
        await uow.commit(ctx.metadata())

    await deps.retrying(work, key=cmd.server_id)


async def remove_fixed_ip(deps: Deps, cmd: c.RemoveFixedIp, ctx: RequestContext) -> None:
    async def work(uow: UnitOfWork) -> None:
        server = await load_visible(uow, cmd.server_id, ctx)
        server.check_lock(ctx.is_admin)
        stamp = now()
        port_id, unbound = server_network.remove_fixed_ip(server, cmd.address, stamp)
        (await load_network(uow, stamp)).release_fixed_ip(port_id, cmd.address, stamp)
        await unbind_floating_ips(uow, unbound, cmd.server_id, stamp)
        await uow.commit(ctx.metadata())

    await deps.retrying(work, key=cmd.server_id)


# -- floating IPs (addFloatingIp / removeFloatingIp) --------------------------------------


async def add_floating_ip(deps: Deps, cmd: c.AddFloatingIp, ctx: RequestContext) -> None:
    async def work(uow: UnitOfWork) -> None:
        server = await load_visible(uow, cmd.server_id, ctx)
        fixed, port_id = server_network.fixed_address_for(server, cmd.fixed_address)
        stamp = now()
        pool = await load_pool(uow, stamp)
        if not pool.associate(cmd.address, server.project_id, ctx.is_admin, cmd.server_id,
                              fixed, port_id, stamp):
            return  # bound there already
        server_network.associate_floating_ip(server, cmd.address, fixed, stamp)
        await uow.commit(ctx.metadata())

    await deps.retrying(work, key=cmd.server_id)


async def remove_floating_ip(deps: Deps, cmd: c.RemoveFloatingIp, ctx: RequestContext
                             ) -> None:
    async def work(uow: UnitOfWork) -> None:
        server = await load_visible(uow, cmd.server_id, ctx)
        stamp = now()
        pool = await load_pool(uow, stamp)
        if not pool.in_pool(cmd.address):
            raise NotFound(f"Floating IP not found for address {cmd.address}.")
        server_network.disassociate_floating_ip(server, cmd.address, stamp)
        pool.disassociate(cmd.address, cmd.server_id, stamp)
        await uow.commit(ctx.metadata())

    await deps.retrying(work, key=cmd.server_id)


# -- admin actions and clean-up -------------------------------------------------------------


async def inject_network_info(deps: Deps, cmd: c.InjectNetworkInfo, ctx: RequestContext
                              ) -> None:
    await act_on_server(deps, cmd.server_id, ctx, server_network.request_inject)


async def reset_network(deps: Deps, cmd: c.ResetNetwork, ctx: RequestContext) -> None:
    await act_on_server(deps, cmd.server_id, ctx, server_network.request_reset)


async def release(deps: Deps, cmd: c.ReleaseServerNetwork, ctx: RequestContext) -> None:
    """A deleted server's ports and floating IPs are free again."""

    async def work(uow: UnitOfWork) -> None:
        server = await uow.get(Server, uuid.UUID(cmd.server_id))
        if server is None or not server.deleted:
            return
        stamp = now()
        ports, floating = server_network.release_all(server, stamp)
        if not ports and not floating:
            return
        if ports:
            (await load_network(uow, stamp)).release_ports(ports, stamp)
        await unbind_floating_ips(uow, floating, cmd.server_id, stamp)
        await uow.commit(ctx.metadata())

    await deps.retrying(work, key=cmd.server_id)
