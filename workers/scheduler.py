"""The scheduler: places each new server on a compute host with room for it."""

from __future__ import annotations

from control_plane.context import RequestContext
from control_plane.domain.servers import commands as c
from control_plane.service.bus import MessageBus
from control_plane.store.eventstore import EventStore, RecordedEvent
from control_plane.store.follower import Follower
from control_plane.store.notifier import Notifier


def caused_by(event: RecordedEvent, actor: str) -> RequestContext:
    """The context for a command issued in reaction to ``event``: same request, same user."""
    m = event.metadata
    return RequestContext(
        user_id=m.get("user_id", actor), project_id=m.get("project_id", "service"),
        roles=("admin",), request_id=m.get("request_id", "req-" + actor),
        causation_id=event.position or None, actor=actor,
    )


# events that need a host found for an existing server, and the command that finds it
MOVES: dict[str, type[c.ScheduleResize] | type[c.ScheduleUnshelve]] = {
    "ServerResizeRequested": c.ScheduleResize,
    "ServerMigrateRequested": c.ScheduleResize,
    "ServerUnshelveRequested": c.ScheduleUnshelve,  # a no-op unless it was offloaded
}


class Scheduler(Follower):
    """Places new servers, a request's worth at a time (one append per request)."""

    name = "scheduler"
    types = ("ServerCreated", *MOVES)
    batched = True

    def __init__(self, store: EventStore, notifier: Notifier, bus: MessageBus) -> None:
        super().__init__(store, notifier)
        self.bus = bus

    async def handle_batch(self, events: list[RecordedEvent]) -> None:
        groups: dict[str, list[RecordedEvent]] = {}
        for event in events:
            if event.event_type in MOVES:
                await self.bus.handle(MOVES[event.event_type](event.stream_id),
                                      caused_by(event, "scheduler"))
                continue
            groups.setdefault(event.metadata.get("request_id", ""), []).append(event)
        for group in groups.values():
            ctx = caused_by(group[0], "scheduler")
            await self.bus.handle(
                c.ScheduleServers(tuple(e.stream_id for e in group)), ctx)
