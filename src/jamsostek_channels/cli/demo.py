"""``jamsostek-channels demo``: a working day, end to end, on synthetic data.

1. validate a generated batch of participants (some deliberately wrong) with a progress bar;
2. price a year of contributions for typical workers: the PP 50/2025 discount at work;
3. against the embedded sandbox on loopback, for every built channel: register a worker with
   the OTP sent to their phone, quote and pay for demo participants, print a receipt;
4. one payment's answer is dropped on the wire after the host applied it: the client resolves it
   by status inquiry, and the host's ledger shows it once;
5. the day's settlement from each channel is matched against the journal (a switch's file
   fetched through the sandbox's control API, as a team in any language would).
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jamsostek_channels.cli.exits import Exit

__all__ = ["add_parser"]


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser(
        "demo",
        parents=[common],
        help="run the end-to-end demonstration on synthetic participants",
    )
    parser.add_argument("--people", type=int, default=2000, help="batch size (default 2000)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.set_defaults(run=run)


def _clock(as_of: dt.date | None) -> Callable[[], dt.datetime]:
    """Real time, or time running from 10:00 WIB on ``as_of``."""
    from jamsostek_channels import clock

    if as_of is None:
        return clock.now
    start = dt.datetime.combine(as_of, dt.time(10, 0), clock.JAKARTA)
    began = time.monotonic()
    return lambda: start + dt.timedelta(seconds=time.monotonic() - began)


def _validate(args: argparse.Namespace, today: dt.date, out: Any) -> dict[str, Any]:
    from rich.progress import Progress

    from jamsostek_channels.shortcuts import check_participant  # the packaged rules
    from jamsostek_channels.testing import PersonFactory

    people = PersonFactory(args.seed, as_of=today, invalid_ratio=0.08).take(args.people)
    codes: Counter[str] = Counter()
    valid = caught = spoiled = 0
    with Progress(console=out, disable=args.json or not out.is_terminal) as progress:
        task = progress.add_task("Memeriksa peserta / checking participants", total=len(people))
        for person in people:
            result = check_participant(person.data, as_of=today)
            valid += result.ok
            codes.update(p.code for p in result.problems)
            if person.expected_problem is not None:
                spoiled += 1
                caught += person.expected_problem in {p.code for p in result.problems}
            progress.advance(task)
    return {
        "checked": len(people),
        "valid": valid,
        "invalid": len(people) - valid,
        "problems": dict(codes.most_common()),
        "spoiled": spoiled,
        "caught": caught,
    }


def _quotes(today: dt.date) -> list[tuple[str, Any]]:
    from jamsostek_channels.model import Payer
    from jamsostek_channels.period import YearMonth
    from jamsostek_channels.shortcuts import quote  # the packaged rules

    month = YearMonth.of(today)
    personas = [
        ("Pedagang pasar / market trader", "pedagang", Payer.self_paid(), 2_800_000),
        ("Ojek online driver", "ojek-online", Payer.self_paid(), 2_800_000),
        (
            "Petani dibayar APBD / farmer paid by APBD",
            "petani",
            Payer("apbd", name="Pemkab Contoh"),
            1_000_000,
        ),
    ]
    return [
        (
            title,
            quote(
                income=income,
                occupations=occupation,
                programs=["jkk", "jkm"],
                start=month,
                months=12,
                payer=payer,
            ),
        )
        for title, occupation, payer, income in personas
    ]


def _working_day(
    args: argparse.Namespace, now: Callable[[], dt.datetime], out: Any
) -> dict[str, Any]:
    """Registrations, payments and a recovered dropped answer at every channel; at the switches
    (TCP), a payment and a lost answer each."""
    from jamsostek_channels.channel import Operation, ReversalState
    from jamsostek_channels.clock import JAKARTA
    from jamsostek_channels.errors import JamsostekError
    from jamsostek_channels.journal import EntryState, Journal
    from jamsostek_channels.model import CoverageState
    from jamsostek_channels.receipts import render_text
    from jamsostek_channels.reconcile import reconcile_journal
    from jamsostek_channels.testing import PersonFactory
    from jamsostek_channels.testing.sandbox import Sandbox
    from jamsostek_channels.validation import parse_participant

    today = now().astimezone(JAKARTA).date()
    sandbox = Sandbox(seed=args.seed, demo=16, clock=now).start()
    summary: dict[str, Any] = {"sandbox": sandbox.base_url, "channels": {}}
    receipts: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="jamsostek-demo-") as scratch:
            journal = Journal(Path(scratch) / "journal.sqlite", clock=now)
            payable = [
                p["nik"]
                for p in sandbox.demo_participants
                if sandbox.host.coverage(p["nik"]).state is not CoverageState.LAPSED
            ]
            newcomers = [
                parse_participant(person.data, as_of=today, rules=sandbox.host.rules)
                for person in PersonFactory(args.seed + 1, as_of=today).take(len(sandbox.channels))
            ]
            for index, name in enumerate(sandbox.channels):
                client = sandbox.client(name, journal=journal, clock=now, poll_interval=0.05)
                stats: Counter[str] = Counter()
                # A worker registers at the counter; the OTP arrives on their phone.
                challenge = client.register(newcomers[index], reference=f"REG-{name}-{index}")
                otp = sandbox.host.last_otp(newcomers[index].phone)
                registration = client.confirm_registration(challenge, otp)
                stats["registered"] += 1
                months = client.capabilities.month_counts
                for turn, nik in enumerate(payable[index * 4 : index * 4 + 4]):
                    count = months[turn % len(months)] if turn % 2 else 1
                    reference = f"{name.upper()}-{turn:04d}"
                    if turn == 1:
                        # The answer to this payment is lost after the host applied it.
                        sandbox.faults.inject("drop", match=reference)
                        stats["dropped"] += 1
                    try:
                        receipt = client.pay(nik, months=count, reference=reference)
                    except JamsostekError as error:
                        stats[f"declined:{error.code}"] += 1
                        continue
                    stats["paid"] += 1
                    stats["amount"] += receipt.amount
                    stats["fees"] += receipt.admin_fee
                    if turn == 1:
                        entry = journal.get(name, "pay", reference, scope=client.scope)
                        stats["recovered"] += (
                            entry is not None and entry.state is EntryState.APPLIED
                        )
                    if turn == 0:
                        receipts.append(render_text(receipt, client.capabilities.receipt_width))
                if Operation.REVERSE in client.capabilities.operations:
                    # The counter made a mistake: the first payment is reversed the same day.
                    reversal = client.reverse(f"{name.upper()}-0000")
                    stats["reversed"] += reversal.state is ReversalState.REVERSED
                settlement = client.settlement(today)
                report = reconcile_journal(settlement, journal, channel=name, day=today)
                summary["channels"][name] = {
                    **dict(stats),
                    "kpj": registration.kpj,
                    "settlement_records": len(settlement),
                    "settlement_matches_journal": report.balanced,
                    "reconciliation": {
                        category: len(lines) for category, lines in report.categories().items()
                    },
                }
            summary["switches"] = _at_the_switches(sandbox, journal, now, payable)
            ledger = sandbox.host.ledger()
            summary["ledger_payments"] = sum(1 for e in ledger if e.kind == "payment")
            paid = [e.reference for e in ledger if e.kind == "payment"]
            summary["ledger_references_unique"] = len(set(paid)) == len(paid)
            journal.close()
    finally:
        sandbox.stop()
    summary["receipts"] = receipts
    return summary


def _at_the_switches(
    sandbox: Any, journal: Any, now: Callable[[], dt.datetime], payable: list[str]
) -> dict[str, dict[str, Any]]:
    """At every channel whose fake listens itself (the ISO 8583 switches over TCP): a payment,
    and one whose answer is lost after the host applied it, settled by the channel's policy
    (completed by advice, or undone by reversal: never applied twice, never lost)."""
    from jamsostek_channels.channel import CustomerId
    from jamsostek_channels.clock import business_day
    from jamsostek_channels.errors import HostDeclined
    from jamsostek_channels.journal import EntryState

    def owes(nik: str) -> bool:  # a month to pay now (the counters may have paid it already)
        try:
            sandbox.host.inquire(CustomerId.nik(nik), 1)
        except HostDeclined:
            return False
        return True

    people = [nik for nik in payable if owes(nik)]
    done: dict[str, dict[str, Any]] = {}
    if not people:
        return done
    for index, name in enumerate(sandbox.servers):
        client = sandbox.client(name, journal=journal, clock=now)
        first, second = (people[(2 * index + k) % len(people)] for k in (0, 1))
        receipt = client.pay(first, months=1, reference=f"{name.upper()}-T0000")
        lost = f"{name.upper()}-T0001"
        sandbox.faults.inject("drop", match=lost, prefix=f"/{name}/")
        try:
            client.pay(second, months=1, reference=lost)
        except HostDeclined as error:
            if error.code != "payment.reversed":
                raise
        entry = journal.get(name, "pay", lost, scope=client.scope)
        state = entry.state if entry is not None else None
        applied = sandbox.host.applied_references(name)
        day = business_day(now(), client.capabilities.business_day_cutoff)
        records, report = _reconcile_switch(sandbox, journal, name, day)
        done[name] = {
            "paid": 1 + (state is EntryState.APPLIED),
            "amount": receipt.amount,
            "lost_answer": client.capabilities.resolution.value,
            "lost_state": state.value if state is not None else None,
            # advice: applied once; reversal: the host's payment undone
            "settled": (state is EntryState.APPLIED and lost in applied)
            or (state is EntryState.REVERSED and lost not in applied),
            "settlement_records": records,
            "settlement_matches_journal": report.balanced,
        }
    return done


def _reconcile_switch(sandbox: Any, journal: Any, name: str, day: dt.date) -> tuple[int, Any]:
    """The switch's settlement file for ``day`` as a team in any language gets it (the control
    API's ``GET /control/settlement``), read by the channel's reader and held against the
    journal: its line count and the reconciliation."""
    import requests

    from jamsostek_channels import registry
    from jamsostek_channels.reconcile import reconcile_journal

    answer = requests.get(
        f"{sandbox.base_url}/control/settlement",
        params={"channel": name, "day": day.isoformat()},
        timeout=10,
    )
    answer.raise_for_status()
    reader = registry.spec(name).settlement_reader
    assert reader is not None  # every switch reads its own files
    with tempfile.TemporaryDirectory(prefix="jamsostek-settlement-") as scratch:
        saved = Path(scratch) / f"{name}.settlement"
        saved.write_bytes(answer.content)
        file_day, records = reader(saved)
    return len(records), reconcile_journal(records, journal, channel=name, day=file_day)


def run(args: argparse.Namespace) -> Exit:
    from rich.table import Table

    from jamsostek_channels import clock
    from jamsostek_channels.cli.output import console, print_json, print_table, safe
    from jamsostek_channels.cli.quote import print_quote, summary
    from jamsostek_channels.money import rupiah

    now = _clock(args.as_of)
    today = now().astimezone(clock.JAKARTA).date()
    out = console()
    checked = _validate(args, today, out)
    quotes = _quotes(today)
    day = _working_day(args, now, out)
    channels = day["channels"]
    ok = (
        checked["caught"] == checked["spoiled"]
        and all(c.get("recovered") == c.get("dropped") for c in channels.values())
        and all(c["settlement_matches_journal"] for c in channels.values())
        and day["ledger_references_unique"]
        and all(s["settled"] for s in day["switches"].values())
        and all(s["settlement_matches_journal"] for s in day["switches"].values())
    )
    if args.json:
        print_json(
            {
                "as_of": today.isoformat(),
                "participants": checked,
                "quotes": {title: summary(q) for title, q in quotes},
                "working_day": {k: v for k, v in day.items() if k != "receipts"},
                "ok": ok,
            }
        )
        return Exit.OK if ok else Exit.INVALID

    table = Table(
        title=f"{checked['checked']} peserta diperiksa / participants checked", title_justify="left"
    )
    table.add_column("result")
    table.add_column("count", justify="right")
    table.add_row("valid", str(checked["valid"]))
    for code, count in checked["problems"].items():
        table.add_row(code, str(count))
    table.add_row("spoiled rows caught as expected", f"{checked['caught']}/{checked['spoiled']}")
    print_table(table, out)
    for title, priced in quotes[:2]:
        out.print(f"\n[bold]{title}[/bold]")
        print_quote(priced, out)
    out.print(
        f"\n{quotes[2][0]}: 12 bulan / months = {rupiah(quotes[2][1].total)} (APBD: no discount)"
    )
    out.print(f"\n[bold]Hari kerja di sandbox / a working day at {day['sandbox']}[/bold]")
    for receipt in day["receipts"]:
        # Line by line: a receipt's own line breaks are layout, not input to escape.
        out.print("\n".join(safe(line) for line in receipt.splitlines()))
    day_table = Table(title="Kanal / channels", title_justify="left")
    for column in (
        "channel",
        "new",
        "paid",
        "amount",
        "fees",
        "lost->found",
        "reversed",
        "reconciled",
    ):
        day_table.add_column(column)
    for name, stats in channels.items():
        day_table.add_row(
            name,
            str(stats.get("registered", 0)),
            str(stats.get("paid", 0)),
            rupiah(stats.get("amount", 0)),
            rupiah(stats.get("fees", 0)),
            f"{stats.get('dropped', 0)} -> {stats.get('recovered', 0)}",
            str(stats.get("reversed", 0)),
            "balanced" if stats["settlement_matches_journal"] else "NOT BALANCED",
        )
    print_table(day_table, out)
    for name, stats in day["switches"].items():
        how = {"advice": "completed by advice", "reverse": "undone by reversal"}.get(
            stats["lost_answer"], stats["lost_answer"]
        )
        balanced = "balanced" if stats["settlement_matches_journal"] else "NOT BALANCED"
        out.print(
            f"{name} (TCP): paid {rupiah(stats['amount'])}; lost answer {how} -> "
            f"{stats['lost_state']} ({'ok' if stats['settled'] else 'NOT SETTLED'}); "
            f"settlement file {balanced}"
        )
    out.print(
        f"Host ledger: {day['ledger_payments']} payments, each reference once: "
        f"{'yes' if day['ledger_references_unique'] else 'NO'}"
    )
    return Exit.OK if ok else Exit.INVALID
