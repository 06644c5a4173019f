"""The journal: schema, entries, outbox, sequences, threads, processes and hard kills."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.errors import InvalidInput, JamsostekError, ReferenceConflict
from jamsostek_channels.journal import (
    SCHEMA_VERSION,
    TRANSITIONS,
    Entry,
    EntryState,
    Journal,
    JournalBusy,
    JournalCorrupt,
    JournalError,
    JournalReadOnly,
    JournalUnavailable,
    Move,
    OutboxState,
    PaymentFacts,
    StaleEntry,
    Transition,
)
from jamsostek_channels.journal import sqlite as sqlite_journal

SRC = str(Path(__file__).resolve().parents[1] / "src")
T0 = dt.datetime(2026, 11, 22, 9, 30, tzinfo=JAKARTA)
PROCESS_TIMEOUT = 20.0
THREAD_TIMEOUT = 20.0


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: dt.datetime = T0) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["memory", "file"])
def journal(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> Iterator[Journal]:
    path = ":memory:" if request.param == "memory" else tmp_path / "journal.sqlite"
    with Journal(path, clock=clock) as j:
        yield j


def raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


# Schema ---------------------------------------------------------------------------------------


def test_new_file_is_versioned_wal_and_synchronous_full(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path) as j:
        j.reserve("main", 1)
        # A second thread gets its own connection; it must be configured the same way.
        worker = threading.Thread(target=j.reserve, args=("worker", 1))
        worker.start()
        worker.join(THREAD_TIMEOUT)
        assert not worker.is_alive()
        connections = list(j._connections)
        assert len(connections) >= 2
        for connection in connections:
            assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
            assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert connection.execute("PRAGMA synchronous").fetchone()[0] == 2
    db = raw(path)
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # persistent
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"entries", "outbox", "sequences"} <= tables
    finally:
        db.close()


def test_memory_journal_is_versioned_and_synchronous_full() -> None:
    with Journal() as j:
        (connection,) = j._connections
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert connection.execute("PRAGMA synchronous").fetchone()[0] == 2


def test_reopening_keeps_the_data(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path, clock=clock) as j:
        entry, _ = j.begin("bank", "pay", "R1", {"amount": 36800})
        j.transition(entry.id, EntryState.APPLIED, {"receipt": "K-1"})
        j.enqueue("bank", "reversal", "R1", {"reference": "R1"}, expires_at=T0 + dt.timedelta(1))
        assert [j.reserve("x", 1) for _ in range(3)] == [1, 2, 3]
    with Journal(path, clock=clock) as j:
        again = j.get("bank", "pay", "R1")
        assert again is not None
        assert again.id == entry.id
        assert again.state is EntryState.APPLIED
        assert again.outcome == {"receipt": "K-1"}
        item = j.outbox_item("bank", "reversal", "R1")
        assert item is not None
        assert item.state is OutboxState.PENDING
        assert j.reserve("x", 1) == 4
        assert j.begin("bank", "pay", "R1", {"amount": 36800}) == (again, False)
    db = raw(path)
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        db.close()


def test_newer_schema_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path) as j:
        j.reserve("x", 1)
    db = raw(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(JournalError) as caught:
        Journal(path)
    assert caught.value.code == "message.malformed"
    assert str(SCHEMA_VERSION + 1) in caught.value.message_en
    db = raw(path)
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
        assert db.execute("SELECT value FROM sequences").fetchall() == [(1,)]
    finally:
        db.close()


def test_a_file_that_is_not_sqlite_gives_a_journal_error(tmp_path: Path) -> None:
    path = tmp_path / "not-a-journal.sqlite"
    junk = random.Random(20261122).randbytes(8192)
    assert not junk.startswith(b"SQLite format 3\0")
    path.write_bytes(junk)
    with pytest.raises(JournalCorrupt) as caught:
        Journal(path)
    assert caught.value.code == "journal.corrupt"
    assert isinstance(caught.value, JamsostekError)
    assert path.read_bytes() == junk  # nothing was written over it


def test_an_unopenable_path_is_not_called_corrupt(tmp_path: Path) -> None:
    # A missing directory is an operating problem, not a "not a journal" file: typed, bilingual.
    with pytest.raises(JournalUnavailable) as caught:
        Journal(tmp_path / "missing" / "j.sqlite")
    assert caught.value.code == "journal.cannot_open"
    assert caught.value.message_id != caught.value.message_en


# Entries --------------------------------------------------------------------------------------


def test_begin_creates_a_pending_entry(journal: Journal) -> None:
    entry, created = journal.begin("bank", "pay", "R1", {"amount": 36800, "months": 1})
    assert created is True
    assert entry.state is EntryState.PENDING
    assert (entry.channel, entry.operation, entry.reference) == ("bank", "pay", "R1")
    assert entry.request == {"amount": 36800, "months": 1}
    assert entry.outcome is None
    assert entry.attempts == 0
    assert entry.created_at == entry.updated_at == T0


def test_begin_again_with_the_same_request_finds_the_entry(journal: Journal) -> None:
    first, _ = journal.begin("bank", "pay", "R1", {"amount": 36800, "months": 1})
    # The same request with its keys in another order is the same request.
    again, created = journal.begin("bank", "pay", "R1", {"months": 1, "amount": 36800})
    assert created is False
    assert again.id == first.id
    assert again == first
    assert len(journal.entries()) == 1


def test_the_same_reference_elsewhere_is_another_entry(journal: Journal) -> None:
    a, _ = journal.begin("bank", "pay", "R1", {"amount": 1})
    b, created_b = journal.begin("bank", "inquiry", "R1", {"amount": 2})
    c, created_c = journal.begin("wallet", "pay", "R1", {"amount": 3})
    assert created_b
    assert created_c
    assert len({a.id, b.id, c.id}) == 3


def test_begin_with_a_different_request_is_a_conflict(journal: Journal) -> None:
    secret = "3201015508950001"
    first, _ = journal.begin("bank", "pay", "R1", {"nik": secret, "amount": 36800})
    with pytest.raises(InvalidInput) as caught:
        journal.begin("bank", "pay", "R1", {"nik": secret, "amount": 99999})
    error = caught.value
    assert [(p.field, p.code) for p in error.problems] == [("reference", "journal.conflict")]
    text = " ".join(
        [str(error), json.dumps(error.as_dict(), ensure_ascii=False)]
        + [p.message_en + p.message_id for p in error.problems]
    )
    for leaked in (secret, "36800", "99999", "nik"):
        assert leaked not in text
    assert "R1" in error.problems[0].message_en
    # The stored entry is untouched.
    assert journal.get("bank", "pay", "R1") == first


def test_conflict_message_cuts_a_long_reference(journal: Journal) -> None:
    reference = "A" * 64 + "TAIL"
    journal.begin("bank", "pay", reference, {"amount": 1})
    with pytest.raises(InvalidInput) as caught:
        journal.begin("bank", "pay", reference, {"amount": 2})
    assert "TAIL" not in caught.value.problems[0].message_en


def test_attempt_sends_a_held_or_not_applied_entry_again(
    journal: Journal, clock: FakeClock
) -> None:
    entry, _ = journal.begin("bank", "pay", "R1", {"amount": 1}, state=EntryState.HELD)
    assert (entry.state, entry.attempts, entry.sent_at) == (EntryState.HELD, 0, None)
    clock.advance(seconds=5)
    first = journal.attempt(entry.id, lease=("me", clock() + dt.timedelta(minutes=2)))
    assert first.attempts == 1
    assert first.state is EntryState.PENDING
    assert first.created_at == T0
    assert first.sent_at == first.updated_at == T0 + dt.timedelta(seconds=5)
    assert first.lease_owner == "me"
    journal.transition(entry.id, EntryState.NOT_APPLIED, {"stan": "000123"})
    clock.advance(seconds=5)
    second = journal.attempt(entry.id, lease=("me", clock() + dt.timedelta(minutes=2)))
    assert second.attempts == 2
    assert second.state is EntryState.PENDING
    assert second.sent_at == T0 + dt.timedelta(seconds=10)
    assert second.outcome == {"stan": "000123"}  # an attempt does not erase what was learnt
    with pytest.raises(StaleEntry) as lost:  # already PENDING: someone else sent it
        journal.attempt(entry.id, lease=("other", clock() + dt.timedelta(minutes=2)))
    assert lost.value.current == second


@pytest.mark.parametrize("state", sorted(TRANSITIONS[EntryState.PENDING]))
def test_transition_records_each_state_and_outcome(
    journal: Journal, clock: FakeClock, state: EntryState
) -> None:
    entry, _ = journal.begin("bank", "pay", "R1", {"amount": 1})
    clock.advance(minutes=1)
    outcome = {"state": state.value, "receipt": "K-1"}
    done = journal.transition(entry.id, state, outcome, actor="tester", why="because")
    assert done.state is state
    assert done.outcome == outcome
    assert done.attempts == 0
    assert done.updated_at == T0 + dt.timedelta(minutes=1)
    assert journal.get("bank", "pay", "R1") == done
    assert journal.history(entry.id)[-1] == Transition(
        entry.id, T0 + dt.timedelta(minutes=1), "tester", EntryState.PENDING, state, "because"
    )


def test_transition_without_outcome_keeps_the_previous_one(journal: Journal) -> None:
    entry, _ = journal.begin("bank", "pay", "R1", {"amount": 1})
    assert journal.transition(entry.id, EntryState.UNKNOWN, {"stan": "1"}).outcome == {"stan": "1"}
    assert journal.transition(entry.id, EntryState.APPLIED).outcome == {"stan": "1"}


def test_a_payers_look_ups_cost_the_same_in_a_journal_a_hundred_times_bigger(
    tmp_path: Path, clock: FakeClock
) -> None:
    """``get`` and ``outbox_item`` with the scope (every payment's look-up before it is
    journaled) probe the whole unique key; they once scanned every entry of the channel. The
    work is counted in SQLite's virtual-machine steps, never in seconds."""
    with Journal(tmp_path / "journal.sqlite", clock=clock) as journal:
        rows = [(f"R{index}", {"amount": index}, None) for index in range(10_000)]
        journal.begin_many("bank", "pay", rows[:100], state=EntryState.PENDING)
        steps = {"count": 0}

        def count() -> int:
            steps["count"] += 1
            return 0

        def steps_of(look_up: Callable[[], object]) -> int:
            connection = journal._connection()
            steps["count"] = 0
            connection.set_progress_handler(count, 1)
            try:
                look_up()
            finally:
                connection.set_progress_handler(None, 1)
            return steps["count"]

        def look_ups() -> int:
            return steps_of(lambda: journal.get("bank", "pay", "R7", scope="")) + steps_of(
                lambda: journal.outbox_item("bank", "reversal", "R7", scope="")
            )

        small = look_ups()
        journal.begin_many("bank", "pay", rows[100:], state=EntryState.PENDING)
        assert journal.get("bank", "pay", "R9999", scope="") is not None
        assert small > 0
        assert look_ups() <= small + 10


