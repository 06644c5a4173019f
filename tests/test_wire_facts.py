"""The wire-facts seam (:class:`~jamsostek_channels.channel.WireFacts`): what an adapter fixes
before sending is journaled in the write that journals the attempt (no commit more per payment),
handed back with every later request about the payment (advice, reversal, a resend) in any
process, bounded and plain; a channel without the seam pays nothing for it. Journal schema 5
keeps the facts in their own column (the migration from schema 4 is here too).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from test_client import NIK, NOW, Clock, payments, person, reversals, seed

from jamsostek_channels.channel import (
    AdviceRequest,
    PaymentRequest,
    PaymentResult,
    ReversalRequest,
    ReversalResult,
    WireFacts,
)
from jamsostek_channels.client import Client
from jamsostek_channels.errors import HostDeclined, NotDelivered, OutcomeUnknown
from jamsostek_channels.journal import SCHEMA_VERSION, EntryState, Journal, StaleEntry
from jamsostek_channels.testing.direct import AdvisingChannel, ReversingChannel
from jamsostek_channels.testing.host import FakeHost
from jamsostek_channels.testing.wire import Faults
from jamsostek_channels.wirefacts import MAX_FACTS, NO_FACTS, checked

Request = PaymentRequest | AdviceRequest | ReversalRequest


class Noting:
    """A seam that numbers what it fixes, in a file-backed counter shared by every adapter a
    test makes (as a journal's durable sequence would be), and records what it is handed."""

    def __init__(self, counter: list[int]) -> None:
        self.counter = counter
        self.prepared: list[tuple[str, Mapping[str, str]]] = []
        self.handed: list[tuple[str, bool, Mapping[str, str], Mapping[str, str]]] = []

    def prepare(self, request: Request) -> Mapping[str, str]:
        self.counter[0] += 1
        facts = {"stan": f"{self.counter[0]:06d}"}
        if isinstance(request, PaymentRequest):
            facts["transmitted"] = f"1122{self.counter[0]:06d}"
        self.prepared.append((type(request).__name__, facts))
        return facts


class NotingAdvising(AdvisingChannel):
    def __init__(self, host: FakeHost, counter: list[int], **options: Any) -> None:
        super().__init__(host, **options)
        self.seam = Noting(counter)
        self.paid: list[PaymentRequest] = []

    def prepare(self, request: Request) -> Mapping[str, str]:
        return self.seam.prepare(request)

    def pay(self, request: PaymentRequest) -> PaymentResult:
        self.paid.append(request)
        return super().pay(request)

    def advise(self, request: AdviceRequest) -> PaymentResult:
        self.seam.handed.append(("advice", request.repeat, request.wire, request.payment.wire))
        return super().advise(request)


class NotingReversing(ReversingChannel):
    def __init__(self, host: FakeHost, counter: list[int], **options: Any) -> None:
        super().__init__(host, **options)
        self.seam = Noting(counter)

    def prepare(self, request: Request) -> Mapping[str, str]:
        return self.seam.prepare(request)

    def reverse(self, request: ReversalRequest) -> ReversalResult:
        self.seam.handed.append(("reversal", request.repeat, request.wire, request.payment.wire))
        return super().reverse(request)


class Killed(BaseException):
    """The process died here."""


def _client(adapter: Any, path: Path, clock: Clock) -> Client:
    return Client(adapter, journal=Journal(path, clock=clock), clock=clock, sleep=lambda _: None)


def _die_before_queueing(client: Client) -> None:
    def enqueue(*_: object, **__: object) -> None:
        raise Killed

    client.journal.enqueue = enqueue  # type: ignore[assignment,method-assign]


# The facts' bounds -------------------------------------------------------------------------------


def test_facts_are_small_plain_strings() -> None:
    facts = {"stan": "000123", "transmitted": "1204154500"}
    assert checked(facts) == facts
    assert type(checked(facts)) is dict
    assert checked({}) == {}


@pytest.mark.parametrize(
    "facts",
    [
        {f"k{n}": "x" for n in range(MAX_FACTS + 1)},  # too many
        {"STAN": "1"},  # keys are lower case
        {"": "1"},
        {"k" * 25: "1"},
        {"stan": "x" * 33},  # too long
        {"stan": 123},  # not text
        {"stan": "a\nb"},  # not printable
        {"customer": NIK},  # a NIK is never a wire fact
        {"kpj": "12345678901"},
        {"phone": "+62812345678901"},
    ],
)
def test_facts_that_cannot_be_wire_facts_are_refused(facts: Mapping[str, Any]) -> None:
    with pytest.raises(ValueError, match="wire facts") as refused:
        checked(facts)
    for value in facts.values():
        if isinstance(value, str) and len(value) > 3:
            assert value not in str(refused.value)  # the key at most, never the value


# Payments ------------------------------------------------------------------------------------


def test_a_payments_facts_are_journaled_with_its_attempt_in_the_same_commit(
    host: FakeHost, clock: Clock, tmp_path: Path
) -> None:
    seed(host, 2)
    commits: dict[str, int] = {}
    for name, adapter, customer in (
        ("plain", AdvisingChannel(host, name="plain"), NIK),
        ("noted", NotingAdvising(host, [0], name="noted"), person(2).nik),
    ):
        client = _client(adapter, tmp_path / f"{name}.sqlite", clock)
        client.journal.instance_id  # noqa: B018 - minted (one commit) before counting
        seen = [0]
        committed = client.journal._committed  # type: ignore[attr-defined]

        def count(seen: list[int] = seen, committed: Any = committed) -> None:
            seen[0] += 1
            committed()

        client.journal._committed = count  # type: ignore[attr-defined]
        client.pay(customer, months=1, reference=f"{name.upper()}-1")
        commits[name] = seen[0]
        entry = client.journal.get(name, "pay", f"{name.upper()}-1")
        assert entry is not None
        assert entry.state is EntryState.APPLIED
        if isinstance(adapter, NotingAdvising):
            assert entry.wire == {"stan": "000001", "transmitted": "1122000001"}
            assert "wire" not in entry.request["request"]  # its own column, not the record
            assert adapter.paid[0].wire == entry.wire  # sent as journaled
        else:
            assert entry.wire == {}
            assert entry.wire is NO_FACTS
        client.close()
    assert commits["noted"] == commits["plain"] == 2


def test_a_channel_without_the_seam_is_never_asked(host: FakeHost, clock: Clock) -> None:
    adapter = ReversingChannel(host, name="plain", faults=Faults())
    assert not isinstance(adapter, WireFacts)
    adapter.faults.inject("drop", match="PLAIN-1")
    client = Client(adapter, journal=Journal(), clock=clock, sleep=lambda _: None)
    with pytest.raises(HostDeclined):
        client.pay(NIK, months=1, reference="PLAIN-1")  # undone by its reversal
    item = client.journal.outbox_item("plain", "reversal", "PLAIN-1")
    assert item is not None
    assert "wire" not in item.payload


def test_facts_out_of_bounds_journal_and_send_nothing(host: FakeHost, clock: Clock) -> None:
    adapter = NotingAdvising(host, [0], name="noted")
    adapter.prepare = lambda request: {"customer": NIK}  # type: ignore[method-assign]
    client = Client(adapter, journal=Journal(), clock=clock, sleep=lambda _: None)
    with pytest.raises(ValueError, match="customer"):
        client.pay(NIK, months=1, reference="BAD-1")
    assert client.journal.get("noted", "pay", "BAD-1") is None
    assert adapter.paid == []
    assert payments(host) == []


def test_a_resend_journals_new_facts_with_its_attempt(
    host: FakeHost, clock: Clock, tmp_path: Path
) -> None:
    adapter = NotingAdvising(host, [0], name="noted")
    client = _client(adapter, tmp_path / "j.sqlite", clock)
    adapter.faults.inject("reset", match="AGAIN-1")  # surely not delivered
    with pytest.raises(NotDelivered):
        client.pay(NIK, months=1, reference="AGAIN-1")
    first = client.journal.get("noted", "pay", "AGAIN-1")
    assert first is not None
    assert first.wire["stan"] == "000001"

    client.pay(NIK, months=1, reference="AGAIN-1")  # sent again, as a repeat

    entry = client.journal.get("noted", "pay", "AGAIN-1")
    assert entry is not None
    assert entry.state is EntryState.APPLIED
    assert entry.wire == {"stan": "000002", "transmitted": "1122000002"}
    assert [(p.repeat, p.wire) for p in adapter.paid] == [(False, first.wire), (True, entry.wire)]


def test_an_attempt_that_loses_its_compare_and_set_keeps_the_facts(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite", clock=lambda: NOW) as journal:
        entry, _ = journal.begin("x", "pay", "R-1", {"a": 1}, attempt=True, wire={"stan": "1"})
        with pytest.raises(StaleEntry):  # PENDING: no new attempt
            journal.attempt(entry.id, lease=("me", NOW), wire={"stan": "2"})
        again = journal.get("x", "pay", "R-1")
        assert again is not None
        assert again.wire == {"stan": "1"}


# Advices and reversals, across a restart -----------------------------------------------------


def test_an_advice_after_a_restart_carries_the_payments_facts_and_keeps_its_own(
    host: FakeHost, clock: Clock, tmp_path: Path
) -> None:
    path, counter, faults = tmp_path / "terminal.sqlite", [0], Faults()
    faults.inject("drop", match="ADV-1", times=2)  # the payment's answer, the first advice's
    first = _client(NotingAdvising(host, counter, name="noted", faults=faults), path, clock)
    _die_before_queueing(first)
    with pytest.raises(Killed):
        first.pay(NIK, months=1, reference="ADV-1")
    payment_facts = {"stan": "000001", "transmitted": "1122000001"}

    # A new process: the advice goes out, and its answer is lost too.
    second_adapter = NotingAdvising(host, counter, name="noted", faults=faults)
    second = _client(second_adapter, path, clock)
    assert second.recover().still_unknown == ("ADV-1",)
    second.close()
    # Another: the repeat keeps the first advice's facts.
    third_adapter = NotingAdvising(host, counter, name="noted", faults=faults)
    third = _client(third_adapter, path, clock)
    clock.advance(minutes=5)  # past the outbox's backoff
    assert third.recover().applied == ("ADV-1",)

    advice_facts = {"stan": "000003"}  # 000002 was fixed by the process that died
    assert second_adapter.seam.handed == [("advice", False, advice_facts, payment_facts)]
    assert third_adapter.seam.handed == [("advice", True, advice_facts, payment_facts)]
    assert third_adapter.seam.prepared == []  # nothing fixed anew
    assert payments(host) == ["ADV-1"]
    third.close()


def test_a_reversal_after_a_restart_names_the_payments_facts(
    host: FakeHost, clock: Clock, tmp_path: Path
) -> None:
    path, counter, faults = tmp_path / "till.sqlite", [0], Faults()
    faults.inject("drop", match="REV-1")
    first = _client(NotingReversing(host, counter, name="noted", faults=faults), path, clock)
    _die_before_queueing(first)
    with pytest.raises(Killed):
        first.pay(NIK, months=1, reference="REV-1")

    adapter = NotingReversing(host, counter, name="noted", faults=faults)
    second = _client(adapter, path, clock)
    report = second.recover()

    assert report.reversed == ("REV-1",)
    payment_facts = {"stan": "000001", "transmitted": "1122000001"}
    # 000002 was fixed by the process that died before queueing it
    assert adapter.seam.handed == [("reversal", False, {"stan": "000003"}, payment_facts)]
    assert reversals(host) == ["REV-1"]
    second.close()


def test_a_reversal_on_request_is_queued_with_its_facts(host: FakeHost, clock: Clock) -> None:
    adapter = NotingAdvising(host, [0], name="noted")
    client = Client(adapter, journal=Journal(), clock=clock, sleep=lambda _: None)
    client.pay(NIK, months=1, reference="UNDO-1")
    client.reverse("UNDO-1")
    item = client.journal.outbox_item("noted", "reversal", "UNDO-1")
    assert item is not None
    assert item.payload["wire"] == {"stan": "000002"}


def test_an_unanswered_payment_stays_unknown_without_new_facts_in_line(
    host: FakeHost, clock: Clock
) -> None:
    faults = Faults()
    faults.inject("drop", match="LINE-1", times=2)
    adapter = NotingAdvising(host, [0], name="noted", faults=faults)
    client = Client(adapter, journal=Journal(), clock=clock, sleep=lambda _: None)
    with pytest.raises(OutcomeUnknown):
        client.pay(NIK, months=1, reference="LINE-1")
    assert [kind for kind, _ in adapter.seam.prepared] == ["PaymentRequest", "AdviceRequest"]


# Schema 5 --------------------------------------------------------------------------------------


def test_a_schema_4_journal_gets_the_wire_facts_column(tmp_path: Path) -> None:
    path = tmp_path / "v4.sqlite"
    with Journal(path, clock=lambda: NOW) as journal:
        entry, _ = journal.begin("bank", "pay", "V4-1", {"amount": 1}, attempt=True)
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(  # what schema 4 had: no wire column
        """
        ALTER TABLE entries DROP COLUMN wire;
        PRAGMA user_version = 4;
        """
    )
    db.close()
    with Journal(path, clock=lambda: NOW) as journal:
        old = journal.get("bank", "pay", "V4-1")
        assert old is not None
        assert old.wire == {}
        journal.transition(entry.id, EntryState.NOT_APPLIED, why="not delivered")
        again = journal.attempt(entry.id, lease=("me", NOW), wire={"stan": "000007"})
        assert again.wire == {"stan": "000007"}
        new, _ = journal.begin("bank", "pay", "V4-2", {"amount": 2}, wire={"stan": "000008"})
        assert new.wire == {"stan": "000008"}
        assert journal.get("bank", "pay", "V4-2").wire == {"stan": "000008"}  # type: ignore[union-attr]
    check = sqlite3.connect(path)
    try:
        assert check.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
        columns = [row[1] for row in check.execute("PRAGMA table_info(entries)")]
        assert "wire" in columns
    finally:
        check.close()
