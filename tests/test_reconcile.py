"""Reconciliation: every category against a real journal file, the totals, a property test of
the partition, the ``reconcile`` command (``--format json``), and a 20,000-line run."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sqlite3
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jamsostek_channels import registry
from jamsostek_channels.channel import (
    CustomerId,
    PaymentRequest,
    PaymentResult,
    PaymentState,
    SettlementRecord,
    SettlementState,
)
from jamsostek_channels.cli import reconcile as command
from jamsostek_channels.clock import JAKARTA
from jamsostek_channels.converters import unstructure
from jamsostek_channels.errors import InvalidInput, Problem
from jamsostek_channels.inputs import loads_json
from jamsostek_channels.journal import Entry, EntryState, Journal, PaymentFacts
from jamsostek_channels.model import Payer
from jamsostek_channels.period import YearMonth
from jamsostek_channels.reconcile import (
    CATEGORIES,
    MAX_AMOUNT,
    OK_CATEGORIES,
    ReconciliationReport,
    Sum,
    reconcile,
    reconcile_journal,
)

CHANNEL = "kantorpos"


@contextmanager
def reading_with(reader: Any) -> Iterator[None]:
    """The channel's registry spec with ``reader`` as its settlement reader, for a while."""
    with registry.registered(attrs.evolve(registry.spec(CHANNEL), settlement_reader=reader)):
        yield


NOW = dt.datetime(2026, 11, 22, 10, 0, tzinfo=JAKARTA)
DAY = NOW.date()
YESTERDAY = DAY - dt.timedelta(days=1)
NOV = YearMonth(2026, 11)
OCT = YearMonth(2026, 10)
ONE_MONTH = 16_800
FEE = 2_500
MASKED = "3201********0001"


def nik(serial: int = 1) -> str:
    return f"320101550895{serial:04d}"


class Book:
    """A journal file written the way ``Client.pay`` writes it: ``begin`` with the canonical
    request and its typed columns, then ``transition`` with the canonical result, its host
    reference and its business day (or the client's other outcomes)."""

    def __init__(self, path: Path | str) -> None:
        self.journal = Journal(path, clock=lambda: NOW)

    def pay(
        self,
        reference: str,
        state: EntryState = EntryState.APPLIED,
        *,
        amount: int = ONE_MONTH,
        fee: int = FEE,
        at: dt.datetime = NOW,
        periods: tuple[YearMonth, ...] = (NOV,),
        host: str | None = None,
        serial: int = 1,
        channel: str = CHANNEL,
        operation: str = "pay",
    ) -> Entry:
        request = PaymentRequest(
            reference=reference,
            customer=CustomerId.nik(nik(serial)),
            periods=periods,
            amount=amount,
            admin_fee=fee,
            payer=Payer.self_paid(),
            inquiry_id=f"INQ-{reference}",
            requested_at=at,
            agent_id="KP-40111",
        )
        record = {
            "request": unstructure(request),
            "name": "S*** R***",
            "programs": ["jkk", "jkm"],
            "months": len(periods),
        }
        held = state is EntryState.HELD  # collected offline, never sent
        entry, created = self.journal.begin(
            channel,
            operation,
            reference,
            record,
            attempt=not held,
            state=EntryState.HELD if held else EntryState.PENDING,
            facts=PaymentFacts(
                customer=request.customer.value,
                amount=amount,
                admin_fee=fee,
                periods=tuple(str(month) for month in periods),
                business_day=at.astimezone(JAKARTA).date(),
            ),
        )
        assert created
        outcome: dict[str, Any] | None
        if state in (EntryState.APPLIED, EntryState.REVERSED):
            outcome = unstructure(
                PaymentResult(
                    reference=reference,
                    state=PaymentState(state.value),
                    host_reference=host or f"H-{reference}",
                    periods=periods,
                    amount=amount,
                    paid_at=at,
                    host_code="2002500",
                )
            )
        elif state is EntryState.DECLINED:
            outcome = {"code": "host.rejected", "host_code": "4042514"}
        elif state is EntryState.NOT_APPLIED:
            outcome = {"reason": "not-delivered"}
        else:
            outcome = None
        if state in (EntryState.APPLIED, EntryState.REVERSED):
            entry = self.journal.transition(
                entry.id,
                state,
                outcome,
                host_reference=host or f"H-{reference}",
                business_day=at.astimezone(JAKARTA).date(),
            )
        elif state not in (EntryState.PENDING, EntryState.HELD):
            entry = self.journal.transition(entry.id, state, outcome)
        return entry

    def entries(self) -> list[Entry]:
        return self.journal.entries()

    def close(self) -> None:
        self.journal.close()


@pytest.fixture
def book(tmp_path: Path) -> Iterator[Book]:
    journal = Book(tmp_path / "journal.sqlite")
    yield journal
    journal.close()


def settled(
    reference: str,
    *,
    amount: int = ONE_MONTH,
    fee: int = FEE,
    state: SettlementState = SettlementState.PAID,
    host: str | None = None,
    periods: tuple[YearMonth, ...] = (NOV,),
    at: dt.datetime = NOW + dt.timedelta(seconds=2),
    channel: str = CHANNEL,
    masked: str = MASKED,
) -> SettlementRecord:
    return SettlementRecord(
        channel=channel,
        reference=reference,
        host_reference=host or f"H-{reference}",
        nik_masked=masked,
        periods=periods,
        amount=amount,
        admin_fee=fee,
        paid_at=at,
        state=state,
    )


def run_on(book: Book, records: list[SettlementRecord], day: dt.date = DAY) -> ReconciliationReport:
    return reconcile_journal(records, book.journal, channel=CHANNEL, day=day)


def only(report: ReconciliationReport) -> dict[str, list[str]]:
    """The non-empty categories and their references."""
    return {
        name: [line.reference for line in lines]
        for name, lines in report.categories().items()
        if lines
    }


