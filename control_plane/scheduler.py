"""The scheduler: places each new server on a compute host with room for it."""

from __future__ import annotations

from control_plane import commands as c
from control_plane.bus import MessageBus
from control_plane.context import RequestContext
from control_plane.eventstore import EventStore, Notifier, RecordedEvent
from control_plane.follower import Follower


def caused_by(event: RecordedEvent, actor: str) -> RequestContext:
    """The context for a command issued in reaction to ``event``: same request, same user."""
    m = event.metadata
    return RequestContext(
        user_id=m.get("user_id", actor), project_id=m.get("project_id", "service"),
        roles=("admin",), request_id=m.get("request_id", "req-" + actor),
    )


class Scheduler(Follower):
    name = "scheduler"
    types = ("ServerCreated",)
    concurrency = 1

    def __init__(self, store: EventStore, notifier: Notifier, bus: MessageBus) -> None:
        super().__init__(store, notifier)
        self.bus = bus

    async def handle(self, event: RecordedEvent) -> None:
        ctx = caused_by(event, "scheduler")
        await self.bus.handle(c.ScheduleServer(event.stream_id), ctx)
