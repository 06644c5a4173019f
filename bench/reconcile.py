"""Reconciliation figures: a 100,000-line settlement against a 100,000-entry journal file, beside
floors measured in the same run (reported as ratios to them: no absolute time targets, since
machines here differ by 3× from day to day).

The journal is built once through :meth:`Journal.begin`/:meth:`Journal.finish` (two durable
commits per payment, so a few tens of seconds) and cached in ``bench/out/``; the settlement is
built in memory from the same payments with a realistic sprinkle of discrepancies.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.harness import Result, best_per_call

OUT = Path(__file__).parent / "out"
CHANNEL = "kantorpos"
DAY = dt.date(2026, 11, 22)
SIZE = 100_000
#: Bump when the generated journal changes, so a stale cached file is not reused.
VERSION = 3
WIB = dt.timezone(dt.timedelta(hours=7))
START = dt.datetime(2026, 11, 22, 7, 0, tzinfo=WIB)


def _reference(index: int) -> str:
    return f"KP{DAY:%Y%m%d}{index:07d}"


def _state(index: int) -> str:
    """Mostly applied; one in 200 each declined, not applied, unknown, reversed."""
    return {
        17: "declined",
        53: "not-applied",
        101: "unknown",
        149: "reversed",
    }.get(index % 200, "applied")


def _payments(size: int) -> list[tuple[str, dict[str, Any], str, dict[str, Any] | None]]:
    """``(reference, request record, state, outcome)`` per payment, as the client journals."""
    from jamsostek_channels.channel import (
        CustomerId,
        CustomerIdKind,
        PaymentRequest,
        PaymentResult,
        PaymentState,
    )
    from jamsostek_channels.converters import unstructure
    from jamsostek_channels.model import Payer
    from jamsostek_channels.period import YearMonth

    request = unstructure(
        PaymentRequest(
            reference="template",
            customer=CustomerId(CustomerIdKind.NIK, "3201015508950001"),
            periods=(YearMonth(2026, 11),),
            amount=16_800,
            admin_fee=2_500,
            payer=Payer.self_paid(),
            inquiry_id="INQ-template",
            requested_at=START,
            agent_id="KP-40111",
        )
    )
    result = unstructure(
        PaymentResult(
            reference="template",
            state=PaymentState.APPLIED,
            host_reference="template",
            periods=(YearMonth(2026, 11),),
            amount=16_800,
            paid_at=START,
        )
    )
    payments = []
    for index in range(size):
        reference = _reference(index)
        at = (START + dt.timedelta(milliseconds=500 * index)).isoformat()
        months = 1 + index % 3
        amount = 16_800 * months
        body = {
            **request,
            "reference": reference,
            "customer": {"kind": "nik", "value": f"320101550895{index % 9999 + 1:04d}"},
            "periods": [f"2026-{11 - m:02d}" for m in range(months)][::-1],
            "amount": amount,
            "inquiry_id": f"INQ{index:08d}",
            "requested_at": at,
        }
        record = {
            "request": body,
            "name": "S*** R***",
            "programs": ["jkk", "jkm"],
            "months": months,
        }
        state = _state(index)
        outcome: dict[str, Any] | None = None
        if state in ("applied", "reversed"):
            outcome = {
                **result,
                "reference": reference,
                "state": state,
                "host_reference": f"H{index:09d}",
                "periods": body["periods"],
                "amount": amount,
                "paid_at": at,
            }
        elif state in ("declined", "not-applied"):
            outcome = {"code": "host.rejected", "host_code": "4042514"}
        payments.append((reference, record, state, outcome))
    return payments


def journal_file(size: int = SIZE) -> Path:
    """The cached journal: built once (``Journal.begin`` + ``transition`` per payment)."""
    from jamsostek_channels.clock import JAKARTA
    from jamsostek_channels.journal import EntryState, Journal, PaymentFacts

    path = OUT / f"reconcile-journal-{size}-v{VERSION}.sqlite"
    if path.exists():
        return path
    OUT.mkdir(exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    for stale in OUT.glob(partial.name + "*"):
        stale.unlink()
    moment = [START]

    def clock() -> dt.datetime:
        return moment[0]

    with Journal(partial, clock=clock) as journal:
        for reference, record, state, outcome in _payments(size):
            request = record["request"]
            moment[0] = dt.datetime.fromisoformat(request["requested_at"])
            facts = PaymentFacts(  # the typed columns, as Client.pay writes them
                customer=request["customer"]["value"],
                amount=request["amount"],
                admin_fee=request["admin_fee"],
                periods=tuple(request["periods"]),
                business_day=moment[0].astimezone(JAKARTA).date(),
            )
            entry, _ = journal.begin(CHANNEL, "pay", reference, record, attempt=True, facts=facts)
            if state != "pending":
                host = (outcome or {}).get("host_reference")
                journal.transition(entry.id, EntryState(state), outcome, host_reference=host)
    partial.rename(path)
    return path


def settlement(size: int = SIZE) -> list[Any]:
    """The channel's file for the day: every applied or reversed payment, with discrepancies:
    one in 1,000 missing, one in 1,000 with another amount, 100 unknown to the journal, 50
    repeated lines."""
    from jamsostek_channels.channel import SettlementRecord, SettlementState
    from jamsostek_channels.period import YearMonth

    months = {m: tuple(YearMonth(2026, 11 - k) for k in range(m))[::-1] for m in (1, 2, 3)}
    records = []
    for index in range(size):
        state = _state(index)
        if state not in ("applied", "reversed", "unknown") or index % 1000 == 7:
            continue
        count = 1 + index % 3
        amount = 16_800 * count + (1_000 if index % 1000 == 11 else 0)
        records.append(
            SettlementRecord(
                channel=CHANNEL,
                reference=_reference(index),
                host_reference=f"H{index:09d}",
                nik_masked="3201********" + f"{index % 9999 + 1:04d}",
                periods=months[count],
                amount=amount,
                admin_fee=2_500,
                paid_at=START + dt.timedelta(milliseconds=500 * index + 300),
                state=SettlementState.REVERSED if state == "reversed" else SettlementState.PAID,
            )
        )
    extra = [
        SettlementRecord(
            channel=CHANNEL,
            reference=f"KPX{index:07d}",
            host_reference=f"HX{index:08d}",
            nik_masked="3201********0001",
            periods=months[1],
            amount=16_800,
            admin_fee=2_500,
            paid_at=START,
            state=SettlementState.PAID,
        )
        for index in range(100)
    ]
    return records + extra + records[:50]


def _time(fn: Callable[[], object], repeat: int = 3) -> float:
    return best_per_call(fn, number=1, repeat=repeat)


def _collector_paused(fn: Callable[[], object]) -> Callable[[], object]:
    """A floor runs as the library does: with the cycle collector paused (reconcile pauses it
    while it builds its objects), so the ratio compares like with like."""

    def paused() -> object:
        gc.disable()
        try:
            return fn()
        finally:
            gc.enable()

    return paused


def reconcile_figures(size: int = SIZE) -> list[Result]:
    from jamsostek_channels.journal import Journal
    from jamsostek_channels.reconcile import reconcile, reconcile_journal

    path = journal_file(size)
    records = settlement(size)
    journal = Journal(path)
    try:
        entries = journal.entries(CHANNEL, "pay")
        report = reconcile_journal(records, journal, channel=CHANNEL, day=DAY)
        assert len(report.matched) > 0.9 * size, "the generated data should mostly match"

        def whole() -> object:
            return reconcile_journal(records, journal, channel=CHANNEL, day=DAY)

        def in_memory() -> object:
            return reconcile(records, entries, channel=CHANNEL, day=DAY)

        end_to_end = _time(whole)
        matching = _time(in_memory)
    finally:
        journal.close()

    # Floor 1: the same rows read with raw sqlite3 and their request JSON decoded, no objects.
    def read_floor() -> object:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = db.execute(
                "SELECT reference, state, request, outcome FROM entries"
                " WHERE channel = ? AND operation = 'pay'",
                (CHANNEL,),
            ).fetchall()
        finally:
            db.close()
        return [(r[0], r[1], json.loads(r[2]), r[3] and json.loads(r[3])) for r in rows]

    # Floor 2: two dicts of (amount, fee) tuples by reference and their key intersection.
    file_side = [(r.reference, r.amount, r.admin_fee) for r in records]
    journal_side = [
        (e.reference, e.request["request"]["amount"], e.request["request"]["admin_fee"])
        for e in entries
    ]

    def match_floor() -> object:
        left = {ref: (amount, fee) for ref, amount, fee in file_side}
        right = {ref: (amount, fee) for ref, amount, fee in journal_side}
        both = left.keys() & right.keys()
        return sum(left[ref] == right[ref] for ref in both)

    return [
        Result(
            f"reconcile {size:,} lines vs {size:,}-entry journal file",
            end_to_end,
            "raw SQLite read + json.loads of the rows",
            _time(_collector_paused(read_floor)),
            "report only (ratio to floor)",
            True,
        ),
        Result(
            f"reconcile() {size:,} × {size:,} in memory",
            matching,
            "two dicts of tuples + set intersection",
            _time(_collector_paused(match_floor)),
            "report only (ratio to floor)",
            True,
        ),
    ]


def run() -> list[Result]:
    return reconcile_figures()


if __name__ == "__main__":
    from bench.harness import print_results

    started = time.perf_counter()
    print_results(run())
    print(f"({time.perf_counter() - started:.1f} s in all)")