def test_unknown_entry_ids_raise_key_error(journal: Journal) -> None:
    with pytest.raises(KeyError):
        journal.transition(404, EntryState.APPLIED)
    with pytest.raises(KeyError):
        journal.attempt(404, lease=("me", T0))
    with pytest.raises(KeyError):
        journal.take_lease(404, "me", T0)


def test_get_missing_is_none(journal: Journal) -> None:
    journal.begin("bank", "pay", "R1", {"amount": 1})
    assert journal.get("bank", "pay", "R2") is None
    assert journal.get("bank", "reverse", "R1") is None
    assert journal.get("wallet", "pay", "R1") is None


def test_unresolved_is_pending_and_unknown_only(journal: Journal) -> None:
    ids = {}
    for channel in ("bank", "wallet"):
        for state in EntryState:
            begun = EntryState.HELD if state is EntryState.HELD else EntryState.PENDING
            entry, _ = journal.begin(
                channel, "pay", f"{channel}-{state}", {"s": str(state)}, state=begun
            )
            if state is not begun:
                journal.transition(entry.id, state)
            ids[channel, state] = entry.id
    open_states = (EntryState.PENDING, EntryState.UNKNOWN)
    assert [e.id for e in journal.unresolved()] == sorted(
        ids[c, s] for c in ("bank", "wallet") for s in open_states
    )
    bank = journal.unresolved("bank")
    assert [e.id for e in bank] == [ids["bank", s] for s in open_states]
    assert {e.channel for e in bank} == {"bank"}
    assert journal.unresolved("nobody") == []


