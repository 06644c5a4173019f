"""``jamsostek-channels quote``: price contribution months from the command line."""

from __future__ import annotations

import argparse
import contextlib
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from jamsostek_channels.channel import Capabilities

from jamsostek_channels.cli.exits import Exit
from jamsostek_channels.errors import AmountLimitRefused, JamsostekError
from jamsostek_channels.model import PayerKind, Program, Quote

__all__ = ["ChannelTerms", "add_parser", "print_channel_terms", "summary"]


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
    parser.add_argument(
        "--channel",
        metavar="NAME",
        help=(
            "price as this channel takes payments: only its allowed month counts, and its admin "
            "fee shown apart (no settings needed)"
        ),
    )
    parser.set_defaults(run=run)


@attrs.frozen
class ChannelTerms:
    """What a channel adds to a quote: its name and its admin fee on this quote's total."""

    name: str
    admin_fee: int

    def as_dict(self, quote: Quote) -> dict[str, Any]:
        return {
            "name": self.name,
            "admin_fee": self.admin_fee,
            "to_pay": quote.total + self.admin_fee,
        }


def summary(quote: Quote, channel: ChannelTerms | None = None) -> dict[str, Any]:
    """The ``--json`` form: ``total`` and one entry per month, and with ``--channel`` the
    channel's admin fee and what is paid in all (schema ``quote-summary``)."""
    from jamsostek_channels.converters import unstructure

    document: dict[str, Any] = {
        "total": quote.total,
        "months": [unstructure(m) for m in quote.by_month()],
    }
    if channel is not None:
        document["channel"] = channel.as_dict(quote)
    return document


def _codes(text: str) -> list[str]:
    """A comma-separated list of codes, any case (``JKK,jkm``): the model reads them."""
    return [code.strip() for code in text.split(",") if code.strip()]


def run(args: argparse.Namespace) -> Exit:
    from jamsostek_channels.cli.output import console, print_json, problems_of, refuse
    from jamsostek_channels.model import Payer
    from jamsostek_channels.shortcuts import quote  # the packaged rules

    try:
        capabilities = None
        if args.channel is not None:
            from jamsostek_channels.registry import spec

            capabilities = spec(args.channel).declared_capabilities()
        payer = Payer(args.payer, scheme=args.scheme)
        result = quote(
            income=args.income,
            occupations=_codes(args.occupation),
            programs=_codes(args.programs),
            start=args.start,
            months=args.months,
            payer=payer,
            joined=args.joined,
            allowed_months=None if capabilities is None else capabilities.month_counts,
        )
    except JamsostekError as error:  # the arguments refused by a rule: nothing to price
        return refuse(problems_of(error, field="quote"), Exit.USAGE, as_json=args.json)
    terms = None
    if capabilities is not None:
        refused = _limit_refusal(args.channel, capabilities, result)
        if refused is not None:  # the channel would refuse this payment before sending it
            problem = problems_of(refused, field="months")
            document = {"errors": [{**problem[0].as_dict(), "params": refused.params}]}
            return refuse(problem, Exit.USAGE, as_json=args.json, document=document)
        terms = ChannelTerms(args.channel, capabilities.admin_fee.fee_for(result.total))
    if args.json:
        print_json(summary(result, terms))
    else:
        out = console()
        print_quote(result, out)
        if terms is not None:
            print_channel_terms(result, terms, out)
    return Exit.OK


def _limit_refusal(
    channel: str, capabilities: Capabilities, result: Quote
) -> AmountLimitRefused | None:
    """The channel's per-payment amount limits, checked as its client checks a payment (one
    piece of logic, :func:`jamsostek_channels.limits.amount_refusal`): under a minimum, the
    same months are priced further to name a larger month count that reaches it."""
    from jamsostek_channels.limits import amount_refusal
    from jamsostek_channels.shortcuts import quote

    priced = result
    larger = max(capabilities.month_counts, default=result.months)
    if result.total < capabilities.min_amount and larger > result.months:
        with contextlib.suppress(JamsostekError):  # then no count is named
            priced = quote(
                income=result.income,
                occupations=result.occupations,
                programs=result.programs,
                start=result.start,
                months=larger,
                payer=result.payer,
                joined=result.joined,
                allowed_months=capabilities.month_counts,
            )
    month_amounts = [month.total for month in priced.by_month()]
    return amount_refusal(channel, capabilities, result.months, month_amounts)


def print_channel_terms(result: Quote, terms: ChannelTerms, out: Any) -> None:
    """The channel's admin fee apart from the contribution, and what the payer hands over."""
    from rich.table import Table

    from jamsostek_channels.cli.output import print_table, safe
    from jamsostek_channels.money import rupiah

    table = Table(title=f"Kanal / channel {safe(terms.name)}", title_justify="left")
    table.add_column("")
    table.add_column("Jumlah / amount", justify="right")
    table.add_row("Iuran / contribution", rupiah(result.total))
    table.add_row("Biaya admin / admin fee", rupiah(terms.admin_fee))
    table.add_row("Dibayar / to pay", rupiah(result.total + terms.admin_fee))
    print_table(table, out)


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
