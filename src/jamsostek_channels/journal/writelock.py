"""Taking SQLite's write lock without SQLite's busy handler.

SQLite lets one writer at a time into a file. A writer that finds the lock taken is held by
SQLite's busy handler, which sleeps 1 ms, then 2, 5, 10, 15, 20, 25 ... up to 100 ms between
tries: after a few misses a waiter sleeps through dozens of commits of others (a durable commit
holds the lock for about a tenth of a millisecond here). A journal writer turns SQLite's handler
off (``PRAGMA busy_timeout = 0``) for its ``BEGIN IMMEDIATE`` and waits here instead: it tries
again after :data:`FIRST_PAUSE`, each pause twice the last up to :data:`LONGEST_PAUSE`, and gives
up only once the whole timeout has passed, with SQLite's own ``SQLITE_BUSY`` error (which the
journal raises as ``JournalBusy``). It always sleeps between tries: a waiter never spins a core.

Why not try sooner still: measured with 4 processes on 2 cores (``python -m bench journal``),
waiters that came back every 50 µs lost a third of the throughput. Each miss wakes a process, fails
a ``BEGIN`` and raises an exception, CPU taken from the writer that holds the lock; and each time
the lock passes to another process, that connection finds the file changed and drops its page
cache. Letting the writer that just committed go on while the others sleep a little longer is
cheaper overall; capping the sleep keeps a waiter from sleeping through a free lock for long.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

__all__ = ["FIRST_PAUSE", "LONGEST_PAUSE", "begin_immediate", "is_busy"]

#: The first wait: a few durable commits of others, half SQLite's first step.
FIRST_PAUSE = 0.5e-3
#: The longest wait between two tries (SQLite grows to 100 ms): a waiter behind a long
#: transaction still comes back soon after it ends.
LONGEST_PAUSE = 4e-3

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