def test_entries_filters_by_channel_operation_and_time(journal: Journal, clock: FakeClock) -> None:
    made = []
    for hour in range(4):
        clock.now = T0 + dt.timedelta(hours=hour)
        made.append(journal.begin("bank", "pay", f"P{hour}", {"h": hour})[0])
        made.append(journal.begin("wallet", "inquiry", f"I{hour}", {"h": hour})[0])
    assert journal.entries() == made
    assert [e.reference for e in journal.entries("bank")] == ["P0", "P1", "P2", "P3"]
    assert [e.reference for e in journal.entries(operation="inquiry")] == ["I0", "I1", "I2", "I3"]
    assert journal.entries("bank", "inquiry") == []
    one, three = T0 + dt.timedelta(hours=1), T0 + dt.timedelta(hours=3)
    # [since, until): since is included, until is not.
    assert [e.reference for e in journal.entries("bank", since=one, until=three)] == ["P1", "P2"]
    assert [e.reference for e in journal.entries("bank", since=three)] == ["P3"]
    assert [e.reference for e in journal.entries("bank", until=one)] == ["P0"]
    # Another time zone names the same instants.
    utc_one = one.astimezone(dt.UTC)
    assert [e.reference for e in journal.entries("bank", until=utc_one)] == ["P0"]
    assert journal.entries(since=T0 + dt.timedelta(days=1)) == []


def test_entry_state_final() -> None:
    assert {s for s in EntryState if not s.final} == {
        EntryState.HELD,
        EntryState.PENDING,
        EntryState.UNKNOWN,
        EntryState.SUBMITTED,
    }
    for state in (
        EntryState.APPLIED,
        EntryState.DECLINED,
        EntryState.NOT_APPLIED,
        EntryState.REVERSED,
    ):
        assert state.final


# Outbox ---------------------------------------------------------------------------------------


def test_enqueue_is_idempotent(journal: Journal) -> None:
    expires = T0 + dt.timedelta(hours=1)
    item = journal.enqueue("bank", "reversal", "R1", {"reference": "R1"}, expires_at=expires)
    assert item.state is OutboxState.PENDING
    assert item.attempts == 0
    assert item.repeat is False
    assert item.next_attempt_at == T0
    assert item.expires_at == expires
    assert item.last_error is None
    again = journal.enqueue(
        "bank", "reversal", "R1", {"reference": "other"}, expires_at=expires + dt.timedelta(1)
    )
    assert again == item  # the stored item, not a new one
    other = journal.enqueue("bank", "advice", "R1", {"reference": "R1"}, expires_at=expires)
    assert other.id != item.id
    assert [i.id for i in journal.outbox()] == [item.id, other.id]
    assert journal.outbox_item("bank", "reversal", "R1") == item
    assert journal.outbox_item("bank", "reversal", "R2") is None


def test_due_respects_the_schedule(journal: Journal, clock: FakeClock) -> None:
    expires = T0 + dt.timedelta(hours=1)
    item = journal.enqueue("bank", "reversal", "R1", {"r": 1}, expires_at=expires)
    assert [i.id for i in journal.due()] == [item.id]  # due at once
    later = T0 + dt.timedelta(minutes=5)
    retried = journal.retry_later(item.id, later, "timeout")
    assert retried.next_attempt_at == later
    assert journal.due() == []
    clock.advance(minutes=4, seconds=59)
    assert journal.due() == []
    assert [i.id for i in journal.due(ignore_schedule=True)] == [item.id]
    assert [i.id for i in journal.due(now=later)] == [item.id]  # an explicit now wins
    clock.now = later
    assert [i.id for i in journal.due()] == [item.id]


def test_due_filters_by_channel(journal: Journal) -> None:
    expires = T0 + dt.timedelta(hours=1)
    a = journal.enqueue("bank", "reversal", "R1", {}, expires_at=expires)
    b = journal.enqueue("wallet", "reversal", "R1", {}, expires_at=expires)
    assert [i.id for i in journal.due("bank")] == [a.id]
    assert [i.id for i in journal.due("wallet", ignore_schedule=True)] == [b.id]
    assert [i.id for i in journal.outbox("wallet")] == [b.id]


def test_expired_items_are_marked_and_never_due(journal: Journal, clock: FakeClock) -> None:
    expires = T0 + dt.timedelta(hours=1)
    short = journal.enqueue("bank", "reversal", "R1", {}, expires_at=expires)
    long = journal.enqueue("bank", "reversal", "R2", {}, expires_at=expires + dt.timedelta(1))
    done = journal.enqueue("bank", "reversal", "R3", {}, expires_at=expires)
    journal.delivered(done.id, OutboxState.ACCEPTED)
    clock.advance(minutes=59)
    assert [i.id for i in journal.due()] == [short.id, long.id]
    clock.now = expires  # expiry is inclusive
    assert [i.id for i in journal.due(ignore_schedule=True)] == [long.id]
    assert [i.id for i in journal.due()] == [long.id]
    expired = journal.outbox_item("bank", "reversal", "R1")
    assert expired is not None
    assert expired.state is OutboxState.EXPIRED
    finished = journal.outbox_item("bank", "reversal", "R3")
    assert finished is not None
    assert finished.state is OutboxState.ACCEPTED  # a delivered item never expires


def test_due_compares_instants_not_strings(journal: Journal, clock: FakeClock) -> None:
    # expires_at at 17:00 WIB written in UTC (10:00+00:00); the clock says 12:00 WIB. As
    # strings "…T10:00:00+00:00" <= "…T12:00:00+07:00", but the item has 5 hours to live.
    clock.now = dt.datetime(2026, 11, 22, 12, 0, tzinfo=JAKARTA)
    expires = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)
    item = journal.enqueue("bank", "reversal", "R1", {}, expires_at=expires)
    assert [i.id for i in journal.due()] == [item.id]
    # A retry scheduled in UTC for 13:00 WIB (06:00Z) is not due at 12:00 WIB.
    journal.retry_later(item.id, dt.datetime(2026, 11, 22, 6, 0, tzinfo=dt.UTC), "timeout")
    assert journal.due() == []
    assert [i.id for i in journal.due(now=dt.datetime(2026, 11, 22, 6, 0, tzinfo=dt.UTC))] == [
        item.id
    ]
    clock.now = dt.datetime(2026, 11, 22, 17, 0, tzinfo=JAKARTA)
    assert journal.due(ignore_schedule=True) == []
    expired = journal.outbox_item("bank", "reversal", "R1")
    assert expired is not None
    assert expired.state is OutboxState.EXPIRED


def test_claims_count_attempts_and_mark_repeats(journal: Journal) -> None:
    item = journal.enqueue("bank", "reversal", "R1", {}, expires_at=T0 + dt.timedelta(1))
    until = T0 + dt.timedelta(minutes=2)
    first = journal.claim(item.id, "me", until)
    assert first is not None
    assert (first.attempts, first.repeat, first.lease_owner) == (1, False, "me")
    assert journal.claim(item.id, "other", until) is None  # one deliverer at a time
    later = journal.retry_later(item.id, T0 + dt.timedelta(minutes=1), "x" * 500)
    assert later.attempts == 1
    assert later.state is OutboxState.PENDING
    assert later.lease_owner is None
    assert later.last_error == "x" * 200  # cut, never unbounded
    second = journal.claim(item.id, "other", until)
    assert second is not None
    assert (second.attempts, second.repeat) == (2, True)


