"""``control-plane projections``: list, rebuild (online), pause, resume, run.

``list`` samples every projection's position twice (``--sample`` seconds apart) to show
its throughput beside its position, lag, state and, for a failed one, the failing
event and error. ``rebuild`` draws a progress bar with an ETA while the new version is
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
    table = Table("projection", "position", "lag", "state", "events/s", box=None,
                  header_style="bold")
    failures = []
    for st in await runner.status():
        state = st.state
        if st.rebuilding is not None:
            state += f" (rebuild at {st.rebuilding}/{st.head})"
        if st.error is not None:
            failures.append(f"{st.name} paused at event {st.error_position} since "
                            f"{st.error_at}: {st.error.splitlines()[0]}")
        table.add_row(st.name, str(st.position), str(st.lag), state,
                      f"{rates.get(st.name, 0.0):.0f}" if sample > 0 else "-")
    console.print(table)
    for failure in failures:
        console.print(failure, style="red", soft_wrap=True, highlight=False)
    return 1 if failures else 0


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
    names = list(args.names or [p.name for p in runner.projections])
    for name in names:
        try:
            runner.get(name)
        except KeyError:
            console.print(f"[red]no projection called {name}[/red]; there are "
                          + ", ".join(p.name for p in runner.projections))
            return 2
    if args.action == "list":
        return await list_projections(runner, args.sample, console)
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
                                              "the projections")
    proj.add_argument("action", choices=["run", "list", "rebuild", "pause", "resume"])
    proj.add_argument("names", nargs="*",
                      help="projections (default for rebuild: all; pause/resume need names)")
    proj.add_argument("--sample", type=float, default=1.0,
                      help="list: seconds between the two readings that give throughput "
                           "(0: none)")
    common(proj)
    proj.set_defaults(func=handler)