# Categories, one by one ------------------------------------------------------------------------


def test_matched(book: Book) -> None:
    book.pay("KP-1")
    book.pay("KP-2", amount=2 * ONE_MONTH, periods=(OCT, NOV), serial=2)
    records = [settled("KP-1"), settled("KP-2", amount=2 * ONE_MONTH, periods=(OCT, NOV))]
    report = run_on(book, records)
    assert only(report) == {"matched": ["KP-1", "KP-2"]}
    assert report.balanced
    line = report.matched[0]
    assert (line.file_amount, line.file_admin_fee) == (ONE_MONTH, FEE)
    assert (line.journal_amount, line.journal_admin_fee) == (ONE_MONTH, FEE)
    assert line.file_state is SettlementState.PAID
    assert line.journal_state is EntryState.APPLIED
    assert line.file_host_reference == line.journal_host_reference == "H-KP-1"
    assert line.customer_masked == MASKED
    assert line.periods == (NOV,)
    assert line.requested_at == NOW
    assert line.journal_day == DAY
    assert line.reason is None
    total = report.totals.categories["matched"]
    assert total.lines == 2
    assert total.file == Sum(2, 3 * ONE_MONTH, 2 * FEE)
    assert total.journal == Sum(2, 3 * ONE_MONTH, 2 * FEE)
    assert (
        report.totals.file_paid == report.totals.journal_applied == Sum(2, 3 * ONE_MONTH, 2 * FEE)
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"amount": ONE_MONTH + 1_000}, "amount"),
        ({"fee": 3_000}, "admin_fee"),
        ({"amount": 1, "fee": 0}, "amount+admin_fee"),
        ({"periods": (OCT,)}, "periods"),
        ({"host": "H-OTHER"}, "host_reference"),
    ],
)
def test_amount_mismatch(book: Book, change: dict[str, Any], reason: str) -> None:
    book.pay("KP-1")
    report = run_on(book, [settled("KP-1", **change)])
    assert only(report) == {"amount_mismatch": ["KP-1"]}
    assert report.amount_mismatch[0].reason == reason
    assert not report.balanced
    total = report.totals.categories["amount_mismatch"]
    assert total.journal == Sum(1, ONE_MONTH, FEE)
    assert total.file == Sum(1, change.get("amount", ONE_MONTH), change.get("fee", FEE))


def test_missing_in_journal(book: Book) -> None:
    book.pay("KP-1")
    report = run_on(book, [settled("KP-1"), settled("KP-GHOST", amount=50_400)])
    assert only(report) == {"matched": ["KP-1"], "missing_in_journal": ["KP-GHOST"]}
    line = report.missing_in_journal[0]
    assert line.journal_state is None
    assert line.journal_amount is None
    assert line.file_amount == 50_400
    assert report.totals.categories["missing_in_journal"].file == Sum(1, 50_400, FEE)
    assert report.totals.categories["missing_in_journal"].journal == Sum()
    assert not report.balanced


def test_a_record_for_another_channel_is_missing_in_journal(book: Book) -> None:
    book.pay("KP-1")
    report = run_on(book, [settled("KP-1", channel="linkaja")])
    assert only(report) == {"missing_in_journal": ["KP-1"], "missing_in_settlement": ["KP-1"]}
    assert report.missing_in_journal[0].reason == "channel"


def test_missing_in_settlement_masks_the_journal_nik(book: Book) -> None:
    book.pay("KP-1", serial=7)
    book.pay("KP-2", EntryState.REVERSED)
    report = run_on(book, [])
    assert only(report) == {"missing_in_settlement": ["KP-1", "KP-2"]}
    first, second = report.missing_in_settlement
    assert first.reason is None
    assert second.reason == "journal_reversed"
    assert first.customer_masked == "3201********0007"
    assert first.file_state is None
    assert first.file_amount is None
    assert first.periods == (NOV,)
    assert report.totals.categories["missing_in_settlement"].journal == Sum(
        2, 2 * ONE_MONTH, 2 * FEE
    )
    text = json.dumps(report.as_dict())
    assert nik(7) not in text
    assert nik(1) not in text


def test_a_full_nik_in_the_file_is_masked(book: Book) -> None:
    book.pay("KP-1")
    report = run_on(book, [settled("KP-1", masked=nik(1)), settled("KP-9", masked="12345678901")])
    assert report.matched[0].customer_masked == MASKED
    assert report.missing_in_journal[0].customer_masked == "*******8901"


def test_duplicated_reference(book: Book) -> None:
    book.pay("KP-1")
    book.pay("KP-2")
    records = [settled("KP-1"), settled("KP-2"), settled("KP-1")]
    report = run_on(book, records)
    assert only(report) == {"matched": ["KP-2"], "duplicated": ["KP-1", "KP-1"]}
    assert {line.reason for line in report.duplicated} == {"reference"}
    assert all(line.journal_state is EntryState.APPLIED for line in report.duplicated)
    total = report.totals.categories["duplicated"]
    assert total.lines == 2
    assert total.file == Sum(2, 2 * ONE_MONTH, 2 * FEE)
    assert total.journal == Sum(1, ONE_MONTH, FEE)  # one journal entry, listed twice
    assert not report.balanced


def test_duplicated_host_reference(book: Book) -> None:
    book.pay("KP-1")
    book.pay("KP-2")
    records = [settled("KP-1", host="H-SAME"), settled("KP-2", host="H-SAME"), settled("KP-3")]
    report = run_on(book, records)
    assert only(report) == {
        "missing_in_journal": ["KP-3"],
        "duplicated": ["KP-1", "KP-2"],
    }
    assert {line.reason for line in report.duplicated} == {"host_reference"}


