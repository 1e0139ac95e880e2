"""``control-plane projections``: list, rebuild (online), pause, resume, run, and the
dead letters: dead-letters (list), replay, skip.

``list`` samples every projection's position twice (``--sample`` seconds apart) to show
its throughput beside its position, lag, state and open dead letters (events it could
not apply and went past), and exits 1 while any are open. ``dead-letters`` lists them
(projections' and followers') with their errors; ``replay`` applies a projection's
again (after a fix; or hands a follower's back to the running follower), ``skip``
marks them as dealt with. A ``rebuild`` also retries every event its projection could
not apply. ``rebuild`` draws a progress bar with an ETA while the new version is
built beside the live one (projections.runner)."""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from control_plane.bootstrap import System
from projections.runner import ProjectionError, ProjectionRunner, measure_rates


async def list_projections(runner: ProjectionRunner, sample: float, console: Console) -> int:
    before, started = await runner.positions(), time.monotonic()
    if sample > 0:
        await asyncio.sleep(sample)
    rates = measure_rates(before, await runner.positions(), time.monotonic() - started)
    table = Table("projection", "position", "lag", "state", "dead letters", "events/s",
                  box=None, header_style="bold")
    failures = []
    for st in await runner.status():
        state = st.state
        if st.rebuilding is not None:
            state += f" (rebuild at {st.rebuilding}/{st.head})"
        if st.error is not None:
            failures.append(f"{st.name} paused at event {st.error_position} since "
                            f"{st.error_at}: {st.error.splitlines()[0]}")
        table.add_row(st.name, str(st.position), str(st.lag), state, str(st.dead_letters),
                      f"{rates.get(st.name, 0.0):.0f}" if sample > 0 else "-")
    console.print(table)
    letters = await runner.dead_letters()
    for letter in letters:
        failures.append(f"{letter.consumer}: event {letter.position} ({letter.event_type} "
                        f"of {letter.stream_id}) failed at {letter.failed_at}: "
                        f"{letter.error.splitlines()[0]}")
    for failure in failures:
        console.print(failure, style="red", soft_wrap=True, highlight=False, markup=False)
    if letters:
        console.print("see: control-plane projections dead-letters; then replay or skip",
                      markup=False)
    return 1 if failures else 0


def consumer_of(runner: ProjectionRunner, name: str) -> str:
    """``volumes`` -> ``projection:volumes``; a follower is named in full
    (``follower:scheduler``, ``follower:compute:rack1``)."""
    if name.startswith(("projection:", "follower:")):
        return name
    runner.get(name)
    return f"projection:{name}"


async def dead_letters(runner: ProjectionRunner, names: list[str], show_all: bool,
                       console: Console) -> int:
    consumers: list[str | None] = [consumer_of(runner, n) for n in names] or [None]
    table = Table("consumer", "position", "event", "stream", "status", "tries", "failed at",
                  "error", box=None, header_style="bold")
    count = 0
    for consumer in consumers:
        for d in await runner.dead_letters(consumer, open_only=not show_all):
            count += 1
            table.add_row(d.consumer, str(d.position), d.event_type, d.stream_id, d.status,
                          str(d.attempts), str(d.failed_at), d.error.splitlines()[0])
    if count:
        console.print(table)
    else:
        console.print("no dead letters" if show_all else "no open dead letters")
    return 0


async def resolve(runner: ProjectionRunner, action: str, names: list[str],
                  positions: list[int] | None, console: Console) -> int:
    code = 0
    for name in names:
        consumer = consumer_of(runner, name)
        if action == "skip":
            n = await runner.skip(consumer, positions)
            console.print(f"{consumer}: {n} dead letters skipped", markup=False)
            continue
        results = await runner.replay(consumer, positions)
        if not results:
            console.print(f"{consumer}: no open dead letters", markup=False)
        for position, error in results:
            if error is None:
                console.print(f"{consumer}: event {position} applied", markup=False)
            elif error == "queued":
                console.print(f"{consumer}: event {position} handed to the running "
                              "follower", markup=False)
            else:
                code = 1
                console.print(f"{consumer}: event {position} failed again: {error}",
                              style="red", markup=False)
    return code


async def rebuild(runner: ProjectionRunner, names: list[str], console: Console) -> int:
    columns: tuple[Any, ...] = (
        TextColumn("{task.description:<18}"), BarColumn(), TaskProgressColumn(),
        MofNCompleteColumn(), TextColumn("{task.fields[rate]:>9} ev/s"),
        TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        for name in names:
            task = bar.add_task(name, total=None, rate="")
            started = time.monotonic()

            def report(position: int, head: int, task: Any = task, started: float = started
                       ) -> None:
                elapsed = max(time.monotonic() - started, 1e-6)
                bar.update(task, completed=position, total=head,
                           rate=f"{position / elapsed:,.0f}")

            try:
                count = await runner.rebuild(name, report)
            except ProjectionError as exc:
                console.print(f"[red]{exc}[/red]: {exc.__cause__}")
                return 1
            elapsed = time.monotonic() - started
            bar.update(task, completed=count, total=max(count, 1),
                       rate=f"{count / max(elapsed, 1e-6):,.0f}")
    return 0


async def run(system: System, args: argparse.Namespace) -> int:
    runner, console = system.runner, Console()
    names = list(args.names or ([] if args.action in ("dead-letters", "replay", "skip")
                                else [p.name for p in runner.projections]))
    for name in names:
        try:
            consumer_of(runner, name)
        except KeyError:
            console.print(f"[red]no projection called {name}[/red]; there are "
                          + ", ".join(p.name for p in runner.projections))
            return 2
    if args.action == "list":
        return await list_projections(runner, args.sample, console)
    if args.action == "dead-letters":
        return await dead_letters(runner, names, args.all, console)
    if args.action in ("replay", "skip"):
        return await resolve(runner, args.action, names, args.position, console)
    if args.action == "rebuild":
        return await rebuild(runner, names, console)
    if args.action == "pause":
        for name in args.names:
            await runner.pause(name)
            console.print(f"paused {name}")
        return 0
    if args.action == "resume":
        code = 0
        for name in args.names:
            applied = await runner.resume(name)
            st = next(s for s in await runner.status() if s.name == name)
            if st.error is not None:
                console.print(f"[red]{name} failed again and is paused:[/red] "
                              + st.error.splitlines()[0])
                code = 1
            else:
                console.print(f"resumed {name}: {applied} events applied, lag {st.lag}")
        return code
    raise AssertionError(args.action)


def add_parsers(sub: Any, common: Any, handler: Any) -> None:
    proj = sub.add_parser("projections", help="list, rebuild (online), pause, resume or run "
                                              "the projections; list, replay or skip "
                                              "dead letters")
    proj.add_argument("action", choices=["run", "list", "rebuild", "pause", "resume",
                                         "dead-letters", "replay", "skip"])
    proj.add_argument("names", nargs="*",
                      help="projections (default for rebuild: all; pause/resume/replay/skip "
                           "need names; a follower is named in full, e.g. "
                           "follower:compute:rack1)")
    proj.add_argument("--position", type=int, action="append", default=None,
                      help="replay/skip: only the dead letter of this event (repeatable)")
    proj.add_argument("--all", action="store_true",
                      help="dead-letters: also those replayed or skipped")
    proj.add_argument("--sample", type=float, default=1.0,
                      help="list: seconds between the two readings that give throughput "
                           "(0: none)")
    common(proj)
    proj.set_defaults(func=handler)
