"""Consoles and diagnostics: questions to the server's compute worker, console tokens
and XVP console records.

Console output and diagnostics are reads (``console_output``, ``diagnostics``): the
server's own stream says which host to ask (control_plane.service.compute_rpc), nothing is
recorded. A remote console asks the host where its console listens, then records a
ConsoleTokenIssued (the token's hash only) and answers the URL carrying the token.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from control_plane.access.passwords import generate_password
from control_plane.access.tokens import seal
from control_plane.api.faults import BadRequest, Fault, NotFound
from control_plane.context import RequestContext, now
from control_plane.domain.base import stable_id
from control_plane.domain.consoles import aggregate as console
from control_plane.domain.consoles import commands as c
from control_plane.domain.consoles.aggregate import ConsoleAuthorization, XvpConsole
from control_plane.service import compute_rpc
from control_plane.service.deps import Deps
from control_plane.service.handlers.servers import load_visible
from control_plane.service.uow import UnitOfWork
from projections.consoles import queries as console_queries

# what Nova strips from console output (control characters but tab and newline)
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f]")


async def ask(deps: Deps, host: str, method: str, args: dict[str, Any], server_id: str,
              action: str) -> Any:
    """Ask ``host`` (the server's compute worker); its errors as Nova's faults."""
    try:
        return await compute_rpc.call(deps.pool, host, method, {"server_id": server_id, **args},
                                      deps.settings.compute_rpc_timeout)
    except compute_rpc.RemoteError as exc:
        if exc.kind == "not_found":
            raise NotFound(f"Instance {server_id} could not be found.") from None
        if exc.kind == "not_running":
            raise console.not_running(server_id, action,
                                      int(exc.data.get("power_state", 0))) from None
        if exc.kind == "unavailable":
            raise BadRequest(exc.message) from None
        raise Fault(exc.message) from None


async def console_output(deps: Deps, server_id: str, length: int | None,
                         ctx: RequestContext) -> str:
    """The last ``length`` lines of the guest's console log (all for None or -1)."""
    server = await load_visible(deps.unit_of_work(), server_id, ctx)
    host = console.check_reachable(server, "get_console_output")
    output = await ask(deps, host, "console_output", {"length": length}, server_id,
                       "get_console_output")
    return _CONTROL.sub("", str(output))


async def diagnostics(deps: Deps, server_id: str, ctx: RequestContext) -> dict[str, Any]:
    server = await load_visible(deps.unit_of_work(), server_id, ctx)
    host = console.check_reachable(server, "get_diagnostics")
    result: dict[str, Any] = await ask(deps, host, "diagnostics", {}, server_id,
                                       "get_diagnostics")
    return result


async def authorize_console(deps: Deps, cmd: c.AuthorizeConsole, ctx: RequestContext) -> str:
    """A console URL with a fresh token, valid for console_token_ttl seconds."""
    console.check_console_type(cmd.protocol, cmd.console_type)
    action = console.METHODS[cmd.protocol]
    server = await load_visible(deps.unit_of_work(), cmd.server_id, ctx)
    host = console.check_can_connect(server, action)
    connection = await ask(deps, host, "console", {"kind": cmd.console_type}, cmd.server_id,
                           action)
    token = str(uuid.uuid4())  # random (os.urandom), as Nova's tokens are
    uow = deps.unit_of_work()
    uow.add(ConsoleAuthorization.issue(
        uuid.uuid4(), now(), deps.settings.console_token_ttl, token, cmd.server_id,
        cmd.console_type, connection))
    await uow.commit(ctx.metadata(host=host))
    return console.access_url(cmd.console_type,
                              deps.settings.console_base_urls[cmd.console_type], token)


def _console_stream(server_id: str) -> uuid.UUID:
    return stable_id("xvp-console", server_id)


async def create_console(deps: Deps, cmd: c.CreateConsole, ctx: RequestContext) -> None:
    s = deps.settings

    async def work(uow: UnitOfWork) -> None:
        server = await load_visible(uow, cmd.server_id, ctx)
        console.check_reachable(server, "create_console")
        fields = {"instance_uuid": cmd.server_id, "project_id": server.project_id,
                  "console_type": console.XVP_CONSOLE_TYPE,
                  "host": s.console_public_hostname, "port": s.console_xvp_port,
                  "password": seal(generate_password(8))}
        stream = _console_stream(cmd.server_id)
        existing = await uow.get(XvpConsole, stream)
        if existing is None:
            uow.add(XvpConsole.create(stream, now(), **fields))
        elif not existing.reopen(now(), **fields):
            return  # it has one already, as Nova keeps it
        await uow.commit(ctx.metadata())

    await deps.retrying(work, key=f"console:{cmd.server_id}")


async def delete_console(deps: Deps, cmd: c.DeleteConsole, ctx: RequestContext) -> None:
    async def work(uow: UnitOfWork) -> None:
        await load_visible(uow, cmd.server_id, ctx)
        async with deps.pool.acquire() as conn:
            known = await console_queries.exists(conn, cmd.console_id, cmd.server_id)
        xvp = await uow.get(XvpConsole, _console_stream(cmd.server_id))
        if not known or xvp is None or not xvp.open:
            raise NotFound(f"Console {cmd.console_id} could not be found.")
        xvp.delete(now())
        await uow.commit(ctx.metadata())

    await deps.retrying(work, key=f"console:{cmd.server_id}")