def test_reversed_on_both_sides_is_balanced(book: Book) -> None:
    book.pay("KP-1", EntryState.REVERSED)
    report = run_on(book, [settled("KP-1", state=SettlementState.REVERSED)])
    assert only(report) == {"reversed": ["KP-1"]}
    assert report.balanced
    assert report.totals.file_reversed == report.totals.journal_reversed == Sum(1, ONE_MONTH, FEE)


def test_a_reversal_recorded_by_the_client_keeps_the_payments_host_reference(
    book: Book,
) -> None:
    entry = book.pay("KP-1")
    book.journal.transition(entry.id, EntryState.REVERSED, {"reversed": True})  # as Client.reverse
    report = run_on(book, [settled("KP-1", state=SettlementState.REVERSED)])
    assert only(report) == {"reversed": ["KP-1"]}
    # The typed column keeps which host payment was reversed, whatever the outcome JSON says.
    assert report.reversed[0].journal_host_reference == "H-KP-1"


@pytest.mark.parametrize(
    ("journal", "file", "reason"),
    [
        (EntryState.APPLIED, SettlementState.REVERSED, "reversed_in_settlement_only"),
        (EntryState.REVERSED, SettlementState.PAID, "reversed_in_journal_only"),
        (EntryState.DECLINED, SettlementState.REVERSED, "reversed_but_not_applied"),
        (EntryState.NOT_APPLIED, SettlementState.REVERSED, "reversed_but_not_applied"),
    ],
)
def test_reversed_on_one_side_only_is_a_mismatch(
    book: Book, journal: EntryState, file: SettlementState, reason: str
) -> None:
    book.pay("KP-1", journal)
    report = run_on(book, [settled("KP-1", state=file)])
    assert only(report) == {"amount_mismatch": ["KP-1"]}
    assert report.amount_mismatch[0].reason == reason
    assert not report.balanced


def test_reversed_with_another_amount_is_a_mismatch(book: Book) -> None:
    book.pay("KP-1", EntryState.REVERSED)
    report = run_on(book, [settled("KP-1", state=SettlementState.REVERSED, amount=1)])
    assert report.amount_mismatch[0].reason == "amount"


@pytest.mark.parametrize("state", [EntryState.PENDING, EntryState.UNKNOWN])
def test_unresolved(book: Book, state: EntryState) -> None:
    book.pay("KP-1", state)
    book.pay("KP-2", state)
    report = run_on(book, [settled("KP-1")])
    assert only(report) == {"unresolved": ["KP-1", "KP-2"]}
    assert [line.reason for line in report.unresolved] == ["in_settlement", "not_in_settlement"]
    assert all(line.journal_state is state for line in report.unresolved)
    assert report.totals.journal_unresolved == Sum(2, 2 * ONE_MONTH, 2 * FEE)
    assert not report.balanced


@pytest.mark.parametrize("state", [EntryState.DECLINED, EntryState.NOT_APPLIED])
def test_declined_but_settled(book: Book, state: EntryState) -> None:
    book.pay("KP-1", state)
    report = run_on(book, [settled("KP-1")])
    assert only(report) == {"declined_but_settled": ["KP-1"]}
    assert report.declined_but_settled[0].journal_state is state
    assert not report.balanced


def test_declined_and_absent_from_the_file_agree(book: Book) -> None:
    book.pay("KP-1", EntryState.DECLINED)
    book.pay("KP-2", EntryState.NOT_APPLIED, amount=2 * ONE_MONTH)
    report = run_on(book, [])
    assert only(report) == {}
    assert report.balanced
    assert report.totals.journal_not_applied == Sum(2, 3 * ONE_MONTH, 2 * FEE)


def test_other_day(book: Book) -> None:
    late = dt.datetime(2026, 11, 21, 23, 59, 58, tzinfo=JAKARTA)
    book.pay("KP-LATE", at=late)
    book.pay("KP-OLD", at=late - dt.timedelta(hours=1))  # not in today's file: ignored
    book.pay("KP-BAD", at=late, amount=ONE_MONTH)
    records = [settled("KP-LATE"), settled("KP-BAD", amount=1)]
    report = run_on(book, records)
    assert only(report) == {"amount_mismatch": ["KP-BAD"], "other_day": ["KP-LATE"]}
    assert report.other_day[0].journal_day == YESTERDAY
    assert report.amount_mismatch[0].journal_day == YESTERDAY
    assert report.totals.journal_other_day == Sum(2, 2 * ONE_MONTH, 2 * FEE)
    assert report.totals.journal_applied == Sum()
    # The same file against yesterday: the late payment is missing there, KP-OLD too.
    yesterday = run_on(book, [], day=YESTERDAY)
    assert only(yesterday) == {"missing_in_settlement": ["KP-LATE", "KP-OLD", "KP-BAD"]}


def test_other_day_alone_is_balanced(book: Book) -> None:
    book.pay("KP-LATE", at=NOW - dt.timedelta(days=1))
    report = run_on(book, [settled("KP-LATE")])
    assert only(report) == {"other_day": ["KP-LATE"]}
    assert report.balanced


def test_the_day_is_the_wib_day_of_the_request(book: Book) -> None:
    utc = dt.UTC
    book.pay("KP-EARLY", at=dt.datetime(2026, 11, 21, 17, 30, tzinfo=utc))  # 00:30 WIB on the 22nd
    book.pay("KP-EVE", at=dt.datetime(2026, 11, 22, 16, 59, tzinfo=utc))  # 23:59 WIB on the 22nd
    book.pay("KP-NEXT", at=dt.datetime(2026, 11, 22, 17, 0, tzinfo=utc))  # 00:00 WIB on the 23rd
    report = run_on(book, [])
    assert only(report) == {"missing_in_settlement": ["KP-EARLY", "KP-EVE"]}


