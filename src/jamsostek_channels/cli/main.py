"""Entry point: parses arguments and dispatches to one module per command.

Every command prints readable tables by default and one JSON document with ``--json``;
``--as-of YYYY-MM-DD`` fixes "today" (in Asia/Jakarta). Usage errors exit 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _date(text: str) -> dt.date:
    try:
        if len(text) != 10:
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected YYYY-MM-DD, got {text!r} / harus YYYY-MM-DD"
        ) from None


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON document")
    common.add_argument(
        "--as-of", type=_date, metavar="YYYY-MM-DD", help="use this date as today (Asia/Jakarta)"
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    from jamsostek_channels.cli import chaos, check, demo, quote, reconcile, recover, sandbox

    parser = argparse.ArgumentParser(
        prog="jamsostek-channels",
        description="BPU registration and contribution rules, the same at every partner channel.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = _common()
    quote.add_parser(commands, common)
    check.add_parser(commands, common)
    demo.add_parser(commands, common)
    sandbox.add_parser(commands, common)
    chaos.add_parser(commands, common)
    reconcile.add_parser(commands, common)
    recover.add_parsers(commands, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    code: int = args.run(args)
    return code


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    run()
