"""The one list of event types (control_plane.domain.registry) is complete and unique.

Every stable type name declared under control_plane/domain/ is listed exactly once,
and every type name ever stored in the golden responses or the stored-history fixture
still resolves to a class (the log is a public record: a name may never go missing).
No database."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from control_plane.domain import registry

ROOT = Path(__file__).resolve().parents[2]
DECLARED = re.compile(r'^\s+TOPIC = "(\w+)"', re.M)
STORED = re.compile(r'"event_type"\s*:\s*"(\w+)"')


def declared_topics() -> list[str]:
    found: list[str] = []
    for path in sorted((ROOT / "control_plane" / "domain").rglob("*.py")):
        found += DECLARED.findall(path.read_text())
    return found


def test_every_declared_topic_is_listed_once() -> None:
    aggregates = {a.TOPIC for a in registry.AGGREGATES}
    declared = set(declared_topics())
    listed = Counter(cls.TOPIC for cls in registry.EVENTS)
    assert [t for t, n in listed.items() if n > 1] == []
    assert sorted(declared - aggregates - set(listed)) == []
    assert sorted(set(listed) - declared) == []
    assert len(aggregates) == len(registry.AGGREGATES)


@pytest.mark.parametrize("source", ["tests/golden/responses.json",
                                    "tests/fixtures/server_history_v1.jsonl"])
def test_every_stored_event_type_resolves(source: str) -> None:
    stored = set(STORED.findall((ROOT / source).read_text()))
    assert stored
    for topic in sorted(stored):
        assert registry.event_class(topic).TOPIC == topic


def test_an_unknown_type_fails_loudly() -> None:
    with pytest.raises(KeyError, match="NoSuchEvent"):
        registry.event_class("NoSuchEvent")


def test_a_duplicate_type_name_fails_at_start() -> None:
    class One:
        TOPIC = "Twice"

    class Two:
        TOPIC = "Twice"

    with pytest.raises(TypeError, match="declared twice"):
        registry._by_topic((One, Two))


def test_server_events_are_the_server_streams_types() -> None:
    server = registry.events_of(registry.Server)
    assert "ServerCreated" in server and "ServerPaused" in server
    assert "FlavorCreated" not in server