def test_other_channels_and_operations_are_ignored(book: Book) -> None:
    book.pay("KP-1", channel="linkaja")
    book.pay("KP-1", operation="reverse")
    report = run_on(book, [])
    assert only(report) == {}
    report = reconcile([], book.entries(), channel=CHANNEL, day=DAY)
    assert only(report) == {}


def test_two_entries_for_one_reference_are_refused(book: Book) -> None:
    entry = book.pay("KP-1")
    with pytest.raises(ValueError, match="two journal entries"):
        reconcile([], [entry, entry], channel=CHANNEL, day=DAY)


def test_a_mixed_day_and_its_totals(book: Book) -> None:
    book.pay("A", amount=ONE_MONTH)
    book.pay("B", amount=2 * ONE_MONTH, periods=(OCT, NOV))
    book.pay("C", EntryState.REVERSED)
    book.pay("D", EntryState.UNKNOWN)
    book.pay("E", EntryState.DECLINED)
    book.pay("F")
    records = [
        settled("A"),
        settled("B", amount=2 * ONE_MONTH + 500, periods=(OCT, NOV)),
        settled("C", state=SettlementState.REVERSED),
        settled("D"),
        settled("G", fee=0),
    ]
    report = run_on(book, records)
    assert only(report) == {
        "matched": ["A"],
        "amount_mismatch": ["B"],
        "missing_in_journal": ["G"],
        "missing_in_settlement": ["F"],
        "reversed": ["C"],
        "unresolved": ["D"],
    }
    totals = report.totals
    assert totals.file_paid == Sum(4, 5 * ONE_MONTH + 500, 3 * FEE)
    assert totals.file_reversed == Sum(1, ONE_MONTH, FEE)
    assert totals.journal_applied == Sum(3, 4 * ONE_MONTH, 3 * FEE)
    assert totals.journal_reversed == Sum(1, ONE_MONTH, FEE)
    assert totals.journal_unresolved == Sum(1, ONE_MONTH, FEE)
    assert totals.journal_not_applied == Sum(1, ONE_MONTH, FEE)
    assert not report.balanced
    document = report.as_dict()
    assert document["totals"]["file"]["paid"] == {
        "count": 4,
        "amount": 5 * ONE_MONTH + 500,
        "admin_fee": 3 * FEE,
    }
    assert document["categories"]["amount_mismatch"][0]["reason"] == "amount"


# The partition, as a property ------------------------------------------------------------------

# The first choice of each is the agreeing one, so plenty of references match.
_JOURNAL_STATES = st.sampled_from(
    [EntryState.APPLIED, EntryState.APPLIED, EntryState.REVERSED, None, *EntryState]
)
_payment = st.fixed_dictionaries(
    {
        "journal": _JOURNAL_STATES,
        "other_day": st.sampled_from([False, False, True]),
        "copies": st.sampled_from([1, 1, 1, 0, 2]),
        "file_state": st.sampled_from([SettlementState.PAID, SettlementState.REVERSED]),
        "amount_delta": st.sampled_from([0, 0, 0, 700]),
        "fee_delta": st.sampled_from([0, 0, 0, -2_500]),
        "shared_host": st.sampled_from([False, False, False, True]),  # with its index % 3 group
        "foreign": st.sampled_from([False, False, False, False, True]),
    }
)


def _scenario(
    payments: list[dict[str, Any]],
) -> tuple[list[SettlementRecord], list[Entry], Journal]:
    journal = Journal(":memory:", clock=lambda: NOW)
    book = Book.__new__(Book)
    book.journal = journal
    records = []
    for index, p in enumerate(payments):
        reference = f"R{index}"
        amount = ONE_MONTH * (1 + index % 3)
        periods = tuple(NOV - k for k in range(1 + index % 3))[::-1]
        if p["journal"] is not None:
            at = NOW - dt.timedelta(days=1) if p["other_day"] else NOW
            book.pay(reference, p["journal"], amount=amount, at=at, periods=periods)
        host = f"H-SHARED-{index % 3}" if p["shared_host"] else f"H-{reference}"
        for _ in range(p["copies"]):
            records.append(
                settled(
                    reference,
                    amount=amount + p["amount_delta"],
                    fee=FEE + p["fee_delta"],
                    state=p["file_state"],
                    host=host,
                    periods=periods,
                    channel="linkaja" if p["foreign"] else CHANNEL,
                )
            )
    return records, journal.entries(), journal


def requested_day(entry: Entry) -> dt.date:
    return dt.datetime.fromisoformat(entry.request["request"]["requested_at"]).date()


