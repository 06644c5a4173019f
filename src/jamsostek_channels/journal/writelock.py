"""Taking SQLite's write lock without SQLite's busy handler.

SQLite lets one writer at a time into a file. A writer that finds the lock taken is held by
SQLite's busy handler, which sleeps 1 ms, then 2, 5, 10 ... up to 100 ms between tries: far
longer than a durable commit holds the lock here (about a tenth of a millisecond), so a waiting
writer sleeps through several commits of others while the lock stands free. A journal writer
turns SQLite's handler off (``PRAGMA busy_timeout = 0``) for its ``BEGIN IMMEDIATE`` and waits
here instead: it tries again after :data:`FIRST_PAUSE`, each pause twice the last up to
:data:`LONGEST_PAUSE`, and gives up only once the whole timeout has passed, with SQLite's own
``SQLITE_BUSY`` error (which the journal raises as ``JournalBusy``). It always sleeps between
tries: a waiter never spins a core.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

__all__ = ["FIRST_PAUSE", "LONGEST_PAUSE", "begin_immediate", "is_busy"]

#: The first wait: about half a durable commit, so a writer waiting behind one is let in
#: soon after it commits.
FIRST_PAUSE = 50e-6
#: The longest wait between two tries (SQLite's first step): past it, a writer waits behind a
#: long transaction, and trying more often would only spend CPU.
LONGEST_PAUSE = 1e-3

#: SQLITE_BUSY, SQLITE_LOCKED: another connection holds what this one needs.
_BUSY_CODES = frozenset({5, 6})


def is_busy(error: sqlite3.Error) -> bool:
    """Whether ``error`` says another connection holds the lock (any extended BUSY code)."""
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in _BUSY_CODES


def begin_immediate(
    connection: sqlite3.Connection,
    timeout: float,
    *,
    clock: Callable[[], float] = time.monotonic,
    pause: Callable[[float], None] = time.sleep,
) -> None:
    """``BEGIN IMMEDIATE`` on ``connection`` (whose SQLite busy timeout is 0), trying again
    while another writer holds the lock, for up to ``timeout`` seconds measured on
    ``clock``; then the last ``SQLITE_BUSY`` error is raised. Any other error is raised at
    once."""
    try:
        connection.execute("BEGIN IMMEDIATE")
        return
    except sqlite3.OperationalError as error:
        if not is_busy(error):
            raise
        busy = error
    deadline = clock() + timeout
    wait = FIRST_PAUSE
    while (left := deadline - clock()) > 0:
        pause(min(wait, left))
        wait = min(wait * 2, LONGEST_PAUSE)
        try:
            connection.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as error:
            if not is_busy(error):
                raise
            busy = error
    raise busy
