"""Verifying the event log's hash chains (``control-plane audit verify``).

One pass over the log in position order, through a server-side cursor in one
read-only snapshot; each row comes with the stored hash and position of the
previous event of its stream (a join on ``stream_version - 1``), so memory holds
only what is wrong. For every event the pass checks:

- content: its stream hash equals the hash of its content and its stream's
  previous hash (see ``control_plane.store.hashchain``);
- chain: its chain hash follows from the previous event's chain hash;
- order: positions are 1, 2, 3, ... up to the head; stream versions 1, 2, 3, ...
  with positions increasing.

Then it explains what it saw, one finding per tampered event:

``changed``    content no longer matches the event's own hash (an edit of data,
               metadata, type, ...);
``rewritten``  the event's hash was recomputed or replaced: it matches the content
               but the chain breaks at it (or after it) and its stream's next
               event no longer follows it;
``removed``    a position missing (in the middle, or between the last event and
               the head), or a stream version missing;
``inserted``   an event beyond the head, or one the chain skips (its successor
               follows its predecessor directly);
``reordered``  an event whose hash holds at another position (moved), or whose
               stream version is older than its position says;
``head``       the head's hash is not the last event's chain hash;
``anchor``     the chain hash at an anchor position differs from the one recorded.

Events recorded before hashing existed (positions below ``event_head.chain_start``)
are counted as unchained and not checked; every later event must be hashed.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from control_plane.store import hashchain

# rows kept whole so that a moved event can be tried at other positions
_TRIAL_ROWS = 1000
# past this many problems of one sort the pass stops collecting them
_MAX_PROBLEMS = 100_000

_ROWS = """
SELECT e.position, e.stream_id, e.stream_version, e.event_type, e.schema_version, e.data,
       e.metadata, e.recorded_at, e.stream_hash, e.chain_hash,
       p.position AS prev_position, p.stream_hash AS prev_hash