@given(payments=st.lists(_payment, max_size=25), shuffle=st.randoms(use_true_random=False))
def test_every_reference_lands_in_exactly_one_category(
    payments: list[dict[str, Any]], shuffle: Any
) -> None:
    records, entries, journal = _scenario(payments)
    journal.close()
    shuffle.shuffle(records)
    shuffle.shuffle(entries)
    report = reconcile(records, entries, channel=CHANNEL, day=DAY)

    file_refs = {r.reference for r in records if r.channel == CHANNEL}
    today = {e.reference: e for e in entries if requested_day(e) == DAY}
    elsewhere = {e.reference: e for e in entries if e.reference not in today}
    quiet = {EntryState.DECLINED, EntryState.NOT_APPLIED}
    relevant = {r for r, e in today.items() if r in file_refs or e.state not in quiet}
    relevant |= {r for r in elsewhere if r in file_refs}
    foreign = [r for r in records if r.channel != CHANNEL]

    # Every reference in exactly one category (foreign records apart: always missing_in_journal)
    owners: dict[str, set[str]] = {}
    for name, lines in report.categories().items():
        for line in lines:
            if name == "missing_in_journal" and line.reason == "channel":
                continue
            owners.setdefault(line.reference, set()).add(name)
    assert set(owners) == file_refs | relevant
    assert all(len(names) == 1 for names in owners.values()), owners
    assert [line.reference for line in report.missing_in_journal if line.reason == "channel"] == [
        r.reference for r in foreign
    ]

    # One line per reference, except duplicated: one per record.
    per_ref = Counter(r.reference for r in records if r.channel == CHANNEL)
    for name, lines in report.categories().items():
        counted = Counter(
            line.reference
            for line in lines
            if not (name == "missing_in_journal" and line.reason == "channel")
        )
        for reference, count in counted.items():
            assert count == (per_ref[reference] if name == "duplicated" else 1)
    assert all(per_ref[line.reference] > 1 or line.reason for line in report.duplicated)

    # Sums add up: the file side to the whole file, the journal side to the relevant entries.
    totals = report.totals
    file_sum = Sum(
        sum(t.file.count for t in totals.categories.values()),
        sum(t.file.amount for t in totals.categories.values()),
        sum(t.file.admin_fee for t in totals.categories.values()),
    )
    whole_file = Sum(
        totals.file_paid.count + totals.file_reversed.count,
        totals.file_paid.amount + totals.file_reversed.amount,
        totals.file_paid.admin_fee + totals.file_reversed.admin_fee,
    )
    assert (
        file_sum
        == whole_file
        == Sum(len(records), sum(r.amount for r in records), sum(r.admin_fee for r in records))
    )
    journal_sum = Sum(
        sum(t.journal.count for t in totals.categories.values()),
        sum(t.journal.amount for t in totals.categories.values()),
        sum(t.journal.admin_fee for t in totals.categories.values()),
    )
    by_ref = {**elsewhere, **today}
    assert journal_sum == Sum(
        len(relevant),
        sum(by_ref[r].request["request"]["amount"] for r in relevant),
        sum(by_ref[r].request["request"]["admin_fee"] for r in relevant),
    )
    day_count = (
        totals.journal_applied.count
        + totals.journal_reversed.count
        + totals.journal_unresolved.count
        + totals.journal_not_applied.count
    )
    assert day_count == len(today)
    assert totals.journal_other_day.count == len([r for r in elsewhere if r in file_refs])

    # Balanced exactly when only the agreeing categories hold lines.
    assert report.balanced == all(
        not lines for name, lines in report.categories().items() if name not in OK_CATEGORIES
    )
    json.dumps(report.as_dict())


@given(payments=st.lists(_payment, max_size=25))
def test_the_journal_file_and_its_entries_reconcile_alike(payments: list[dict[str, Any]]) -> None:
    # reconcile_journal reads a few projected fields per entry (month lists loaded once per
    # distinct text); reconcile reads whole entries. Both must see the same journal.
    records, entries, journal = _scenario(payments)
    try:
        projected = reconcile_journal(records, journal, channel=CHANNEL, day=DAY)
    finally:
        journal.close()
    assert projected == reconcile(records, entries, channel=CHANNEL, day=DAY)


def test_journaled_months_that_are_not_months_read_as_none(book: Book) -> None:
    # Month lists are split once per distinct text: a bad one is no months for every entry
    # that carries it, and a good one is unaffected.
    for reference in ("KP-1", "KP-2", "KP-3"):
        book.pay(reference)
    with sqlite3.connect(book.journal.path) as db:
        db.execute(
            "UPDATE entries SET periods = ? WHERE reference IN ('KP-1', 'KP-2')",
            ("2026-11,November",),
        )
    db.close()
    report = run_on(book, [settled("KP-1"), settled("KP-2"), settled("KP-3")])
    assert only(report) == {"matched": ["KP-3"], "amount_mismatch": ["KP-1", "KP-2"]}
    assert {line.reason for line in report.amount_mismatch} == {"periods"}


# The command -----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich wraps table cells to the terminal width; a wide one keeps references whole."""
    monkeypatch.setenv("COLUMNS", "250")


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="jamsostek-channels")
    commands = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true")
    common.add_argument("--as-of")
    command.add_parser(commands, common)
    args = parser.parse_args(["reconcile", *argv])
    code: int = args.run(args)
    return code


def write_records(path: Path, records: list[SettlementRecord]) -> Path:
    path.write_text(json.dumps([unstructure(r) for r in records]), encoding="utf-8")
    return path


