"""Entry point: parses arguments and dispatches to one module per command.

Every command prints readable output by default and one JSON document with ``--json``;
``--as-of YYYY-MM-DD`` fixes "today" (in Asia/Jakarta). Both are accepted before or after the
command. ``--version`` prints the package's version. Readable output is rich tables on a
terminal and plain tab-separated lines anywhere else (:mod:`jamsostek_channels.cli.output`);
errors are one line each on stderr.

Every command returns from one exit-code table (:mod:`jamsostek_channels.cli.exits`):

===  ==========================================================================================
0    ok
1    invalid data (``check``), not balanced (``reconcile``), something needs a person
     (``outbox``, ``recover``), a run found something wrong (``chaos``, ``demo``)
2    usage error, or an input that cannot be used (a file missing, unreadable or undecodable,
     not a journal; unusable settings; a port in use); a rule or channel refusing the arguments
3    outcome unknown (``recover`` left payments unknown)
4    the journal failed (held by another writer, damaged, read-only, disk full)
5    the host refused or was not reached
6    the installation is broken (a rule table cannot be read)
130  interrupted (Ctrl-C)
141  the reader of the output went away (``| head``)
===  ==========================================================================================

Usage errors, ``--help`` and ``--version`` end with :class:`SystemExit` as argparse does; every
other outcome is returned by :func:`main`, and a typed error a command lets through is reported
like any other error (never a traceback) with the code of its error group
(:func:`~jamsostek_channels.cli.exits.exit_for`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
from collections.abc import Sequence
from typing import NoReturn

from jamsostek_channels.cli.exits import MEANINGS, Exit
from jamsostek_channels.cli.output import PROG
from jamsostek_channels.errors import JamsostekError, Problem

__all__ = ["build_parser", "main"]

#: Nine digits or more in a usage error are starred: they may be a NIK, a phone number or a KPJ
#: typed into the wrong option, and stderr often ends up in a log.
_LONG_NUMBER = re.compile(r"\d{9,}")


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors have the shape of every other error: the usage, then one
    line on stderr; exit :attr:`Exit.USAGE`. Subcommands' parsers are of this class too."""

    def error(self, message: str) -> NoReturn:
        from jamsostek_channels.cli.output import print_errors

        self.print_usage(sys.stderr)
        detail = _LONG_NUMBER.sub(lambda number: "*" * len(number.group()), message)
        command = self.prog.removeprefix(PROG).strip()
        print_errors([Problem.of(command, "cli.usage", {"detail": detail})])
        raise SystemExit(Exit.USAGE)


def _date(text: str) -> dt.date:
    try:
        if len(text) != 10:
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected YYYY-MM-DD, got {text!r} / harus YYYY-MM-DD"
        ) from None


def _add_common(parser: argparse.ArgumentParser, *, after_command: bool) -> None:
    """``--json`` and ``--as-of``, on the top-level parser (before the command) and on each
    command's (after it). A command's copies default to SUPPRESS: argparse copies a command's
    values over the top-level ones, so a default there would undo a value given before."""
    parser.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS if after_command else False,
        help="print one JSON document",
    )
    parser.add_argument(
        "--as-of",
        type=_date,
        default=argparse.SUPPRESS if after_command else None,
        metavar="YYYY-MM-DD",
        help="use this date as today (Asia/Jakarta)",
    )


def _epilog() -> str:
    return "exit status:\n" + "\n".join(
        f"  {int(code):>3}  {meaning}" for code, meaning in MEANINGS.items()
    )


def build_parser() -> argparse.ArgumentParser:
    from jamsostek_channels import __version__
    from jamsostek_channels.cli import chaos, check, demo, quote, reconcile, recover, sandbox

    parser = _Parser(
        prog=PROG,
        description="BPU registration and contribution rules, the same at every partner channel.",
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_common(parser, after_command=False)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = _Parser(add_help=False)
    _add_common(common, after_command=True)
    quote.add_parser(commands, common)
    check.add_parser(commands, common)
    demo.add_parser(commands, common)
    sandbox.add_parser(commands, common)
    chaos.add_parser(commands, common)
    reconcile.add_parser(commands, common)
    recover.add_parsers(commands, common)
    return parser


def main(argv: Sequence[str] | None = None) -> Exit:
    """Run one command; its exit code (usage errors, ``--help`` and ``--version`` raise
    :class:`SystemExit` as argparse does)."""
    from jamsostek_channels.cli.exits import exit_for
    from jamsostek_channels.cli.output import print_errors, problems_of, refuse
    from jamsostek_channels.journal.errors import JournalError

    args = build_parser().parse_args(argv)
    try:
        return Exit(args.run(args))
    except JamsostekError as error:
        field = "journal" if isinstance(error, JournalError) else args.command
        return refuse(problems_of(error, field=field), exit_for(error), as_json=args.json)
    except KeyboardInterrupt:
        print_errors([Problem.of("", "cli.interrupted")])
        return Exit.INTERRUPTED


def run() -> None:
    """Console-script entry point."""
    try:
        code = main()
        sys.stdout.flush()  # a reader gone shows here, not in the interpreter's own exit
    except BrokenPipeError:
        # ``| head`` read what it wanted and left: no traceback, and stdout pointed at nothing
        # so the interpreter's flush on the way out does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = Exit.PIPE_CLOSED
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
