"""The frozen instance-action names (control_plane.domain.servers.actions) are the ones
the domain modules and the instance-actions view use: one list, no drift. No database."""

from __future__ import annotations

from control_plane.domain.registry import events_of
from control_plane.domain.servers import actions, simple_actions
from control_plane.domain.servers import network_events as server_network
from control_plane.domain.servers import volume_attachments as server_volumes
from control_plane.domain.servers.aggregate import Server
from projections.instance_actions import projection as instance_actions


def test_the_view_uses_the_frozen_names() -> None:
    assert instance_actions._OPENS == actions.OPENS
    assert instance_actions._STEPS == actions.STEPS
    assert instance_actions._FAILED_STEPS == actions.FAILED_STEPS


def test_the_domain_modules_agree() -> None:
    assert {t: a.name for t, a in simple_actions.REQUESTED.items()}.items() \
        <= actions.OPENS.items()
    assert {t: a.compute_event for t, a in simple_actions.DONE.items()}.items() \
        <= actions.STEPS.items()
    assert server_volumes.OPENS.items() <= actions.OPENS.items()
    assert server_network.OPENS.items() <= actions.OPENS.items()


def test_every_named_event_is_a_server_event() -> None:
    server_events = set(events_of(Server))
    assert set(actions.OPENS) <= server_events
    assert set(actions.STEPS) <= server_events