def test_a_claim_left_by_a_crash_still_marks_the_next_attempt_a_repeat(
    journal: Journal, clock: FakeClock
) -> None:
    item = journal.enqueue("bank", "reversal", "R1", {}, expires_at=T0 + dt.timedelta(1))
    assert journal.claim(item.id, "dead", T0 + dt.timedelta(minutes=2)) is not None
    # The claimer died mid-send (no answer recorded); its claim expires.
    clock.advance(minutes=3)
    again = journal.claim(item.id, "recoverer", clock() + dt.timedelta(minutes=2))
    assert again is not None
    assert again.repeat is True  # the host may have seen the first one


@pytest.mark.parametrize(
    ("state", "error"), [(OutboxState.ACCEPTED, None), (OutboxState.REJECTED, "12")]
)
def test_delivered_is_final(journal: Journal, state: OutboxState, error: str | None) -> None:
    item = journal.enqueue("bank", "reversal", "R1", {}, expires_at=T0 + dt.timedelta(1))
    journal.claim(item.id, "me", T0 + dt.timedelta(minutes=1))
    journal.retry_later(item.id, T0, "timeout")
    journal.claim(item.id, "me", T0 + dt.timedelta(minutes=1))
    done = journal.delivered(item.id, state, error)
    assert done.state is state
    assert done.attempts == 2
    assert done.last_error == error
    assert done.repeat is True
    assert journal.due(ignore_schedule=True) == []
    assert journal.outbox_item("bank", "reversal", "R1") == done


# Sequences ------------------------------------------------------------------------------------


def test_sequences_count_per_name(journal: Journal) -> None:
    assert [journal.reserve("a", 1) for _ in range(3)] == [1, 2, 3]
    assert journal.reserve("b", 1) == 1
    assert journal.reserve("a", 1) == 4
    assert [journal.reserve("b", 1) for _ in range(2)] == [2, 3]


# JSON -----------------------------------------------------------------------------------------

NESTED: dict[str, Any] = {
    "name": "Siti Rahayu — Pasar Cibinong ✓",
    "address": {"street": "Jl. Merdeka № 10", "city": "Bogor", "tags": ["pasar", "日本", "😀"]},
    "months": [1, 2, 3],
    "amount": 36800,
    "rate": 0.24,
    "flags": {"nested": {"deeper": [None, True, False, {"x": "é"}]}},
    "empty": {},
}


def test_json_round_trips_non_ascii_and_nested(journal: Journal) -> None:
    entry, _ = journal.begin("bank", "pay", "R-ü", NESTED)
    assert entry.request == NESTED
    outcome = {"pesan": "Pembayaran berhasil — terima kasih", "rincian": [{"bulan": "Mei"}]}
    assert journal.transition(entry.id, EntryState.APPLIED, outcome).outcome == outcome
    fetched = journal.get("bank", "pay", "R-ü")
    assert fetched is not None
    assert fetched.request == NESTED
    assert fetched.outcome == outcome
    reordered = dict(reversed(list(NESTED.items())))
    assert journal.begin("bank", "pay", "R-ü", reordered) == (fetched, False)
    item = journal.enqueue("bank", "advice", "R-ü", NESTED, expires_at=T0 + dt.timedelta(1))
    assert item.payload == NESTED
    assert journal.outbox()[0].payload == NESTED


def test_json_is_stored_as_readable_utf8(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path) as j:
        j.begin("bank", "pay", "R1", NESTED)
    db = raw(path)
    try:
        (text,) = db.execute("SELECT request FROM entries").fetchone()
    finally:
        db.close()
    assert "日本" in text
    assert "\\u" not in text
    assert json.loads(text) == NESTED


# Threads --------------------------------------------------------------------------------------


