"""``jamsostek-channels chaos``: kill paying processes at random points, recover, and count what
the fake host's ledger and the journal disagree on (see :mod:`jamsostek_channels.testing.chaos`).
Exit 0 only when nothing was lost, duplicated, misresolved or left unresolved, and every payment
that had to apply was applied (a run that applied nothing proves nothing: *vacuous*)."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from jamsostek_channels.cli.exits import Exit
from jamsostek_channels.errors import Problem

__all__ = ["add_parser"]


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser(
        "chaos",
        parents=[common],
        help="crash paying processes at random points and check nothing is lost or doubled",
    )
    parser.add_argument("--runs", type=int, default=20, metavar="N")
    parser.add_argument("--seed", type=int, default=0, metavar="S")
    parser.add_argument(
        "--channel",
        default=None,
        metavar="NAME",
        help="a channel the sandbox serves, HTTP or TCP (default: the first installed one)",
    )
    parser.add_argument(
        "--agent-id", default=None, help="the agent or teller id (default: the sandbox's)"
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="where the journal and sandbox info go (default: a temporary dir)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> Exit:
    from rich.progress import Progress

    from jamsostek_channels.cli.output import console, print_json, refuse
    from jamsostek_channels.testing.chaos import run_chaos
    from jamsostek_channels.testing.sandbox import faked_channels

    if args.runs < 1:
        problem = Problem.of("--runs", "cli.at_least", {"minimum": 1})
        return refuse([problem], Exit.USAGE, as_json=args.json)
    if args.channel is not None and args.channel not in faked_channels():
        expected = f"one of {', '.join(faked_channels())}"
        problem = Problem.of("--channel", "field.type", {"expected": expected})
        return refuse([problem], Exit.USAGE, as_json=args.json)
    with tempfile.TemporaryDirectory(prefix="jamsostek-chaos-") as scratch:
        workdir = args.workdir or Path(scratch)
        bar = console(stderr=True)  # a bar on a terminal only: a log would get its last frame
        with Progress(console=bar, disable=args.json or not bar.is_terminal) as progress:
            task = progress.add_task("chaos runs", total=args.runs)
            report = run_chaos(
                args.runs,
                args.seed,
                workdir=workdir,
                channel=args.channel,
                agent_id=args.agent_id,
                progress=lambda done: progress.update(task, completed=done),
            )
    document = report.as_dict()
    if args.json:
        print_json(document)
    else:
        out = console()
        for key, value in document.items():
            out.print(f"{key:>17}: {value}")
    return Exit.OK if report.ok else Exit.INVALID
