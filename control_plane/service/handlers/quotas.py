"""Quota usage claimed in the same append as the server events it guards.

``project_usage`` loads a project's usage stream into the unit of work, opening it
(expected version 0) when the project has none yet: databases from before usage
streams hold servers but no stream, so the opener seeds it from the project's live
servers in the servers view (an inline projection, so it includes every server event
already appended). Two racing openers both append at version 0; one clashes and
retries on the stream the other opened.

``settle`` brings the usage in line with servers whose pending events change what
they hold (a delete, the end of a resize); every service that appends such an event
calls it before committing.
"""

from __future__ import annotations

from collections.abc import Iterable

from control_plane.context import now
from control_plane.domain.quotas.usage import (
    Holding,
    ProjectUsage,
    flavor_holding,
    server_holding,
    usage_stream_id,
)
from control_plane.domain.servers import resize
from control_plane.domain.servers.aggregate import Server
from control_plane.service.uow import UnitOfWork
from projections.servers import queries as server_queries

# events after which a server holds something else than before
_SETTLING = frozenset({Server.Deleted.TOPIC, resize.ResizeFailed.TOPIC,
                       resize.ResizeConfirmed.TOPIC, resize.ResizeReverted.TOPIC})


async def _seed(uow: UnitOfWork, project_id: str) -> dict[str, Holding]:
    async with uow.store.pool.acquire() as conn:
        rows = await server_queries.holdings(conn, project_id)
    seed = {}
    for row in rows:
        pending = row["resize"] or {}
        seed[row["id"]] = flavor_holding(row["flavor"], pending.get("new_flavor"),
                                         pending.get("old_flavor"))
    return seed


async def project_usage(uow: UnitOfWork, project_id: str) -> ProjectUsage:
    usage = await uow.get(ProjectUsage, usage_stream_id(project_id))
    if usage is None:
        usage = ProjectUsage.open(project_id, await _seed(uow, project_id), now())
        uow.add(usage)
    return usage


def _settling(server: Server) -> bool:
    return any(getattr(e, "TOPIC", None) in _SETTLING for e in server.pending_events)


async def settle(uow: UnitOfWork, servers: Iterable[Server | None]) -> None:
    """Release or re-size the holdings of servers whose pending events changed them."""
    for server in servers:
        if server is not None and _settling(server):
            usage = await project_usage(uow, server.project_id)
            usage.hold(str(server.id), server_holding(server), now())
