"""How a journal writer waits for SQLite's write lock: in short steps that grow, never spinning,
never giving up before ``busy_timeout``, then a typed ``JournalBusy``; this process's writers
queue behind one another; reads keep SQLite's own busy handler. No timing is asserted: the
waits are read from an injected clock, or the outcome (waited, then written) is checked."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from jamsostek_channels.journal import EntryState, Journal, JournalBusy
from jamsostek_channels.journal.writelock import (
    FIRST_PAUSE,
    LONGEST_PAUSE,
    begin_immediate,
    is_busy,
)

SRC = str(Path(__file__).resolve().parents[1] / "src")
PROCESS_TIMEOUT = 20.0
#: SQLite's busy handler sleeps 1 ms before its first retry.
SQLITE_FIRST_SLEEP = 0.001


class Waits:
    """A clock that moves only when the waiter pauses: records each pause, and can let the
    lock go at the pause numbered ``release_at`` (1 = the first)."""

    def __init__(self, holder: sqlite3.Connection, release_at: int | None = None) -> None:
        self.now = 0.0
        self.pauses: list[float] = []
        self._holder = holder
        self._release_at = release_at

    def clock(self) -> float:
        return self.now

    def pause(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds
        if len(self.pauses) == self._release_at:
            self._holder.execute("COMMIT")


@pytest.fixture
def locked(tmp_path: Path) -> Iterator[tuple[Path, sqlite3.Connection]]:
    """A WAL file whose write lock another connection holds (BEGIN IMMEDIATE, not committed)."""
    path = tmp_path / "locked.sqlite"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode = WAL")
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO t VALUES (1)")
    yield path, holder
    if holder.in_transaction:
        holder.execute("ROLLBACK")
    holder.close()


def waiter(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, timeout=0)
    connection.execute("PRAGMA busy_timeout = 0")
    return connection


def test_a_writer_retries_in_short_growing_steps_until_the_lock_is_free(
    locked: tuple[Path, sqlite3.Connection],
) -> None:
    path, holder = locked
    waits = Waits(holder, release_at=6)
    connection = waiter(path)
    begin_immediate(connection, 30.0, clock=waits.clock, pause=waits.pause)
    assert connection.in_transaction  # it has the lock now
    assert connection.execute("SELECT x FROM t").fetchall() == [(1,)]  # after the holder's commit
    connection.execute("ROLLBACK")
    connection.close()
    assert len(waits.pauses) == 6
    # It tries again sooner than SQLite's handler would (1 ms, then 2, 5, 10 ...) ...
    assert waits.pauses[0] == FIRST_PAUSE < SQLITE_FIRST_SLEEP
    assert waits.pauses == sorted(waits.pauses)  # ... backing off ...
    assert all(0 < pause <= LONGEST_PAUSE for pause in waits.pauses)  # ... never spinning


def test_a_writer_gives_up_only_after_the_whole_timeout_with_sqlites_busy_error(
    locked: tuple[Path, sqlite3.Connection],
) -> None:
    path, holder = locked
    waits = Waits(holder)  # the lock is never let go
    connection = waiter(path)
    with pytest.raises(sqlite3.OperationalError) as caught:
        begin_immediate(connection, 0.05, clock=waits.clock, pause=waits.pause)
    connection.close()
    assert is_busy(caught.value)
    assert waits.now == pytest.approx(0.05)  # the whole timeout waited, not a step less
    assert len(waits.pauses) >= 0.05 / LONGEST_PAUSE  # trying at least every longest step
    assert all(0 < pause <= LONGEST_PAUSE for pause in waits.pauses)


def test_an_error_other_than_busy_is_raised_at_once(tmp_path: Path) -> None:
    connection = sqlite3.connect(tmp_path / "t.sqlite", isolation_level=None)
    connection.execute("BEGIN")  # already in a transaction: not a lock to wait for

    def no_pause(seconds: float) -> None:
        raise AssertionError("waited for an error that is not a lock")

    with pytest.raises(sqlite3.OperationalError) as caught:
        begin_immediate(connection, 30.0, pause=no_pause)
    assert not is_busy(caught.value)
    connection.close()


# Between processes and threads, through the journal ------------------------------------------

HOLDER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
db.execute("INSERT INTO sequences (name, value) VALUES ('holder', 1)")
print("locked", flush=True)
if sys.argv[2] == "until-told":
    sys.stdin.readline()
else:
    time.sleep(float(sys.argv[2]))  # far past SQLite's first 1 ms step
db.execute("COMMIT")
print("released", flush=True)
"""


