"""Money safety, tried as a hostile tester would (issue 10): each finding a test first.

A payment is applied once or not at all, and the journal says which: a late packet, a recoverer
racing a live payer, a reversal across midnight, a crash mid-reversal, a journal that cannot
record the host's answer. Through the in-process channel (:class:`HostAdapter`) so that each
interleaving is exact; the channels' own wires are covered in their suites.
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest
from test_client import NIK, NOW, Clock, Recording, payments

from jamsostek_channels.channel import (
    PaymentRequest,
    PaymentResult,
    ReversalRequest,
    ReversalResult,
)
from jamsostek_channels.client import Client
from jamsostek_channels.errors import OutcomeUnknown
from jamsostek_channels.journal import EntryState, Journal, JournalFull, OutboxState
from jamsostek_channels.testing.direct import HostAdapter
from jamsostek_channels.testing.host import FakeHost
from jamsostek_channels.testing.wire import FaultKind, Faults

WAIT = 10.0  #: bound on every wait for another thread (never reached when all is well)


def client_for(adapter: Any, journal: Journal | Path, clock: Clock, **options: Any) -> Client:
    options.setdefault("sleep", lambda _: None)
    return Client(adapter, journal=journal, clock=clock, **options)


def states(journal: Journal, reference: str) -> list[EntryState]:
    entry = journal.get("direct", "pay", reference)
    assert entry is not None
    return [t.to_state for t in journal.history(entry.id)]


# 1. A late packet ---------------------------------------------------------------------------------


class LatePacket(Recording):
    """The request is held in the network past the read timeout: the payer hears nothing, the
    host has not seen it yet. ``arrive()`` delivers it later."""

    def __init__(self, host: FakeHost, **options: Any) -> None:
        super().__init__(host, **options)
        self.held: list[PaymentRequest] = []

    def pay(self, request: PaymentRequest) -> PaymentResult:
        self.calls["pay"] += 1
        self.held.append(request)
        raise OutcomeUnknown("outcome.unknown", {"reference": request.reference})

    def arrive(self) -> None:
        for request in self.held:
            self.host.pay(self.name, request)
        self.held.clear()


def test_a_late_packet_is_never_recorded_as_not_applied(host: FakeHost, clock: Clock) -> None:
    adapter = LatePacket(host)
    client = client_for(adapter, Journal(), clock)
    with pytest.raises(OutcomeUnknown):  # never NotDelivered: "not found" is no proof yet
        client.pay(NIK, months=1, reference="LATE-1")
    assert client.recover().still_unknown == ("LATE-1",)
    clock.advance(seconds=30)
    adapter.arrive()  # the request reaches the host and is applied
    report = client.recover()
    assert report.applied == ("LATE-1",)
    receipt = client.pay(NIK, months=1, reference="LATE-1")  # answered from the journal
    assert receipt.host_reference != "-"
    assert payments(host) == ["LATE-1"]
    assert adapter.calls["pay"] == 1
    assert EntryState.NOT_APPLIED not in states(client.journal, "LATE-1")


def test_after_the_settle_window_not_found_is_final(host: FakeHost, clock: Clock) -> None:
    adapter = LatePacket(host)
    client = client_for(adapter, Journal(), clock)
    with pytest.raises(OutcomeUnknown):
        client.pay(NIK, months=1, reference="LATE-2")
    clock.advance(seconds=359)
    assert client.recover().still_unknown == ("LATE-2",)
    clock.advance(seconds=2)  # past the window: the host would refuse the stale request now
    assert client.recover().not_applied == ("LATE-2",)
    adapter.held.clear()  # (it never arrives)
    assert states(client.journal, "LATE-2")[-1] is EntryState.NOT_APPLIED


# 2. recover() racing a live payer -----------------------------------------------------------------


class Gated(Recording):
    """The host applies the payment, then the answer waits at a gate (a slow line)."""

    def __init__(self, host: FakeHost, **options: Any) -> None:
        super().__init__(host, **options)
        self.inside = threading.Event()
        self.gate = threading.Event()

    def pay(self, request: PaymentRequest) -> PaymentResult:
        result = super().pay(request)
        self.inside.set()
        assert self.gate.wait(WAIT)
        return result


def test_recover_leaves_a_live_payer_alone(host: FakeHost, clock: Clock, tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    slow = Gated(host)
    payer = client_for(slow, Journal(path), clock)
    watcher = Recording(host)
    recoverer = client_for(watcher, Journal(path), clock)
    receipts: list[object] = []
    thread = threading.Thread(
        target=lambda: receipts.append(payer.pay(NIK, months=1, reference="RACE-1"))
    )
    thread.start()
    try:
        assert slow.inside.wait(WAIT)
        report = recoverer.recover()
        assert report.in_flight == ("RACE-1",)
        assert report.unresolved == 0
        assert watcher.calls["status"] == 0  # it did not even ask
    finally:
        slow.gate.set()
        thread.join(WAIT)
    assert len(receipts) == 1
    assert states(payer.journal, "RACE-1") == [EntryState.PENDING, EntryState.APPLIED]
    assert payments(host) == ["RACE-1"]


def test_a_payer_whose_lease_was_taken_over_answers_from_the_journal(
    host: FakeHost, clock: Clock, tmp_path: Path
) -> None:
    path = tmp_path / "journal.sqlite"
    slow = Gated(host)
    payer = client_for(slow, Journal(path), clock)
    recoverer = client_for(Recording(host), Journal(path), clock)
    receipts: list[object] = []
    thread = threading.Thread(
        target=lambda: receipts.append(payer.pay(NIK, months=1, reference="RACE-2"))
    )
    thread.start()
    try:
        assert slow.inside.wait(WAIT)
        clock.advance(minutes=3)  # the payer's lease (2 minutes) runs out while it hangs
        report = recoverer.recover()
        assert report.applied == ("RACE-2",)
    finally:
        slow.gate.set()
        thread.join(WAIT)
    # The payer's own move lost its compare-and-set: it answered with what the journal says.
    assert len(receipts) == 1
    entry = payer.journal.get("direct", "pay", "RACE-2")
    assert entry is not None
    history = payer.journal.history(entry.id)
    assert [t.to_state for t in history][-1] is EntryState.APPLIED
    assert any("taken over" in t.why for t in history)
    assert [t.actor for t in history if t.to_state is EntryState.APPLIED] == ["recover"]
    assert payments(host) == ["RACE-2"]


# 5. Reversals: across midnight, expired, resent after a crash ----------------------------------


def test_a_reversal_refused_after_midnight_is_reported_refused(
    host: FakeHost, clock: Clock
) -> None:
    faults = Faults()
    client = client_for(HostAdapter(host, faults=faults), Journal(), clock)
    clock.now = NOW.replace(hour=23, minute=50)
    client.pay(NIK, months=1, reference="MID-1")
    faults.inject(FaultKind.RESET, match="/direct/reverse")
    assert client.reverse("MID-1").state.value == "queued"
    clock.advance(minutes=20)  # 00:10 WIB: the host's same-day window has closed
    report = client.recover()
    assert report.reversals_refused == ("MID-1",)
    assert report.refusal_codes == {"MID-1": "host.reversal_refused"}  # why, for a person
    assert report.reversals_repeated == ("MID-1",)  # the reset attempt may have arrived
    assert report.reversals_delivered == ()
    entry = client.journal.get("direct", "pay", "MID-1")
    assert entry is not None
    assert entry.state is EntryState.APPLIED  # the money stays taken: a person must look
    assert [e.kind for e in host.ledger()] == ["payment"]


def test_expired_reversals_are_reported_not_dropped(host: FakeHost, clock: Clock) -> None:
    faults = Faults()
    client = client_for(HostAdapter(host, faults=faults), Journal(), clock)
    client.pay(NIK, months=1, reference="EXP-1")
    faults.inject(FaultKind.RESET, match="/direct/reverse", times=100)
    client.reverse("EXP-1")
    clock.advance(days=1, seconds=1)
    report = client.recover()
    assert report.reversals_expired == ("EXP-1",)
    item = client.journal.outbox_item("direct", "reversal", "EXP-1")
    assert item is not None
    assert item.state is OutboxState.EXPIRED


class _Killed(BaseException):
    """The process dies (SIGKILL): nothing in the client gets to handle it."""


class DiesWhileReversing(Recording):
    def reverse(self, request: ReversalRequest) -> ReversalResult:
        self.reversal_repeats.append(request.repeat)
        self.host.reverse(self.name, request.payment.reference)  # it reached the host...
        raise _Killed  # ...and the process died before hearing back


def test_a_reversal_resent_after_a_crash_goes_out_as_a_repeat(
    host: FakeHost, clock: Clock, tmp_path: Path
) -> None:
    path = tmp_path / "journal.sqlite"
    dying = DiesWhileReversing(host)
    first = client_for(dying, Journal(path), clock)
    first.pay(NIK, months=1, reference="REP-1")
    with pytest.raises(_Killed):
        first.reverse("REP-1")
    clock.advance(minutes=3)  # its claim on the reversal expires
    again = Recording(host)
    report = client_for(again, Journal(path), clock).recover()
    assert dying.reversal_repeats == [False]
    assert again.reversal_repeats == [True]  # the host may have seen the first: say so
    assert report.reversals_delivered == ("REP-1",)
    assert report.reversals_repeated == ("REP-1",)  # and the operator is told it was a resend
    assert [e.kind for e in host.ledger()] == ["payment", "reversal"]


# 6. The journal fails after the host applied ----------------------------------------------------


def test_a_journal_that_cannot_record_the_answer_leaves_it_to_recover(
    host: FakeHost, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = client_for(HostAdapter(host), Journal(), clock)
    journal = client.journal
    transition = journal.transition

    def full_when_applied(entry_id: int, to: EntryState, *args: Any, **kwargs: Any) -> Any:
        if to is EntryState.APPLIED:
            raise JournalFull("journal.full", {"reason": "SQLITE_FULL"})
        return transition(entry_id, to, *args, **kwargs)

    monkeypatch.setattr(journal, "transition", full_when_applied)
    with pytest.raises(OutcomeUnknown) as unknown:
        client.pay(NIK, months=1, reference="FULL-1")
    assert unknown.value.code == "outcome.not_recorded"
    answer = unknown.value.answer
    assert isinstance(answer, PaymentResult)
    assert answer.state.value == "applied"
    monkeypatch.undo()  # the disk has room again
    clock.advance(minutes=3)
    assert client.recover().applied == ("FULL-1",)
    assert payments(host) == ["FULL-1"]


def test_at_midnight_the_settle_window_is_counted_on_the_injected_clock(
    host: FakeHost, clock: Clock
) -> None:
    adapter = LatePacket(host)
    client = client_for(adapter, Journal(), clock)
    clock.now = NOW.replace(hour=23, minute=57)
    with pytest.raises(OutcomeUnknown):
        client.pay(NIK, months=1, reference="MIDNIGHT-1")
    clock.now = clock.now + dt.timedelta(minutes=5)  # 00:02 the next day: inside the window
    assert client.recover().still_unknown == ("MIDNIGHT-1",)
    clock.advance(minutes=2)
    assert client.recover().not_applied == ("MIDNIGHT-1",)