def json_run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, Any]:
    code = cli([*argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


@pytest.fixture
def files(tmp_path: Path, book: Book) -> tuple[Path, Path]:
    """A journal with two applied payments, and the matching settlement as JSON."""
    book.pay("KP-1")
    book.pay("KP-2", serial=2)
    settlement = write_records(tmp_path / "settlement.json", [settled("KP-1"), settled("KP-2")])
    return settlement, Path(book.journal.path)


def test_cli_balanced(capsys: pytest.CaptureFixture[str], files: tuple[Path, Path]) -> None:
    settlement, journal = files
    argv = ["--channel", CHANNEL, "--format", "json", "--journal", str(journal), str(settlement)]
    code, document = json_run(capsys, argv)
    assert code == 0
    assert set(document) == {"channel", "day", "balanced", "totals", "categories"}
    assert document["channel"] == CHANNEL
    assert document["day"] == DAY.isoformat()  # taken from the records' paid_at
    assert document["balanced"] is True
    assert list(document["categories"]) == list(CATEGORIES)
    line = document["categories"]["matched"][0]
    assert line["reference"] == "KP-1"
    assert line["file_state"] == "paid"
    assert line["journal_state"] == "applied"
    assert line["periods"] == ["2026-11"]
    assert line["file_amount"] == ONE_MONTH
    assert line["journal_admin_fee"] == FEE
    assert document["totals"]["categories"]["matched"]["lines"] == 2
    assert document["totals"]["journal"]["applied"]["amount"] == 2 * ONE_MONTH
    assert cli(argv) == 0  # the readable report too
    out = capsys.readouterr().out
    assert "BALANCED" in out
    assert "NOT BALANCED" not in out


def test_cli_not_balanced(capsys: pytest.CaptureFixture[str], tmp_path: Path, book: Book) -> None:
    book.pay("KP-1")
    book.pay("KP-2")
    settlement = write_records(
        tmp_path / "s.json", [settled("KP-1", amount=1), settled("[bold]x"), settled("[bold]x")]
    )
    argv = [
        "--channel",
        CHANNEL,
        "--format",
        "json",
        "--journal",
        book.journal.path,
        "--day",
        DAY.isoformat(),
        str(settlement),
    ]
    code, document = json_run(capsys, argv)
    assert code == 1
    assert document["balanced"] is False
    names = {name for name, lines in document["categories"].items() if lines}
    assert names == {"amount_mismatch", "duplicated", "missing_in_settlement"}
    assert cli(argv) == 1
    out = capsys.readouterr().out
    assert "[bold]x" in out  # shown as text, never read as markup
    assert "NOT BALANCED" in out
    assert "KP-2" in out  # missing in the settlement: every non-matched line is listed


def test_cli_shows_at_most_some_lines_per_category(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    book: Book,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(command, "SHOWN", 2)
    settlement = write_records(tmp_path / "s.json", [settled(f"X{i}") for i in range(5)])
    argv = ["--channel", CHANNEL, "--format", "json", "--journal", book.journal.path]
    code = cli([*argv, str(settlement)])
    assert code == 1
    out = capsys.readouterr().out
    assert "X1" in out
    assert "X2" not in out
    assert "and 3 more" in out


def _problems(capsys: pytest.CaptureFixture[str], argv: list[str]) -> list[dict[str, str]]:
    code, document = json_run(capsys, argv)
    assert code == 2
    assert all(set(p) == {"field", "code", "message_id", "message_en"} for p in document["errors"])
    errors: list[dict[str, str]] = document["errors"]
    return errors


@pytest.mark.parametrize(
    ("content", "field", "code"),
    [
        (b"[{", "file", "file.not_json"),
        (b"\xff\xfe\x00", "file", "file.encoding"),
        (b'{"records": []}', "file", "field.type"),
        (b"[1]", "records[0]", "field.type"),
    ],
)
def test_cli_unreadable_file(
    capsys: pytest.CaptureFixture[str],
    files: tuple[Path, Path],
    tmp_path: Path,
    content: bytes,
    field: str,
    code: str,
) -> None:
    _, journal = files
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    errors = _problems(
        capsys, ["--channel", CHANNEL, "--format", "json", "--journal", str(journal), str(bad)]
    )
    assert [(e["field"], e["code"]) for e in errors] == [(field, code)]


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"amount": None}, "records[0].amount", "field.required"),
        ({"amount": 16800.5}, "records[0].amount", "field.type"),
        ({"amount": "16800"}, "records[0].amount", "field.type"),
        ({"admin_fee": True}, "records[0].admin_fee", "field.type"),
        ({"state": "refunded"}, "records[0].state", "field.type"),
        ({"paid_at": "2026-11-22T10:00:00"}, "records[0].paid_at", "field.type"),
        ({"paid_at": "yesterday"}, "records[0].paid_at", "field.type"),
        ({"periods": ["2026-13"]}, "records[0].periods", "period.format"),
        ({"nik": "3201015508950001"}, "records[0].nik", "field.unknown"),
        ({"amount": -1}, "records[0].amount", "amount.negative"),
        ({"admin_fee": -2500}, "records[0].admin_fee", "amount.negative"),
        ({"amount": -0.5}, "records[0].amount", "amount.negative"),
        ({"amount": MAX_AMOUNT + 1}, "records[0].amount", "amount.too_large"),
        ({"amount": 10**28}, "records[0].amount", "amount.too_large"),  # was a traceback
        ({"admin_fee": 1e28}, "records[0].admin_fee", "amount.too_large"),
        ({"amount": 10**39}, "records[0].amount", "amount.too_large"),
    ],
)
def test_cli_bad_records(
    capsys: pytest.CaptureFixture[str],
    files: tuple[Path, Path],
    tmp_path: Path,
    change: dict[str, Any],
    field: str,
    code: str,
) -> None:
    _, journal = files
    item = unstructure(settled("KP-1"))
    item.update(change)
    item = {k: v for k, v in item.items() if v is not None}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([unstructure(settled("KP-0")), item]), encoding="utf-8")
    errors = _problems(
        capsys, ["--channel", CHANNEL, "--format", "json", "--journal", str(journal), str(bad)]
    )
    field = field.replace("records[0]", "records[1]")
    assert [(e["field"], e["code"]) for e in errors] == [(field, code)]
    assert "3201015508950001" not in json.dumps(errors)


def test_cli_every_bad_record_at_once(
    capsys: pytest.CaptureFixture[str], files: tuple[Path, Path], tmp_path: Path
) -> None:
    _, journal = files
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"reference": 1}, {}]), encoding="utf-8")
    errors = _problems(
        capsys, ["--channel", CHANNEL, "--format", "json", "--journal", str(journal), str(bad)]
    )
    assert ("records[0].reference", "field.type") in {(e["field"], e["code"]) for e in errors}
    assert len([e for e in errors if e["field"].startswith("records[1].")]) == 9
    assert cli(["--channel", CHANNEL, "--format", "json", "--journal", str(journal), str(bad)]) == 2
    lines = capsys.readouterr().err.splitlines()  # one line a problem, as every command's errors
    assert len(lines) == len(errors)
    assert all(line.startswith("jamsostek-channels: error: [field.") for line in lines)
    assert any("[field.type] records[0].reference: Wrong type" in line for line in lines)