@pytest.fixture
def holder_process(tmp_path: Path) -> Iterator[tuple[Path, list[subprocess.Popen[str]]]]:
    path = tmp_path / "j.sqlite"
    Journal(path).close()
    started: list[subprocess.Popen[str]] = []
    yield path, started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=PROCESS_TIMEOUT)


def hold(path: Path, started: list[subprocess.Popen[str]], how: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(HOLDER), str(path), how],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    started.append(process)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "locked", process.communicate()[1]
    return process


def test_a_journal_waits_for_another_process_and_writes_after_it(
    holder_process: tuple[Path, list[subprocess.Popen[str]]],
) -> None:
    path, started = holder_process
    with Journal(path, busy_timeout=PROCESS_TIMEOUT) as journal:
        holder = hold(path, started, "0.3")
        entry, created = journal.begin("bank", "pay", "R1", {"amount": 36800})
        assert created
        # The holder committed first: its counter is there, and ours follows it.
        assert journal.reserve("holder", 1) == 2
        moved = journal.transition(entry.id, EntryState.APPLIED, {"receipt": "K-1"})
        assert moved.state is EntryState.APPLIED
    out, err = holder.communicate(timeout=PROCESS_TIMEOUT)
    assert holder.returncode == 0, err
    assert out.strip() == "released"


def test_a_journal_held_by_another_process_past_its_busy_timeout_raises_journal_busy(
    holder_process: tuple[Path, list[subprocess.Popen[str]]],
) -> None:
    path, started = holder_process
    with Journal(path, busy_timeout=0.2) as journal:
        holder = hold(path, started, "until-told")
        with pytest.raises(JournalBusy) as caught:
            journal.begin("bank", "pay", "R1", {"amount": 36800})
        assert caught.value.code == "journal.busy"
        assert "SQLITE_BUSY" in caught.value.message_en
        assert holder.stdin is not None
        holder.stdin.write("go\n")
        holder.stdin.flush()
        _, err = holder.communicate(timeout=PROCESS_TIMEOUT)
        assert holder.returncode == 0, err
        assert journal.begin("bank", "pay", "R1", {"amount": 36800})[1]  # free again: created
        assert journal.reserve("holder", 1) == 2


def test_reads_keep_sqlites_busy_handler_between_writes(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite", busy_timeout=7.5) as journal:
        connection = journal._connection()
        journal.begin("bank", "pay", "R1", {"amount": 1})
        # The writer waits for the write lock itself (SQLite's handler off) ...
        assert connection.execute("PRAGMA busy_timeout").fetchone()[0] == 0
        assert journal.get("bank", "pay", "R1") is not None
        # ... and a reader waits out another's recovery or checkpoint as SQLite knows how.
        assert connection.execute("PRAGMA busy_timeout").fetchone()[0] == 7500


def test_threads_of_one_journal_queue_for_the_write_lock(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    errors: list[BaseException] = []
    with Journal(path, busy_timeout=PROCESS_TIMEOUT) as journal:
        barrier = threading.Barrier(8)

        def pay(thread: int) -> None:
            try:
                owner = journal.owner_id(f"t{thread}")
                barrier.wait()
                for n in range(25):
                    entry, _ = journal.begin("bank", "pay", f"T{thread}-{n}", {"n": n})
                    journal.transition(entry.id, EntryState.APPLIED, owner=owner)
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=pay, args=(t,)) for t in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(PROCESS_TIMEOUT)
        assert not errors
        entries = journal.entries()
        assert len(entries) == 200
        assert {e.state for e in entries} == {EntryState.APPLIED}
        assert all(len(journal.history(e.id)) == 2 for e in entries)


def test_a_thread_kept_from_the_write_lock_past_the_busy_timeout_raises_journal_busy(
    tmp_path: Path,
) -> None:
    with Journal(tmp_path / "j.sqlite", busy_timeout=0.1) as journal:
        holding, done = threading.Event(), threading.Event()

        def hold() -> None:
            with journal._write():  # another thread of this process, mid-write
                holding.set()
                done.wait(PROCESS_TIMEOUT)

        thread = threading.Thread(target=hold)
        thread.start()
        try:
            assert holding.wait(PROCESS_TIMEOUT)
            with pytest.raises(JournalBusy) as caught:
                journal.begin("bank", "pay", "R1", {"amount": 1})
            assert caught.value.code == "journal.busy"
        finally:
            done.set()
            thread.join(PROCESS_TIMEOUT)
        assert journal.begin("bank", "pay", "R1", {"amount": 1})[1]  # free again
