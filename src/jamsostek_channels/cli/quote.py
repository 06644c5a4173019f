"""``jamsostek-channels quote``: price contribution months from the command line."""

from __future__ import annotations

import argparse
from typing import Any

from jamsostek_channels.cli.exits import Exit
from jamsostek_channels.errors import JamsostekError
from jamsostek_channels.model import PayerKind, Program, Quote

__all__ = ["add_parser", "summary"]


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser(
        "quote",
        parents=[common],
        help="price contribution months (a line per month and program)",
        description="Price contribution months by the rules in force for each month.",
    )
    parser.add_argument(
        "--income",
        required=True,
        type=int,
        metavar="N",
        help="declared monthly income, whole rupiah",
    )
    parser.add_argument(
        "--occupation",
        required=True,
        metavar="CODE[,CODE]",
        help="occupation code(s), at most two, comma-separated",
    )
    parser.add_argument("--programs", required=True, metavar="jkk,jkm[,jht]")
    parser.add_argument("--start", required=True, metavar="YYYY-MM", help="first month")
    parser.add_argument("--months", required=True, type=int, metavar="M")
    parser.add_argument(
        "--payer",
        default="self",
        choices=[k.value for k in PayerKind],
        help="who pays (default: self)",
    )
    parser.add_argument("--scheme", metavar="CODE", help="donor/CSR scheme code (with --payer csr)")
    parser.add_argument("--joined", metavar="YYYY-MM", help="the participant's first month")
    parser.set_defaults(run=run)


def summary(quote: Quote) -> dict[str, Any]:
    """The ``--json`` form: ``total`` and one entry per month (schema ``quote-summary``)."""
    from jamsostek_channels.converters import unstructure

    return {"total": quote.total, "months": [unstructure(m) for m in quote.by_month()]}


def run(args: argparse.Namespace) -> Exit:
    from jamsostek_channels.cli.output import console, print_json, problems_of, refuse
    from jamsostek_channels.model import Payer
    from jamsostek_channels.shortcuts import quote  # the packaged rules

    try:
        payer = Payer(args.payer, scheme=args.scheme)
        result = quote(
            income=args.income,
            occupations=[c.strip() for c in args.occupation.split(",") if c.strip()],
            programs=[p.strip() for p in args.programs.split(",") if p.strip()],
            start=args.start,
            months=args.months,
            payer=payer,
            joined=args.joined,
        )
    except JamsostekError as error:  # the arguments refused by a rule: nothing to price
        return refuse(problems_of(error, field="quote"), Exit.USAGE, as_json=args.json)
    if args.json:
        print_json(summary(result))
    else:
        print_quote(result, console())
    return Exit.OK


def print_quote(result: Quote, out: Any) -> None:
    from rich.table import Table

    from jamsostek_channels.cli.output import print_table, safe
    from jamsostek_channels.money import rupiah

    first = next(line for line in result.lines if line.program is Program.JKK)
    table = Table(
        title=(
            f"Iuran BPU / BPU contribution - income {rupiah(result.income)} "
            f"(level {first.level}, base {rupiah(first.base)}), "
            f"{safe(', '.join(result.occupations))}, payer {result.payer.kind.value}"
        ),
        title_justify="left",
    )
    table.add_column("Bulan / month")
    for program in Program:
        table.add_column(program.value.upper(), justify="right")
    table.add_column("Total", justify="right")
    table.add_column("Potongan / discount")
    for month in result.by_month():
        table.add_row(
            str(month.period),
            *(rupiah(month.amounts.get(p, 0)) if p in result.programs else "-" for p in Program),
            rupiah(month.total),
            month.discount or "",
        )
    saved = result.full_total - result.total
    table.add_section()
    table.add_row(
        "Jumlah / total",
        "",
        "",
        "",
        rupiah(result.total),
        f"hemat / saved {rupiah(saved)}" if saved else "",
    )
    print_table(table, out)
