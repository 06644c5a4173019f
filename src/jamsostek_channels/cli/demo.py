"""``jamsostek-channels demo``: the main job, end to end, on synthetic data.

Today it validates a generated batch of participants (some deliberately wrong), prices a year of
contributions for typical workers to show the PP 50/2025 discount at work, and reads a coverage
status. Channel payments join as the channels are built.
"""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

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


def run(args: argparse.Namespace) -> int:
    from rich.progress import Progress
    from rich.table import Table

    from jamsostek_channels import clock
    from jamsostek_channels.cli.output import console, print_json
    from jamsostek_channels.cli.quote import print_quote, summary
    from jamsostek_channels.converters import unstructure
    from jamsostek_channels.coverage import coverage_status
    from jamsostek_channels.model import Payer
    from jamsostek_channels.period import YearMonth
    from jamsostek_channels.pricing import quote
    from jamsostek_channels.testing import PersonFactory
    from jamsostek_channels.validation import check_participant

    today = args.as_of or clock.today()
    out = console()
    factory = PersonFactory(args.seed, as_of=today, invalid_ratio=0.08)
    people = factory.take(args.people)

    codes: Counter[str] = Counter()
    valid = caught = spoiled = 0
    with Progress(console=out, transient=False, disable=args.json) as progress:
        task = progress.add_task("Memeriksa peserta / checking participants", total=len(people))
        for person in people:
            result = check_participant(person.data, as_of=today)
            valid += result.ok
            codes.update(p.code for p in result.problems)
            if person.expected_problem is not None:
                spoiled += 1
                caught += person.expected_problem in {p.code for p in result.problems}
            progress.advance(task)

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
    quotes = [
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
    paid = [month - i for i in range(2, 13)]  # paid through two months ago
    status = coverage_status(month - 12, paid, as_of=today)

    if args.json:
        print_json(
            {
                "as_of": today.isoformat(),
                "participants": {
                    "checked": len(people),
                    "valid": valid,
                    "invalid": len(people) - valid,
                    "problems": dict(codes),
                    "spoiled": spoiled,
                    "caught": caught,
                },
                "quotes": {title: summary(q) for title, q in quotes},
                "coverage_example": unstructure(status),
            }
        )
        return 0 if caught == spoiled else 1

    table = Table(
        title=f"{len(people)} peserta diperiksa / participants checked", title_justify="left"
    )
    table.add_column("result")
    table.add_column("count", justify="right")
    table.add_row("valid", str(valid))
    for code, count in codes.most_common():
        table.add_row(code, str(count))
    table.add_row("spoiled rows caught as expected", f"{caught}/{spoiled}")
    out.print(table)
    for title, priced in quotes:
        out.print(f"\n[bold]{title}[/bold]: 12 bulan mulai / months from {month}")
        print_quote(priced, out)
    out.print(
        f"\nStatus kepesertaan / coverage on {today}: paid through {status.paid_through} -> "
        f"[bold]{status.state.value}[/bold], payable {', '.join(map(str, status.payable))}, "
        f"pay by {status.pay_by}"
    )
    return 0 if caught == spoiled else 1
