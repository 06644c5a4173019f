"""``jamsostek-channels sandbox``: the fake host and every built channel's gateway on loopback.

Writes the info file (channels with base URLs and test credentials, demo participants, the
control URL) once the server is ready, then serves until interrupted (Ctrl-C or SIGTERM). The
file is removed on the way out, however the command ends: a file present means a server ready.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import threading
from pathlib import Path
from typing import Any

from jamsostek_channels.cli.exits import Exit
from jamsostek_channels.errors import Problem

__all__ = ["add_parser"]


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser(
        "sandbox",
        parents=[common],
        help="serve the fake BPJS host and channel gateways on 127.0.0.1",
        description=(
            "Serve the fake BPJS host and every built channel's fake gateway on 127.0.0.1 until "
            "stopped, with a control API (reset, seed, faults, ledger)."
        ),
    )
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    parser.add_argument(
        "--info-file",
        type=Path,
        required=True,
        metavar="F",
        help="where to write the endpoints and test credentials (JSON)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--demo", type=int, default=12, help="demo participants (default 12)")
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        help="stop after this many seconds (default: run until interrupted)",
    )
    parser.set_defaults(run=run)


def _cannot_write(args: argparse.Namespace, error: OSError) -> Exit:
    from jamsostek_channels.cli.output import refuse

    problem = Problem.of(
        "--info-file", "cli.cannot_write", {"path": args.info_file, "reason": error.strerror}
    )
    return refuse([problem], Exit.USAGE, as_json=args.json)


def run(args: argparse.Namespace) -> Exit:
    from jamsostek_channels.cli.output import console, print_json, refuse, safe
    from jamsostek_channels.testing.sandbox import Sandbox

    if not 0 <= args.port <= 65535:
        problem = Problem.of("--port", "cli.range", {"low": 0, "high": 65535})
        return refuse([problem], Exit.USAGE, as_json=args.json)
    try:
        # A file left by an earlier run must not pass for this one's: readers wait for it to
        # appear, so it appears only once this server is ready.
        args.info_file.unlink(missing_ok=True)
    except OSError as error:
        return _cannot_write(args, error)
    try:
        sandbox = Sandbox(port=args.port, seed=args.seed, demo=args.demo).start()
    except OSError as error:
        problem = Problem.of(
            "--port", "cli.cannot_listen", {"port": args.port, "reason": error.strerror}
        )
        return refuse([problem], Exit.USAGE, as_json=args.json)
    stop = threading.Event()

    def _stop(signum: int, frame: object) -> None:
        stop.set()

    # Both signals only set the event, so the clean-up below runs whichever arrives and
    # wherever the main thread is (a KeyboardInterrupt could land inside it).
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        try:
            sandbox.write_info(args.info_file)
        except OSError as error:
            return _cannot_write(args, error)
        info = sandbox.info()
        if args.json:
            print_json(
                {
                    "base_url": sandbox.base_url,
                    "info_file": str(args.info_file),
                    "channels": sorted(info["channels"]),
                }
            )
        else:
            console().print(
                safe(
                    f"sandbox on {sandbox.base_url}: channels {', '.join(info['channels'])}; "
                    f"{len(info['participants'])} demo participants; info in {args.info_file}"
                )
            )
        stop.wait(args.duration)
    except KeyboardInterrupt:
        pass
    finally:
        _remove_info(args.info_file, sandbox.info()["control_url"])
        sandbox.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return Exit.OK


def _remove_info(path: Path, control_url: str) -> None:
    """Remove the info file if it still describes this server (another sandbox may have
    written its own there since)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        if json.loads(path.read_text(encoding="utf-8")).get("control_url") == control_url:
            path.unlink()