FROM events e
LEFT JOIN events p ON p.stream_id = e.stream_id AND p.stream_version = e.stream_version - 1
ORDER BY e.position
"""


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    position: int | None
    detail: str
    stream_id: str | None = None
    stream_version: int | None = None
    event_type: str | None = None

    def line(self) -> str:
        where = f"position {self.position}" if self.position is not None else "position -"
        stream = (f"stream {self.stream_id} v{self.stream_version}"
                  if self.stream_id is not None else "stream -")
        return f"{self.kind.upper():<10} {where:<16} {stream} {self.event_type or '-'}: " \
               f"{self.detail}"


@dataclass
class AuditReport:
    events: int
    head_position: int
    head_hash: bytes | None
    chain_start: int
    unchained: int
    findings: list[Finding] = field(default_factory=list)
    truncated: bool = False

    @property
    def intact(self) -> bool:
        return not self.findings and not self.truncated

    def summary(self) -> str:
        head = self.head_hash.hex() if self.head_hash else "-"
        note = (f"; {self.unchained} events before position {self.chain_start} were recorded"
                " before hashing and are not chained" if self.unchained else "")
        if self.intact:
            return (f"{self.events} events, chain intact, head position {self.head_position}"
                    f" hash {head}{note}")
        more = " (and more: stopped collecting)" if self.truncated else ""
        return (f"{self.events} events, chain BROKEN: {len(self.findings)} problems{more};"
                f" head position {self.head_position} hash {head}{note}")

    def lines(self) -> list[str]:
        return [f.line() for f in self.findings] + [self.summary()]


class _Walk:
    """The pass over the log: records what is wrong, then explains it (``findings``)."""

    def __init__(self, head_position: int, head_hash: bytes | None, chain_start: int,
                 anchor: tuple[int, bytes] | None) -> None:
        self.head_position = head_position
        self.head_hash = head_hash
        self.chain_start = chain_start
        self.anchor = anchor
        self.anchor_seen: bytes | None = None
        self.head_row_hash: bytes | None = None
        self.count = 0
        self.unchained = 0
        self.truncated = False
        self.last: tuple[int, bytes | None] = (0, None)  # position, chain hash
        self.before_last: tuple[int, bytes | None] = (-1, None)
        self.missing: list[tuple[int, int]] = []
        self.beyond: list[int] = []
        self.unhashed: list[int] = []
        self.stream_gaps: list[tuple[str, int, int]] = []
        self.out_of_order: dict[int, int] = {}
        self.bad_content: dict[int, asyncpg.Record | None] = {}
        self.stream_pred: dict[int, int | None] = {}
        self.broken_links: set[int] = set()
        self.skipped: set[int] = set()

    def _room(self, collection: Any) -> bool:
        if len(collection) < _MAX_PROBLEMS:
            return True
        self.truncated = True
        return False

    def feed(self, row: asyncpg.Record) -> None:
        p: int = row["position"]
        self.count += 1
        last_pos, last_hash = self.last
        contiguous = p == last_pos + 1
        if p > last_pos + 1 and self._room(self.missing):
            self.missing.append((last_pos + 1, p - 1))
        if p > self.head_position and self._room(self.beyond):
            self.beyond.append(p)
        if p == self.head_position:
            self.head_row_hash = row["chain_hash"]
        if self.anchor is not None and p == self.anchor[0]:
            self.anchor_seen = row["chain_hash"] or b""
        s: bytes | None = row["stream_hash"]
        c: bytes | None = row["chain_hash"]
        if s is None or c is None:
            if p < self.chain_start:
                self.unchained += 1
            elif self._room(self.unhashed):
                self.unhashed.append(p)
        else:
            self._check_content(row, p, s)
            if contiguous and hashchain.chain_hash(last_hash, s) != c:
                if self._room(self.broken_links):
                    self.broken_links.add(p)
                # the row before is not in the chain if this one follows the one before it
                before_pos, before_hash = self.before_last
                if before_pos == p - 2 and hashchain.chain_hash(before_hash, s) == c:
                    self.skipped.add(p - 1)
        self.before_last = self.last
        self.last = (p, c)

    def _check_content(self, row: asyncpg.Record, p: int, s: bytes) -> None:
        version: int = row["stream_version"]
        prev_position: int | None = row["prev_position"]
        if version > 1 and prev_position is None:
            if self._room(self.stream_gaps):
                self.stream_gaps.append((row["stream_id"], version - 1, p))
            return
        if prev_position is not None and prev_position > p and self._room(self.out_of_order):
            self.out_of_order[p] = prev_position
        if hashchain.stream_hash(row["prev_hash"], _canonical(row, p)) != s:
            if self._room(self.bad_content):
                self.bad_content[p] = row if len(self.bad_content) < _TRIAL_ROWS else None
                self.stream_pred[p] = prev_position

    def findings(self) -> list[Finding]:
        found: list[Finding] = []
        moved = self._moved()
        inserted = set(self.beyond) | self.skipped
        rewritten = dict.fromkeys(self.unhashed, "its hashes are missing")
        for y in sorted(self.bad_content):
            if y in moved or y in inserted:
                continue
            pred = self.stream_pred.get(y)
            if pred is not None and (pred in moved or pred in rewritten):
                continue  # it follows a moved or unhashed event: not what it was chained to
            if (pred is not None and pred not in self.bad_content
                    and (pred in self.broken_links or pred + 1 in self.broken_links)):
                rewritten[pred] = (f"its hash was recomputed: it matches the content, but the"
                                   f" chain breaks at or right after it and its stream's next"
                                   f" event (position {y}) no longer follows it")
                continue
            found.append(Finding("changed", y, "the content does not match the event's hash"))
        explained = set(moved) | inserted | set(rewritten)
        for x in sorted(self.broken_links):
            if x in explained or x - 1 in explained:
                continue
            rewritten[x] = (
                "its hashes were replaced: it does not follow the previous event and the next"
                " does not follow it" if x + 1 in self.broken_links else
                f"the log's chain breaks between positions {x - 1} and {x} (a hash of one of"
                " them was recomputed)")
            explained.add(x)
        found += [Finding("rewritten", p, d) for p, d in rewritten.items()]
        for p, original in moved.items():
            found.append(Finding("reordered", p, f"recorded at position {original}, now here"
                                 if original is not None else
                                 "its stream's previous version comes later in the log"))
        found += [Finding("inserted", p, "beyond the head of the log" if p in self.beyond
                          else "the chain skips it: the next event follows the one before")
                  for p in sorted(inserted)]
        found += self._removed()
        found += self._head_and_anchor()
        return found

    def _moved(self) -> dict[int, int | None]:
        """Events whose hash holds at another suspect position (moved there), and events
        that come before their stream's previous version."""
        moved: dict[int, int | None] = {}
        suspects = sorted(self.bad_content)[:_TRIAL_ROWS]
        for y in suspects:
            row = self.bad_content[y]
            if row is None:
                continue
            for x in suspects:
                if x != y and hashchain.stream_hash(
                        row["prev_hash"], _canonical(row, x)) == row["stream_hash"]:
                    moved[y] = x
                    break
        for y, x in self.out_of_order.items():
            if y not in moved and x not in moved:
                moved[y] = None
        return moved

    def _removed(self) -> list[Finding]:
        found = []
        ranges = list(self.missing)
        last_pos = self.last[0]
        if last_pos < self.head_position:
            ranges.append((last_pos + 1, self.head_position))
        for a, b in ranges:
            what = f"position {a} is missing" if a == b else \
                f"positions {a}-{b} are missing ({b - a + 1} events)"
            if b == self.head_position and a > last_pos:
                what += " at the end of the log"
            found.append(Finding("removed", a, what))
        for stream_id, version, next_pos in self.stream_gaps:
            found.append(Finding("removed", None, f"stream version {version} is missing"
                                 f" (version {version + 1} is at position {next_pos})",
                                 stream_id, version))
        return found

    def _head_and_anchor(self) -> list[Finding]:
        found = []
        if (self.head_position >= self.chain_start and self.head_row_hash is not None
                and self.head_row_hash != self.head_hash):
            found.append(Finding("head", self.head_position,
                                 "the head's hash is not this event's chain hash"))
        if self.anchor is not None:
            position, expected = self.anchor
            if self.anchor_seen is None:
                found.append(Finding("anchor", position, "the anchor's position is not in the"
                                     " log"))
            elif self.anchor_seen != expected:
                found.append(Finding("anchor", position, f"chain hash {self.anchor_seen.hex()}"
                                     f" differs from the anchor's {expected.hex()}: the log up"
                                     " to here was rewritten"))
        return found