def run_threads(count: int, work: Callable[[], Any]) -> list[Any]:
    """Run ``work`` in ``count`` threads released together; every result, or the first error."""
    barrier = threading.Barrier(count, timeout=THREAD_TIMEOUT)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def body(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=body, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(THREAD_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a thread did not finish"
    if errors:
        raise errors[0]
    return results


def test_threads_share_sequences(journal: Journal) -> None:
    results = run_threads(8, lambda: [journal.reserve("ext", 1) for _ in range(50)])
    values = [v for chunk in results for v in chunk]
    assert sorted(values) == list(range(1, 401))
    for chunk in results:
        assert chunk == sorted(chunk)  # each thread sees its own values increase
    assert journal.reserve("ext", 1) == 401


def test_threads_racing_begin_create_once(journal: Journal) -> None:
    results = run_threads(8, lambda: journal.begin("bank", "pay", "R1", {"amount": 36800}))
    assert sum(created for _, created in results) == 1
    assert len({entry.id for entry, _ in results}) == 1
    assert len(journal.entries()) == 1


# Processes ------------------------------------------------------------------------------------

CHILD_PRELUDE = """
import os, signal, sys
sys.path.insert(0, {src!r})
from jamsostek_channels.journal import EntryState, Journal
"""


def child(code: str, *args: str) -> subprocess.Popen[str]:
    script = CHILD_PRELUDE.format(src=SRC) + textwrap.dedent(code)
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    """Children started by a test; any still running at the end are killed and reaped."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=PROCESS_TIMEOUT)


def race(started: list[subprocess.Popen[str]], code: str, args: list[list[str]]) -> list[str]:
    """Start one child per argument list; each opens the journal, prints "ready" and waits for a
    line on stdin, so that they all begin together. Returns each child's output."""
    for argv in args:
        started.append(child(code, *argv))
    for process in started:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready", process.communicate()[1]
    outputs = []
    for process in started:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    for process in started:
        out, err = process.communicate(timeout=PROCESS_TIMEOUT)
        assert process.returncode == 0, err
        outputs.append(out)
    return outputs


SEQUENCE_CHILD = """
journal = Journal(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
print(" ".join(str(journal.reserve("ext", 1)) for _ in range(int(sys.argv[2]))))
journal.close()
"""


def test_processes_share_sequences(tmp_path: Path, processes: list[subprocess.Popen[str]]) -> None:
    path = tmp_path / "j.sqlite"
    Journal(path).close()
    outputs = race(processes, SEQUENCE_CHILD, [[str(path), "100"]] * 4)
    values = [int(v) for out in outputs for v in out.split()]
    assert sorted(values) == list(range(1, 401))
    with Journal(path) as j:
        assert j.reserve("ext", 1) == 401


BEGIN_CHILD = """
journal = Journal(sys.argv[1])
references = [f"R{i}" for i in range(40)]
if sys.argv[2] == "reversed":
    references.reverse()
print("ready", flush=True)
sys.stdin.readline()
for reference in references:
    entry, created = journal.begin("bank", "pay", reference, {"reference": reference})
    if created:
        print(reference, entry.id)
journal.close()
"""


def test_processes_racing_begin_create_each_reference_once(
    tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    path = tmp_path / "j.sqlite"
    Journal(path).close()
    orders = [[str(path), order] for order in ("forward", "reversed", "forward", "reversed")]
    outputs = race(processes, BEGIN_CHILD, orders)
    created = [line.split() for out in outputs for line in out.splitlines()]
    counts = Counter(reference for reference, _ in created)
    assert set(counts) == {f"R{i}" for i in range(40)}
    assert set(counts.values()) == {1}
    with Journal(path) as j:
        stored = {e.reference: e.id for e in j.entries()}
    assert stored == {reference: int(entry_id) for reference, entry_id in created}


# Durability after SIGKILL -----------------------------------------------------------------------

needs_sigkill = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

KILLED_AFTER_COMMIT = """
journal = Journal(sys.argv[1])
entry, _ = journal.begin("bank", "pay", "R1", {"amount": 36800, "nama": "Siti"})
journal.transition(entry.id, EntryState.APPLIED, {"receipt": "K-1"})
value = journal.reserve("ext", 1)
print("done", entry.id, value, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
print("still alive", flush=True)
"""


@needs_sigkill
def test_committed_writes_survive_sigkill(
    tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    path = tmp_path / "j.sqlite"
    process = child(KILLED_AFTER_COMMIT, str(path))
    processes.append(process)
    out, err = process.communicate(timeout=PROCESS_TIMEOUT)
    assert process.returncode == -signal.SIGKILL, err
    word, entry_id, value = out.split()
    assert word == "done"
    with Journal(path) as j:
        entry = j.get("bank", "pay", "R1")
        assert entry is not None
        assert entry.id == int(entry_id)
        assert entry.state is EntryState.APPLIED
        assert entry.outcome == {"receipt": "K-1"}
        assert entry.request == {"amount": 36800, "nama": "Siti"}
        assert j.reserve("ext", 1) == int(value) + 1
        (check,) = j._connections[0].execute("PRAGMA integrity_check").fetchone()
        assert check == "ok"


KILLED_MID_LOOP = """
journal = Journal(sys.argv[1])
for _ in range(100_000):
    value = journal.reserve("ext", 1)
    entry, _ = journal.begin("bank", "pay", f"R{value}", {"value": value})
    journal.transition(entry.id, EntryState.APPLIED, {"value": value})
    print(value, flush=True)
"""


@needs_sigkill
def test_sigkill_in_a_write_loop_leaves_a_consistent_journal(
    tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    path = tmp_path / "j.sqlite"
    process = child(KILLED_MID_LOOP, str(path))
    processes.append(process)
    watchdog = threading.Timer(PROCESS_TIMEOUT, process.kill)  # readline never hangs for long
    watchdog.start()
    try:
        assert process.stdout is not None
        last = 0
        while last < 60:
            line = process.stdout.readline()
            if not line:
                break
            last = int(line)
        os.kill(process.pid, signal.SIGKILL)
        process.communicate(timeout=PROCESS_TIMEOUT)
    finally:
        watchdog.cancel()
    assert process.returncode == -signal.SIGKILL
    assert last >= 60, "the child stopped writing before it was killed"
    with Journal(path) as j:
        (check,) = j._connections[0].execute("PRAGMA integrity_check").fetchone()
        assert check == "ok"
        entries = {e.reference: e for e in j.entries()}
        for value in range(1, last + 1):
            entry = entries[f"R{value}"]
            assert entry.state is EntryState.APPLIED
            assert entry.request == entry.outcome == {"value": value}
        # At most the one write in flight when the kill came went past the last report.
        extra = set(entries) - {f"R{v}" for v in range(1, last + 1)}
        assert extra <= {f"R{last + 1}"}
        assert [e.reference for e in j.unresolved()] in ([], [f"R{last + 1}"])
        stored = j.reserve("ext", 1) - 1
        assert stored in (last, last + 1)


def test_payments_are_read_from_typed_columns(tmp_path: Path, clock: FakeClock) -> None:
    journal = Journal(tmp_path / "payments.sqlite", clock=clock)
    facts = PaymentFacts(
        customer="3201015508950001",
        amount=36800,
        admin_fee=2500,
        periods=("2026-11", "2026-12"),
        business_day=dt.date(2026, 11, 22),
    )
    entry, _ = journal.begin("kantorpos", "pay", "KP-1", {"any": "record"}, facts=facts)
    assert entry.facts == facts
    # The host paid it after midnight WIB: the payment's business day is the host's day.
    done = journal.transition(
        entry.id, EntryState.APPLIED, host_reference="H1", business_day=dt.date(2026, 11, 23)
    )
    assert done.host_reference == "H1"
    assert done.facts == attrs.evolve(facts, business_day=dt.date(2026, 11, 23))
    assert "3201015508950001" not in repr(done)
    journal.begin("kantorpos", "register", "KP-2", {"request": {"amount": 1}})
    journal.begin("linkaja", "pay", "LA-1", {"request": {"amount": 2}}, facts=facts)
    rows = journal.payments("kantorpos", "pay")
    assert [(r[0], r[1], *r[3:]) for r in rows] == [
        ("KP-1", "applied", facts.customer, 36800, 2500, "2026-11,2026-12", "2026-11-23", "H1")
    ]
    journal.close()


# History that cannot be overwritten ------------------------------------------------------------


@pytest.mark.parametrize("final", [s for s in EntryState if s.final])
def test_final_states_are_final_but_for_the_two_documented_moves(
    journal: Journal, final: EntryState
) -> None:
    entry, _ = journal.begin("bank", "pay", "R1", {"amount": 1})
    journal.transition(entry.id, final)
    allowed = {
        EntryState.APPLIED: {EntryState.REVERSED},  # an accepted reversal
        EntryState.NOT_APPLIED: {EntryState.PENDING},  # a new attempt, same reference
    }.get(final, set())
    for target in EntryState:
        if target in allowed:
            continue
        with pytest.raises((ValueError, StaleEntry)):
            journal.transition(entry.id, target, from_=(final,))
        with pytest.raises((ValueError, StaleEntry)):
            journal.transition(entry.id, target)  # whatever it may leave: not this
    assert journal.get("bank", "pay", "R1").state is final  # type: ignore[union-attr]


def test_a_lost_compare_and_set_changes_nothing_and_says_what_is_there(
    journal: Journal,
) -> None:
    entry, _ = journal.begin("bank", "pay", "R1", {"amount": 1})
    journal.transition(entry.id, EntryState.UNKNOWN)
    applied = journal.transition(entry.id, EntryState.APPLIED, {"by": "recover"})
    # A late writer that still believes the entry is PENDING loses: APPLIED is not overwritten.
    with pytest.raises(StaleEntry) as lost:
        journal.transition(
            entry.id, EntryState.NOT_APPLIED, {"by": "payer"}, from_=(EntryState.PENDING,)
        )
    assert lost.value.current == applied
    assert journal.get("bank", "pay", "R1") == applied
    assert [t.to_state for t in journal.history(entry.id)] == [
        EntryState.PENDING,
        EntryState.UNKNOWN,
        EntryState.APPLIED,
    ]


def test_a_transition_for_a_lease_holder_fails_once_another_holds_it(
    journal: Journal, clock: FakeClock
) -> None:
    until = T0 + dt.timedelta(minutes=2)
    entry, _ = journal.begin("bank", "pay", "R1", {"amount": 1}, lease=("payer", until))
    with pytest.raises(StaleEntry):  # the payer's lease is live: nobody else takes it
        journal.take_lease(entry.id, "recoverer", until)
    clock.advance(minutes=3)  # the payer's lease expired: a recoverer takes over
    taken = journal.take_lease(entry.id, "recoverer", clock() + dt.timedelta(minutes=2))
    assert taken.lease_owner == "recoverer"
    with pytest.raises(StaleEntry):  # the payer comes back: its move is refused
        journal.transition(entry.id, EntryState.NOT_APPLIED, owner="payer")
    done = journal.transition(entry.id, EntryState.APPLIED, owner="recoverer", actor="recover")
    assert (done.state, done.lease_owner, done.lease_until) == (EntryState.APPLIED, None, None)
    whys = [t.why for t in journal.history(entry.id)]
    assert any("taken over" in why for why in whys)


def test_a_lease_left_by_a_dead_process_is_void(tmp_path: Path, clock: FakeClock) -> None:
    with Journal(tmp_path / "j.sqlite", clock=clock) as journal:
        dead = subprocess.run(  # a process that has surely exited: its pid is free
            [sys.executable, "-c", "import os; print(os.getpid())"],
            capture_output=True,
            text=True,
            check=True,
            timeout=PROCESS_TIMEOUT,
        )
        owner = f"{journal.instance_id}/{dead.stdout.strip()}/abc123"
        until = T0 + dt.timedelta(hours=1)
        entry, _ = journal.begin("bank", "pay", "R1", {"amount": 1}, lease=(owner, until))
        assert journal.held(entry) is False  # no need to wait out the hour
        taken = journal.take_lease(entry.id, "recoverer", until)
        assert taken.lease_owner == "recoverer"
        live = journal.owner_id("xyz")  # this very process: alive
        other, _ = journal.begin("bank", "pay", "R2", {"amount": 1}, lease=(live, until))
        assert journal.held(other, by_other_than="recoverer") is True
        foreign, _ = journal.begin("bank", "pay", "R3", {"amount": 1}, lease=("OTHER1/1/x", until))
        assert journal.held(foreign) is True  # another instance: only its expiry tells


def test_a_schema_1_journal_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        textwrap.dedent(
            """
            CREATE TABLE entries (id INTEGER PRIMARY KEY, channel TEXT NOT NULL,
                operation TEXT NOT NULL, reference TEXT NOT NULL, state TEXT NOT NULL,
                request TEXT NOT NULL, outcome TEXT, attempts INTEGER NOT NULL DEFAULT 0,
                created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
                UNIQUE (channel, operation, reference));
            CREATE TABLE outbox (id INTEGER PRIMARY KEY, channel TEXT NOT NULL,
                kind TEXT NOT NULL, reference TEXT NOT NULL, state TEXT NOT NULL,
                payload TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at TEXT NOT NULL, expires_at TEXT NOT NULL, last_error TEXT,
                created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
                UNIQUE (channel, kind, reference));
            CREATE TABLE sequences (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
            CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            INSERT INTO entries VALUES (1, 'bank', 'pay', 'OLD-1', 'unknown', '{"a":1}', NULL, 1,
                '2026-11-01T10:00:00+07:00', '2026-11-01T10:00:05+07:00');
            INSERT INTO sequences VALUES ('stan', 41);
            PRAGMA user_version = 1;
            """
        )
    )
    db.close()
    with Journal(path, clock=lambda: T0) as journal:
        entry = journal.get("bank", "pay", "OLD-1")
        assert entry is not None
        assert entry.state is EntryState.UNKNOWN
        assert entry.sent_at == dt.datetime.fromisoformat("2026-11-01T10:00:05+07:00")
        migrated = f"journal schema 1 -> {SCHEMA_VERSION}"
        assert [t.why for t in journal.history(entry.id)] == [migrated]
        assert journal.reserve("stan", 1) == 42
        journal.transition(entry.id, EntryState.APPLIED)
    check = sqlite3.connect(path)
    try:
        assert check.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
    finally:
        check.close()


#: Schema 2, as version 0.1's journals have it (what a schema-2 file looks like on disk).
SCHEMA_2 = """
CREATE TABLE entries (id INTEGER PRIMARY KEY, channel TEXT NOT NULL, operation TEXT NOT NULL,
    reference TEXT NOT NULL, state TEXT NOT NULL, request TEXT NOT NULL, outcome TEXT,
    attempts INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    sent_at TEXT, lease_owner TEXT, lease_until TEXT, customer TEXT, amount INTEGER,
    admin_fee INTEGER, periods TEXT, business_day TEXT, host_reference TEXT,
    scope TEXT NOT NULL DEFAULT '', UNIQUE (channel, scope, operation, reference));
CREATE INDEX entries_open ON entries (channel, state)
    WHERE state IN ('held', 'pending', 'unknown', 'submitted');
CREATE TABLE outbox (id INTEGER PRIMARY KEY, channel TEXT NOT NULL, kind TEXT NOT NULL,
    reference TEXT NOT NULL, state TEXT NOT NULL, payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at TEXT NOT NULL,
    expires_at TEXT NOT NULL, last_error TEXT, created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL, lease_owner TEXT, lease_until TEXT,
    scope TEXT NOT NULL DEFAULT '', UNIQUE (channel, scope, kind, reference));
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE TABLE sequences (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE transitions (entry_id INTEGER NOT NULL REFERENCES entries (id),
    seq INTEGER NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL, from_state TEXT,
    to_state TEXT NOT NULL, why TEXT NOT NULL, PRIMARY KEY (entry_id, seq)) WITHOUT ROWID;
"""


def test_a_schema_2_journal_keeps_its_history_in_each_entrys_row(tmp_path: Path) -> None:
    path = tmp_path / "v2.sqlite"
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(SCHEMA_2)
    db.executescript(
        textwrap.dedent(
            """
            INSERT INTO entries (id, channel, operation, reference, state, request, attempts,
                created_at, updated_at) VALUES (7, 'bank', 'pay', 'V2-1', 'applied', '{}', 1,
                '2026-11-01T10:00:00+07:00', '2026-11-01T10:00:09+07:00');
            INSERT INTO transitions VALUES
                (7, 2, '2026-11-01T10:00:09+07:00', 'client', 'pending', 'applied', 'answer'),
                (7, 1, '2026-11-01T10:00:00+07:00', 'client', NULL, 'pending', 'journaled');
            PRAGMA user_version = 2;
            """
        )
    )
    db.close()
    with Journal(path, clock=lambda: T0) as journal:
        history = journal.history(7)
        assert [(t.from_state, t.to_state, t.why) for t in history] == [
            (None, EntryState.PENDING, "journaled"),
            (EntryState.PENDING, EntryState.APPLIED, "answer"),
        ]
        assert history[1].at == dt.datetime.fromisoformat("2026-11-01T10:00:09+07:00")
        journal.transition(7, EntryState.REVERSED, why="reversal accepted")
        assert [t.to_state for t in journal.history(7)][-1] is EntryState.REVERSED
    check = sqlite3.connect(path)
    try:
        assert check.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        tables = {row[0] for row in check.execute("SELECT name FROM sqlite_master")}
        assert "transitions" not in tables
    finally:
        check.close()


def test_a_schema_3_journal_gets_the_open_index_keyed_by_channel(tmp_path: Path) -> None:
    path = tmp_path / "v3.sqlite"
    with Journal(path, clock=lambda: T0) as journal:
        entry, _ = journal.begin("bank", "pay", "V3-1", {"amount": 1})
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(  # the index as schema 3 had it, and no wire facts yet
        """
        ALTER TABLE entries DROP COLUMN wire;
        DROP INDEX entries_open;
        CREATE INDEX entries_open ON entries (channel, state)
            WHERE state IN ('held', 'pending', 'unknown', 'submitted');
        PRAGMA user_version = 3;
        """
    )
    db.close()
    with Journal(path, clock=lambda: T0) as journal:
        assert [e.reference for e in journal.unresolved("bank")] == ["V3-1"]
        journal.transition(entry.id, EntryState.UNKNOWN, why="no answer")
        assert [e.state for e in journal.unresolved("bank")] == [EntryState.UNKNOWN]
    check = sqlite3.connect(path)
    try:
        assert check.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
        (index,) = check.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'entries_open'"
        ).fetchone()
        assert "ON entries (channel)" in index
        # recover() reads the open entries through it, in id order with no sort
        plan = " ".join(
            str(row[-1])
            for row in check.execute(
                "EXPLAIN QUERY PLAN SELECT id FROM entries WHERE state IN"
                " ('held', 'pending', 'unknown', 'submitted') AND state IN (?, ?)"
                " AND channel = ? ORDER BY id",
                ("pending", "unknown", "bank"),
            )
        )
        assert "entries_open" in plan
        assert "ORDER BY" not in plan
    finally:
        check.close()


def test_the_history_is_append_only_and_entries_are_never_deleted(tmp_path: Path) -> None:
    # Whoever writes to the file (the library, a tool, a person with the sqlite3 shell), the
    # database refuses to rewrite an earlier line of a history or to delete an entry.
    path = tmp_path / "audit.sqlite"
    with Journal(path, clock=lambda: T0) as journal:
        entry, _ = journal.begin("bank", "pay", "AUD-1", {"amount": 1})
        journal.transition(entry.id, EntryState.UNKNOWN, why="tidak ada jawaban — no answer")
        journal.transition(entry.id, EntryState.APPLIED, why="status: diterapkan ✓")
        assert [t.why for t in journal.history(entry.id)] == [
            "journaled",
            "tidak ada jawaban — no answer",
            "status: diterapkan ✓",
        ]
    db = sqlite3.connect(path, isolation_level=None)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("UPDATE entries SET history = '[]' WHERE id = ?", (entry.id,))
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute(
                "UPDATE entries SET history = json_set(history, '$[1][3]', 'declined')"
                " WHERE id = ?",
                (entry.id,),
            )
        with pytest.raises(sqlite3.IntegrityError, match="never deleted"):
            db.execute("DELETE FROM entries WHERE id = ?", (entry.id,))
        db.execute(  # appending is what the journal itself does
            "UPDATE entries SET history = json_insert(history, '$[#]', json_array('x'))"
            " WHERE id = ?",
            (entry.id,),
        )
    finally:
        db.close()


# Storage failures are typed --------------------------------------------------------------------


def test_a_read_only_journal_file_refuses_writes_with_a_typed_error(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes through file modes")
    path = tmp_path / "j.sqlite"
    Journal(path).close()
    path.chmod(0o400)
    with pytest.raises(JournalError) as caught, Journal(path) as journal:
        journal.begin("bank", "pay", "R1", {"amount": 1})
    assert isinstance(caught.value, JournalReadOnly | JournalUnavailable)


def test_a_read_only_connection_refuses_writes_with_a_typed_error(tmp_path: Path) -> None:
    # Read-only as SQLite sees it, whoever runs the test (root ignores file modes).
    path = tmp_path / "j.sqlite"
    with Journal(path) as writable:
        connection = writable._connection()
        connection.execute("PRAGMA query_only = 1")
        with pytest.raises(JournalError) as caught:
            writable.begin("bank", "pay", "R1", {"amount": 1})
    assert caught.value.code.startswith("journal.")
    assert "sqlite" not in type(caught.value).__module__


def test_a_journal_locked_past_its_busy_timeout_is_a_typed_error(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    journal = Journal(path, busy_timeout=0.05)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock and does not let go
    try:
        with pytest.raises(JournalBusy) as caught:
            journal.begin("bank", "pay", "R1", {"amount": 1})
        assert caught.value.code == "journal.busy"
        with pytest.raises(JournalBusy):  # opening it then is refused the same way
            Journal(path, busy_timeout=0.05)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        journal.close()
    with Journal(path) as again:  # nothing was half-written
        assert again.entries() == []


def test_a_payers_look_up_read_busy_with_the_handler_off_reads_again_with_it_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # After a write the connection's busy handler is off; the payer's look-up (get with its
    # scope) reads without switching it on. Should another connection hold a lock the
    # handler would have waited out, it must read again with the handler on, not fail.
    with Journal(tmp_path / "j.sqlite", busy_timeout=5.0) as journal:
        entry, _ = journal.begin("bank", "pay", "R1", {"amount": 1})  # handler now off
        connection = journal._connection()
        assert not connection._handler_on
        reads: list[bool] = []
        execute = sqlite_journal._Connection.execute

        def busy_once(self: Any, statement: str, *args: Any) -> Any:
            if statement.startswith("SELECT"):
                reads.append(self._handler_on)
                if len(reads) == 1:
                    error = sqlite3.OperationalError("database is locked")
                    error.sqlite_errorcode = 5  # SQLITE_BUSY
                    raise error
            return execute(self, statement, *args)

        monkeypatch.setattr(sqlite_journal._Connection, "execute", busy_once)
        found = journal.get("bank", "pay", "R1", scope="")
    assert found is not None
    assert found.id == entry.id
    assert reads == [False, True]  # tried as it was, then again waiting as SQLite knows how


_FILL_UNTIL_FULL = textwrap.dedent(
    """
    import json, resource, sys
    sys.path.insert(0, {src!r})
    from jamsostek_channels.journal import Journal, JournalError
    journal = Journal({path!r})
    resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))  # a disk that fills up
    try:
        for n in range(100_000):
            journal.begin("bank", "pay", f"R{{n}}", {{"pad": "x" * 2000}})
    except JournalError as error:
        print(json.dumps({{"error": type(error).__name__, "code": error.code, "n": n}}))
    except BaseException as error:
        print(json.dumps({{"raw": type(error).__name__}}))
    """
)


def test_a_full_disk_is_a_typed_error_and_loses_no_committed_entry(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    done = subprocess.run(
        [sys.executable, "-c", _FILL_UNTIL_FULL.format(src=SRC, path=str(path))],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert "raw" not in report, done.stderr[-2000:]
    assert report["error"] in {"JournalFull", "JournalError"}
    assert report["code"] in {"journal.full", "journal.io"}
    assert report["n"] > 10  # it did fill the file first
    with Journal(path) as journal:  # every entry committed before the failure is there
        assert len(journal.entries("bank")) == report["n"]


def test_the_sqlite_journal_is_a_store() -> None:
    # What the client and reconciliation are written against; a PostgreSQL store will be too.
    from jamsostek_channels.journal import JournalStore

    wanted = {
        name
        for name in vars(JournalStore)
        if not name.startswith("_") and callable(getattr(JournalStore, name, None))
    } | {"instance_id", "clock"}
    with Journal() as journal:
        store: JournalStore = journal  # mypy holds the signatures to the protocol
        missing = {name for name in wanted if not hasattr(store, name)}
    assert missing == set()
    assert len(wanted) > 20


def test_begin_many_writes_a_batch_in_one_commit_all_or_none(
    tmp_path: Path, clock: FakeClock
) -> None:
    with Journal(tmp_path / "batch.sqlite", clock=clock) as journal:
        batch = [(f"B-{n}", {"line": n}, None) for n in range(500)]
        begun = journal.begin_many("creditunion", "pay", batch)
        assert len(begun) == 500
        assert all(created and entry.state is EntryState.HELD for entry, created in begun)
        again = journal.begin_many("creditunion", "pay", batch[:3])  # idempotent per reference
        assert [created for _, created in again] == [False] * 3
        assert [e.id for e, _ in again] == [e.id for e, _ in begun[:3]]
        with pytest.raises(ReferenceConflict):  # one line reuses a reference with other content
            journal.begin_many(
                "creditunion", "pay", [("NEW-1", {"line": 1}, None), ("B-7", {"line": 70}, None)]
            )
        assert journal.get("creditunion", "pay", "NEW-1") is None  # nothing of it was written
        assert len(journal.entries("creditunion")) == 500
        assert [t.actor for t in journal.history(begun[0][0].id)] == ["batch"]


def test_transition_many_settles_a_result_file_in_one_commit(
    tmp_path: Path, clock: FakeClock
) -> None:
    # A batch sent as a file: its lines SUBMITTED, then its result file settles them all in one
    # durable commit; a line already settled another way comes back as its StaleEntry and the
    # others are moved all the same.
    with Journal(tmp_path / "result.sqlite", clock=clock) as journal:
        begun = journal.begin_many(
            "creditunion", "pay", [(f"R-{n}", {"n": n}, None) for n in range(4)]
        )
        owner = journal.owner_id("batch")
        ids = []
        for entry, _ in begun:
            sent = journal.attempt(entry.id, lease=(owner, clock() + dt.timedelta(minutes=2)))
            ids.append(journal.transition(sent.id, EntryState.SUBMITTED, why="in file").id)
        journal.transition(ids[3], EntryState.NOT_APPLIED, why="withdrawn by hand")
        moves = [
            Move(ids[0], EntryState.APPLIED, {"host_reference": "H0"}, why="result: 00"),
            Move(ids[1], EntryState.DECLINED, {"code": "51"}, why="result: 51"),
            Move(ids[2], EntryState.APPLIED, None, from_=frozenset({EntryState.SUBMITTED})),
            Move(ids[3], EntryState.APPLIED, why="result: 00"),
        ]
        results = journal.transition_many(moves, actor="result-file")
        assert [r.state if isinstance(r, Entry) else "stale" for r in results] == [
            EntryState.APPLIED,
            EntryState.DECLINED,
            EntryState.APPLIED,
            "stale",
        ]
        stale = results[3]
        assert isinstance(stale, StaleEntry)
        assert stale.current.state is EntryState.NOT_APPLIED  # final, untouched
        assert journal.get("creditunion", "pay", "R-0").outcome == {"host_reference": "H0"}  # type: ignore[union-attr]
        assert [t.actor for t in journal.history(ids[1])][-1] == "result-file"
        assert [t.to_state for t in journal.history(ids[3])][-1] is EntryState.NOT_APPLIED
        with pytest.raises(ValueError, match="no transition"):  # checked before anything is written
            journal.transition_many([Move(ids[0], EntryState.HELD)])
