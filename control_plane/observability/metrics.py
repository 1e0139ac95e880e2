"""Prometheus metrics: what every part of the process counts, and how it is exposed.

The metric objects live in prometheus_client's default registry, created once per
process when this module is first imported (one ``control-plane serve`` process
holds them all; tests build many systems in one process and compare values before
and after rather than absolute ones). Labels are bounded: HTTP requests by route
template (never the raw path), commands and events by type, driver operations by
method name.

The API serves them at ``/metrics`` (``control_plane.api.observe``), after reading the
log's head and every projection's and follower's tracked position in one query
(``refresh_positions``). A process without the API (``control-plane compute``) can
serve them with prometheus_client's own HTTP server (``serve``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, start_http_server
from prometheus_client.exposition import choose_encoder

log = logging.getLogger(__name__)

NS = "control_plane"
# seconds: hypervisor operations run from milliseconds (fake) to minutes (a QEMU migration)
DRIVER_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
                  120.0, 300.0)

HTTP_REQUESTS = Counter(
    "http_requests", "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"], namespace=NS)
HTTP_DURATION = Histogram(
    "http_request_duration_seconds", "Time to answer an HTTP request, by route template.",
    ["route", "method"], namespace=NS)

EVENTS_APPENDED = Counter(
    "events_appended", "Events appended to the log by this process, by event type.",
    ["event_type"], namespace=NS)
APPEND_CONFLICTS = Counter(
    "append_conflicts",
    "Appends refused because a stream moved on (retried on fresh state).", namespace=NS)

COMMANDS = Counter(
    "commands", "Commands handled by the message bus, by command and outcome (ok, or the "
    "class of the error raised).", ["command", "outcome"], namespace=NS)
COMMAND_DURATION = Histogram(
    "command_duration_seconds", "Time to handle a command, by command.", ["command"],
    namespace=NS)

DRIVER_OPERATIONS = Counter(
    "driver_operations", "Hypervisor driver calls, by driver and operation.",
    ["driver", "operation"], namespace=NS)
DRIVER_FAILURES = Counter(
    "driver_failures", "Hypervisor driver calls that raised, by driver, operation and error.",
    ["driver", "operation", "error"], namespace=NS)
DRIVER_DURATION = Histogram(
    "driver_operation_duration_seconds", "Time a hypervisor driver call took.",
    ["driver", "operation"], buckets=DRIVER_BUCKETS, namespace=NS)

FOLLOWER_EVENTS = Counter(
    "follower_events", "Events handled by a follower, by follower and event type.",
    ["follower", "event_type"], namespace=NS)
FOLLOWER_FAILURES = Counter(
    "follower_event_failures", "Tries of a follower's handler that failed (and were retried).",
    ["follower"], namespace=NS)
FOLLOWER_POSITION = Gauge(
    "follower_position", "Position a follower has recorded (everything up to it is done).",
    ["follower"], namespace=NS)
FOLLOWER_LAG = Gauge(
    "follower_lag_events", "Events in the log after a follower's recorded position "
    "(read by the API at scrape time).", ["follower"], namespace=NS)

EVENT_HEAD = Gauge("event_head_position", "Position of the last event in the log "
                   "(read by the API at scrape time).", namespace=NS)
PROJECTION_POSITION = Gauge(
    "projection_position", "Position up to which a projection has applied the log.",
    ["projection"], namespace=NS)
PROJECTION_LAG = Gauge(
    "projection_lag_events", "Events in the log a projection has not applied yet "
    "(head position minus its tracked position).", ["projection"], namespace=NS)
PROJECTION_PAUSED = Gauge(
    "projection_paused", "1 while a projection is paused (by an operator or a failing "
    "handler).", ["projection"], namespace=NS)
DEAD_LETTERS = Counter(
    "dead_letters", "Events a consumer (projection or follower) could not handle and "
    "recorded as dead letters (in this process).", ["consumer"], namespace=NS)
DEAD_LETTERS_OPEN = Gauge(
    "dead_letters_open", "Dead letters not yet replayed or skipped, by consumer (read by "
    "the API at scrape time).", ["consumer"], namespace=NS)
FOLLOWER_UP = Gauge(
    "follower_up", "1 while a follower's liveness row is fresh (read by the API at "
    "scrape time).", ["follower"], namespace=NS)
DATABASE_UP = Gauge("database_up", "1 if the last scrape could read positions from the "
                    "database, else 0.", namespace=NS)


def count_appended(event_types: Iterable[str]) -> None:
    for event_type in event_types:
        EVENTS_APPENDED.labels(event_type).inc()


def set_positions(head: int, rows: Mapping[str, tuple[int, bool]],
                  projections: Iterable[str]) -> None:
    """Set the position gauges from the log's head and the ``tracking`` rows (name ->
    (position, paused)); ``projections`` are the names expected (a projection without a
    row has applied nothing)."""
    EVENT_HEAD.set(head)
    for name in projections:
        position, paused = rows.get(f"projection:{name}", (0, False))
        PROJECTION_POSITION.labels(name).set(position)
        PROJECTION_LAG.labels(name).set(head - position)
        PROJECTION_PAUSED.labels(name).set(1 if paused else 0)
    for key, (position, _paused) in rows.items():
        if key.startswith("follower:"):
            name = key.removeprefix("follower:")
            FOLLOWER_POSITION.labels(name).set(position)
            FOLLOWER_LAG.labels(name).set(head - position)


def set_health(dead_letters: Mapping[str, int], seen: Mapping[str, float],
               down_after: float) -> None:
    """Set the dead-letter and follower-liveness gauges (consumers with none open are
    set to 0 so a resolved dead letter clears its alert)."""
    known = {sample.labels["consumer"] for metric in DEAD_LETTERS_OPEN.collect()
             for sample in metric.samples}
    for consumer in known:
        if consumer not in dead_letters:
            DEAD_LETTERS_OPEN.labels(consumer).set(0)
    for consumer, n in dead_letters.items():
        DEAD_LETTERS_OPEN.labels(consumer).set(n)
    for name, age in seen.items():
        FOLLOWER_UP.labels(name).set(1 if age <= down_after else 0)


def exposition(accept: str | None) -> tuple[bytes, str]:
    """The registry's samples in the format the scraper asked for (Prometheus text, or
    OpenMetrics), and its content type."""
    encoder, content_type = choose_encoder(accept or "")
    return encoder(REGISTRY), content_type


def serve(port: int, host: str = "127.0.0.1") -> None:
    """Serve this process's metrics at http://host:port/metrics (a thread of
    prometheus_client's own HTTP server), for processes that run no API."""
    start_http_server(port, addr=host)
    log.info("metrics on http://%s:%d/metrics", host, port)