def _canonical(row: asyncpg.Record, position: int) -> bytes:
    return hashchain.canonical(
        position, row["stream_id"], row["stream_version"], row["event_type"],
        row["schema_version"], row["data"], row["metadata"],
        hashchain.timestamp(row["recorded_at"]))


@contextlib.asynccontextmanager
async def _snapshot(source: asyncpg.Pool | asyncpg.Connection
                    ) -> AsyncIterator[asyncpg.Connection]:
    """A connection in a read-only snapshot (or the caller's own transaction)."""
    if isinstance(source, asyncpg.Pool):
        async with source.acquire() as conn, conn.transaction(
                isolation="repeatable_read", readonly=True):
            yield conn
    elif source.is_in_transaction():
        yield source
    else:
        async with source.transaction(isolation="repeatable_read", readonly=True):
            yield source


async def verify(source: asyncpg.Pool | asyncpg.Connection, *,
                 anchor: tuple[int, bytes] | None = None, prefetch: int = 1000) -> AuditReport:
    """Walk the whole log and report every event that was changed, removed, inserted or
    reordered. ``anchor`` = (position, chain hash) recorded earlier, e.g. from a previous
    report's head; a connection needs the project's json codecs (``db.connect``)."""
    async with _snapshot(source) as conn:
        head = await conn.fetchrow("SELECT position, chain_hash, chain_start FROM event_head")
        walk = _Walk(head["position"], head["chain_hash"], head["chain_start"], anchor)
        async for row in conn.cursor(_ROWS, prefetch=prefetch):
            walk.feed(row)
        findings = walk.findings()
        await _describe(conn, findings)
    findings.sort(key=lambda f: (f.position is None, f.position or 0, f.kind))
    return AuditReport(walk.count, head["position"], head["chain_hash"], head["chain_start"],
                       walk.unchained, findings, walk.truncated)


async def _describe(conn: asyncpg.Connection, findings: list[Finding]) -> None:
    """Fill in stream, version and type of the findings whose event is still there."""
    wanted = [f.position for f in findings if f.position is not None and f.stream_id is None
              and f.kind != "removed"]
    if not wanted:
        return
    rows = {r["position"]: r for r in await conn.fetch(
        "SELECT position, stream_id, stream_version, event_type FROM events"
        " WHERE position = any($1::bigint[])", wanted)}
    for i, f in enumerate(findings):
        row = rows.get(f.position) if f.position is not None else None
        if row is not None and f.stream_id is None and f.kind != "removed":
            findings[i] = Finding(f.kind, f.position, f.detail, row["stream_id"],
                                  row["stream_version"], row["event_type"])