def test_cli_missing_file_and_journal(
    capsys: pytest.CaptureFixture[str], files: tuple[Path, Path], tmp_path: Path
) -> None:
    settlement, journal = files
    argv = ["--channel", CHANNEL, "--format", "json", "--journal", str(journal)]
    errors = _problems(capsys, [*argv, str(tmp_path / "nope.json")])
    assert [(e["field"], e["code"]) for e in errors] == [("file", "file.unreadable")]
    absent = tmp_path / "absent.sqlite"
    errors = _problems(
        capsys,
        ["--channel", CHANNEL, "--format", "json", "--journal", str(absent), str(settlement)],
    )
    assert [(e["field"], e["code"]) for e in errors] == [("journal", "file.unreadable")]
    assert not absent.exists()  # never created


def test_cli_default_journal_is_in_the_working_directory(
    capsys: pytest.CaptureFixture[str],
    files: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settlement, _ = files
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    errors = _problems(capsys, ["--channel", CHANNEL, "--format", "json", str(settlement)])
    assert errors[0]["field"] == "journal"
    assert not (workdir / command.DEFAULT_JOURNAL).exists()


@pytest.mark.parametrize("content", ["sqlite", "text"])
def test_cli_refuses_what_is_not_a_journal(
    capsys: pytest.CaptureFixture[str], files: tuple[Path, Path], tmp_path: Path, content: str
) -> None:
    settlement, _ = files
    other = tmp_path / "other.db"
    if content == "sqlite":
        with sqlite3.connect(other) as db:
            db.execute("CREATE TABLE customers (id INTEGER)")
        db.close()
    else:
        other.write_text("not a database at all, just some text" * 100)
    before = other.read_bytes()
    errors = _problems(
        capsys, ["--channel", CHANNEL, "--format", "json", "--journal", str(other), str(settlement)]
    )
    assert [(e["field"], e["code"]) for e in errors] == [("journal", "message.malformed")]
    assert other.read_bytes() == before  # left untouched


def test_cli_needs_a_day_when_the_file_spans_several(
    capsys: pytest.CaptureFixture[str], files: tuple[Path, Path], tmp_path: Path
) -> None:
    _, journal = files
    two_days = write_records(
        tmp_path / "s.json", [settled("KP-1"), settled("KP-2", at=NOW - dt.timedelta(days=1))]
    )
    argv = ["--channel", CHANNEL, "--format", "json", "--journal", str(journal), str(two_days)]
    errors = _problems(capsys, argv)
    assert [(e["field"], e["code"]) for e in errors] == [("day", "field.required")]
    empty = write_records(tmp_path / "empty.json", [])
    argv = ["--channel", CHANNEL, "--format", "json", "--journal", str(journal), str(empty)]
    assert _problems(capsys, argv)[0]["field"] == "day"
    code, document = json_run(capsys, [*argv, "--day", "2026-11-20"])
    assert code == 0  # nothing on either side that day
    assert document["day"] == "2026-11-20"


# Amounts out of range: typed problems, never a traceback -----------------------------------------


@pytest.mark.parametrize("as_json", [True, False])
def test_cli_refuses_an_amount_too_large_to_print(
    capsys: pytest.CaptureFixture[str], files: tuple[Path, Path], tmp_path: Path, as_json: bool
) -> None:
    """Rupiah formatting raised decimal.InvalidOperation from deep inside lokal on 10**28."""
    _, journal = files
    bad = tmp_path / "huge.json"
    bad.write_text(json.dumps([unstructure(settled("KP-1", amount=10**28))]), encoding="utf-8")
    argv = ["--channel", CHANNEL, "--format", "json", "--journal", str(journal), str(bad)]
    assert cli([*argv, *(["--json"] if as_json else [])]) == 2
    captured = capsys.readouterr()
    text = captured.out if as_json else captured.err
    assert "amount.too_large" in text
    assert "Traceback" not in captured.out + captured.err


def test_the_largest_amount_is_accepted(book: Book) -> None:
    book.pay("KP-1")
    report = run_on(book, [settled("KP-1", amount=MAX_AMOUNT, fee=MAX_AMOUNT)])
    assert [line.reason for line in report.amount_mismatch] == ["amount+admin_fee"]


@pytest.mark.parametrize(
    ("amount", "fee", "codes"),
    [
        (-1, FEE, [("records[1].amount", "amount.negative")]),
        (ONE_MONTH, MAX_AMOUNT + 1, [("records[1].admin_fee", "amount.too_large")]),
        (
            10**28,
            -1,
            [
                ("records[1].amount", "amount.too_large"),
                ("records[1].admin_fee", "amount.negative"),
            ],
        ),
        (True, FEE, [("records[1].amount", "field.type")]),
    ],
)
def test_reconcile_refuses_records_a_reader_let_through(
    book: Book, amount: Any, fee: Any, codes: list[tuple[str, str]]
) -> None:
    """A channel reader (or a library caller) may build records without the JSON reader's
    checks: reconcile refuses them itself, before matching or summing anything."""
    book.pay("KP-1")
    records = [settled("KP-0"), settled("KP-1", amount=amount, fee=fee)]
    with pytest.raises(InvalidInput) as info:
        run_on(book, records)
    assert [(p.field, p.code) for p in info.value.problems] == codes
    with pytest.raises(InvalidInput):
        reconcile(records, book.entries(), channel=CHANNEL, day=DAY)


def negative_reader(path: Path) -> tuple[dt.date, list[SettlementRecord]]:
    return DAY, [settled("KP-1", fee=-FEE)]


def test_cli_refuses_what_a_channel_reader_let_through(
    capsys: pytest.CaptureFixture[str],
    files: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, journal = files
    native = tmp_path / "settlement.txt"
    native.write_text("anything", encoding="utf-8")
    with reading_with(negative_reader):
        errors = _problems(capsys, ["--channel", CHANNEL, "--journal", str(journal), str(native)])
    assert [(e["field"], e["code"]) for e in errors] == [
        ("records[0].admin_fee", "amount.negative")
    ]


hostile_numbers = (
    st.integers()
    | st.integers(min_value=MAX_AMOUNT - 2, max_value=MAX_AMOUNT + 2)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.booleans()
    | st.none()
    | st.text(max_size=5)
    | st.decimals(allow_nan=False, allow_infinity=False).map(str)
)


@settings(max_examples=200, deadline=None)
@given(amount=hostile_numbers, fee=hostile_numbers)
def test_hostile_amounts_raise_only_typed_problems(amount: Any, fee: Any) -> None:
    """Whatever a file says the amount is, reading it gives records in range or InvalidInput."""
    item = unstructure(settled("KP-1"))
    item.update(amount=amount, admin_fee=fee)
    text = json.dumps([item])  # NaN and Infinity are written as JSON's non-standard literals
    codes: set[str] = set()
    records: list[SettlementRecord] = []
    try:
        records = command.settlement_records(loads_json(text.encode()))
    except InvalidInput as error:
        codes = {p.code for p in error.problems}
    allowed = {"field.type", "amount.negative", "amount.too_large", "file.number_range"}
    assert codes <= allowed
    for record in records:
        for value in (record.amount, record.admin_fee):
            assert type(value) is int
            assert 0 <= value <= MAX_AMOUNT
    assert bool(codes) != bool(records)


# Channel readers, looked up lazily --------------------------------------------------------------

READ_CALLS: list[Path] = []


def fake_reader(path: Path) -> tuple[dt.date, list[SettlementRecord]]:
    """A channel's settlement reader, as its registry spec holds it: a Path in, (day, records)
    out."""
    READ_CALLS.append(path)
    text = path.read_text(encoding="utf-8")
    if text == "broken":
        raise InvalidInput([Problem.of("file", "message.malformed", {"reason": "line 3"})])
    return DAY, [settled(reference) for reference in text.split()]


def test_cli_channel_reader(
    capsys: pytest.CaptureFixture[str],
    files: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, journal = files
    native = tmp_path / "settlement.txt"
    native.write_text("KP-1 KP-2", encoding="utf-8")
    argv = ["--channel", CHANNEL, "--journal", str(journal), str(native)]
    with reading_with(fake_reader):
        code, document = json_run(capsys, argv)
        assert code == 0
        assert document["day"] == DAY.isoformat()
        assert READ_CALLS[-1] == native
        errors = _problems(capsys, [*argv, "--day", "2026-11-21"])  # the file says the 22nd
        assert [(e["field"], e["code"]) for e in errors] == [("day", "field.type")]
        native.write_text("broken", encoding="utf-8")
        errors = _problems(capsys, argv)
        assert [(e["field"], e["code"]) for e in errors] == [("file", "message.malformed")]


def test_cli_channel_without_a_reader(
    capsys: pytest.CaptureFixture[str],
    files: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settlement, journal = files
    argv = ["--journal", str(journal), str(settlement)]
    errors = _problems(capsys, ["--channel", "nosuchchannel", *argv])
    assert [(e["field"], e["code"]) for e in errors] == [("channel", "channel.unknown")]
    assert CHANNEL in errors[0]["message_en"]  # the installed channels are named
    later = attrs.evolve(registry.spec(CHANNEL), name="later", settlement_reader=None)
    with registry.registered(later):
        errors = _problems(capsys, ["--channel", "later", *argv])
    assert [(e["field"], e["code"]) for e in errors] == [("channel", "capability.operation")]
    assert "--format json" in errors[0]["message_en"]
    assert "later" not in registry.names()  # registered only inside the block


def test_readers_are_not_imported_with_the_command() -> None:
    import subprocess
    import sys

    script = (
        "import sys; from jamsostek_channels.cli import reconcile; "
        "from jamsostek_channels import registry; "
        "assert registry.spec('kantorpos').settlement_reader is not None; "
        "print(sorted(m for m in sys.modules if m.endswith('settlement')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


# Scale -----------------------------------------------------------------------------------------


def test_twenty_thousand_lines() -> None:
    size = 20_000
    journal = Journal(":memory:", clock=lambda: NOW)
    book = Book.__new__(Book)
    book.journal = journal
    records = []
    for index in range(size):
        state = EntryState.DECLINED if index % 500 == 3 else EntryState.APPLIED
        book.pay(f"S{index:06d}", state, serial=index % 9999 + 1)
        if state is EntryState.APPLIED and index % 1000 != 7:
            records.append(settled(f"S{index:06d}", amount=ONE_MONTH + (index % 2000 == 11)))
    report = reconcile_journal(records, journal, channel=CHANNEL, day=DAY)
    journal.close()
    assert len(report.missing_in_settlement) == 20
    assert len(report.amount_mismatch) == 10
    assert len(report.matched) == size - 40 - 20 - 10
    assert report.totals.journal_not_applied.count == 40
    assert report.totals.file_paid.count == len(records)


def test_cli_report_escapes_control_characters_from_the_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, book: Book
) -> None:
    reference = "\x1b[2J\x1b]0;x\x07KP-9\u202e\r"
    settlement = write_records(tmp_path / "s.json", [settled(reference)])
    argv = ["--channel", CHANNEL, "--format", "json", "--journal", book.journal.path]
    assert cli([*argv, "--day", DAY.isoformat(), str(settlement)]) == 1
    out = capsys.readouterr().out
    for char in "\x1b\x07\u202e\r":
        assert char not in out
    assert "\\x1b[2J\\x1b]0;x\\x07KP-9\\u202e\\x0d" in out
    assert cli([*argv, "--day", DAY.isoformat(), "--json", str(settlement)]) == 1
    out = capsys.readouterr().out
    assert "\u202e" not in out
    assert json.loads(out)["categories"]["missing_in_journal"][0]["reference"] == reference
