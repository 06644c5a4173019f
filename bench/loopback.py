"""What the end-to-end payment figures share: the sandbox served in another process on loopback
(only its public face: the command, the info file, the control API), the bare clients' durable
store, and rounds that take the library and its floor in turns.

Both sides of a figure pay against the same server, taking turns payment by payment, after a
reset of its state, so the server's own work (the fake host's rules, its ledger) and the load
from elsewhere on the machine weigh the same on each.
"""

from __future__ import annotations

import json
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import requests

__all__ = [
    "OUT",
    "DurableLog",
    "Side",
    "fresh",
    "payable",
    "sandbox",
    "take_turns",
    "take_turns_with",
]

OUT = Path(__file__).parent / "out"


def fresh(name: str) -> Path:
    """``bench/out/NAME``, with any file of a previous run (and its -wal, -shm) removed."""
    OUT.mkdir(exist_ok=True)
    path = OUT / name
    for stale in OUT.glob(name + "*"):
        stale.unlink()
    return path


@contextmanager
def sandbox(demo: int = 60) -> Iterator[dict[str, Any]]:
    """``jamsostek-channels sandbox`` on a free loopback port; yields its info file's content."""
    info_file = fresh("bench-sandbox.json")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jamsostek_channels",
            "sandbox",
            "--port",
            "0",
            "--demo",
            str(demo),
            "--info-file",
            str(info_file),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the sandbox did not start")
            try:
                info: dict[str, Any] = json.loads(info_file.read_text(encoding="utf-8"))
                break
            except (OSError, ValueError):  # not written yet, or caught half-written
                time.sleep(0.05)
        yield info
    finally:
        server.terminate()
        server.wait(timeout=10)


def payable(info: dict[str, Any]) -> list[str]:
    """Reset the sandbox's state (payments, tokens, X-EXTERNAL-IDs; the demo participants seeded
    again) and return the NIKs that can pay."""
    control = info["control_url"]
    requests.post(f"{control}/reset", timeout=30).raise_for_status()
    listed = requests.get(f"{control}/participants", timeout=30).json()
    return [p["nik"] for p in listed["participants"] if p["coverage"] != "lapsed"]


class DurableLog:
    """A bare client's own record of its payments: one SQLite insert + commit per call, WAL with
    synchronous=FULL, as the journal's intent and outcome writes are durable. It is also the
    floor of the journal's own figures (``bench.journal``): one connection per thread or
    process, several of them on one file, waiting for each other up to ``timeout`` seconds as
    the journal's writers do."""

    def __init__(self, path: Path, *, timeout: float = 30.0) -> None:
        # One thread at a time, though not always the same one (a round's terminal threads).
        self._db = sqlite3.connect(
            path, isolation_level=None, timeout=timeout, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = FULL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY, ref TEXT UNIQUE, body TEXT)"
        )

    def commit(self, ref: str, body: str) -> None:
        self._db.execute("BEGIN IMMEDIATE")
        self._db.execute("INSERT INTO log (ref, body) VALUES (?, ?)", (ref, body))
        self._db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()


@attrs.frozen
class Side:
    """One side of a figure: ``warm(nik)`` runs untimed after each reset of the sandbox (a token
    to renew, a connection to open), ``pay(tag, nik)`` pays one month for ``nik`` under a
    reference made from ``tag``."""

    warm: Callable[[str], None]
    pay: Callable[[str, str], None]
    close: Callable[[], None]


def take_turns(
    info: dict[str, Any], library: Side, floor: Side, *, rounds: int = 6, payments: int = 60
) -> tuple[float, float]:
    """Median seconds per payment of ``library`` and of ``floor`` against the sandbox of
    ``info`` (see :func:`take_turns_with`)."""
    return take_turns_with(lambda: payable(info), library, floor, rounds=rounds, payments=payments)


def take_turns_with(
    reset: Callable[[], list[str]],
    library: Side,
    floor: Side,
    *,
    rounds: int = 6,
    payments: int = 60,
) -> tuple[float, float]:
    """Median seconds per payment of ``library`` and of ``floor``.

    The two take turns payment by payment (which goes first alternates), so a burst of load
    from elsewhere on the machine falls on both; the median leaves out the payments such a
    burst (or another process's fsync) stalled. ``reset`` resets the server's state before
    each round and returns the NIKs that can pay.
    """
    times: dict[str, list[float]] = {"library": [], "floor": []}
    sides = [("library", library), ("floor", floor)]
    for turn in range(rounds):
        niks = reset()
        library.warm(niks[-1])
        floor.warm(niks[-1])
        for index in range(payments):
            nik = niks[index % len(niks)]
            for name, side in sides if index % 2 == 0 else sides[::-1]:
                start = time.perf_counter()
                side.pay(f"{turn}-{index}", nik)
                times[name].append(time.perf_counter() - start)
    return statistics.median(times["library"]), statistics.median(times["floor"])
