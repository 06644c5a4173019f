"""``jamsostek-channels reconcile``: a channel's settlement file against the local journal.

The file is read by the channel's own reader (its registry spec's ``settlement_reader``), or with
``--format json`` as a channel-neutral JSON array of canonical settlement records (the
``SettlementRecord`` fields: ``channel``, ``reference``, ``host_reference``, ``nik_masked``,
``periods``, ``amount``, ``admin_fee``, ``paid_at``, ``state``), read by
:func:`jamsostek_channels.inputs.read_json` (a BOM allowed, duplicate keys refused); amounts and
fees are whole rupiah from 0 to :data:`~jamsostek_channels.reconcile.MAX_AMOUNT`.

Exit 0 when the day is balanced, 1 when it is not (every discrepancy listed), 2 when the file or
the journal cannot be read, 4 when the journal fails (:mod:`jamsostek_channels.cli.exits`).
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jamsostek_channels.cli.exits import Exit
from jamsostek_channels.errors import InvalidInput, JamsostekError, Problem

if TYPE_CHECKING:
    from jamsostek_channels.channel import SettlementRecord
    from jamsostek_channels.reconcile import ReconciliationLine, ReconciliationReport

__all__ = [
    "DEFAULT_JOURNAL",
    "add_parser",
    "read_json_settlement",
    "run",
    "settlement_records",
]

#: The journal file read when ``--journal`` is not given (never created by this command).
DEFAULT_JOURNAL = Path("jamsostek-journal.sqlite")
#: A settlement record is about 300 bytes of JSON: a million records fit well under this.
MAX_JSON_BYTES = 1_000_000_000
#: Lines shown per category in the readable report (``--json`` has all of them).
SHOWN = 200

_LABELS = {
    "matched": "Cocok / matched",
    "amount_mismatch": "Selisih / mismatch",
    "missing_in_journal": "Tidak ada di jurnal / missing in journal",
    "missing_in_settlement": "Tidak ada di berkas / missing in settlement",
    "duplicated": "Ganda / duplicated",
    "reversed": "Dibatalkan / reversed",
    "unresolved": "Belum pasti / unresolved (run recover)",
    "declined_but_settled": "Ditolak tapi disetor / declined but settled",
    "other_day": "Hari lain / other day",
}

#: The canonical record's fields and the JSON type each must have.
_FIELDS: dict[str, tuple[type, str]] = {
    "channel": (str, "string"),
    "reference": (str, "string"),
    "host_reference": (str, "string"),
    "nik_masked": (str, "string"),
    "periods": (list, "array of YYYY-MM"),
    "amount": (int, "integer (rupiah)"),
    "admin_fee": (int, "integer (rupiah)"),
    "paid_at": (str, "ISO 8601 time with offset"),
    "state": (str, "paid | reversed"),
    "scope": (str, "string"),
}
#: Fields a record may leave out: ``scope`` (where its reference is unique), ``""`` if absent.
_OPTIONAL = frozenset({"scope"})
#: Checked by :func:`~jamsostek_channels.reconcile.amount_problem`: integer rupiah, in range.
_MONEY = frozenset({"amount", "admin_fee"})


class _Unreadable(Exception):
    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(problems)
        self.problems = tuple(problems)


def _date(text: str) -> dt.date:
    try:
        if len(text) != 10:
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected YYYY-MM-DD, got {text!r} / harus YYYY-MM-DD"
        ) from None


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser(
        "reconcile",
        parents=[common],
        help="match a channel's settlement file against the journal",
        description=(
            "Match a channel's end-of-day settlement file against the local journal by "
            "reference: matched, mismatched, missing on either side, duplicated, reversed, "
            "unresolved. Exit 0 balanced, 1 not balanced, 2 unreadable."
        ),
    )
    parser.add_argument("file", metavar="FILE", type=Path, help="the channel's settlement file")
    parser.add_argument(
        "--channel", required=True, metavar="NAME", help="an installed channel's name"
    )
    parser.add_argument(
        "--journal",
        type=Path,
        default=DEFAULT_JOURNAL,
        metavar="PATH",
        help=f"the journal file (default: ./{DEFAULT_JOURNAL})",
    )
    parser.add_argument(
        "--day",
        type=_date,
        metavar="YYYY-MM-DD",
        help="the WIB day (default: the file's day)",
    )
    parser.add_argument(
        "--scope",
        metavar="NAME",
        action="append",
        help=(
            "the scope the file covers, e.g. a post office (repeatable; default: the one its "
            "records name, else the whole channel): a journal several offices share is read "
            "for these only"
        ),
    )
    parser.add_argument(
        "--format",
        choices=("channel", "json"),
        default="channel",
        help="channel: the channel's own file format (default); json: canonical JSON records",
    )
    parser.set_defaults(run=run)


# Reading -------------------------------------------------------------------------------------


def _field_problems(index: int, item: Any) -> list[Problem]:
    where = f"records[{index}]"
    if not isinstance(item, dict):
        return [Problem.of(where, "field.type", {"expected": "object"})]
    from jamsostek_channels.messages import echo
    from jamsostek_channels.reconcile import amount_problem

    found = [  # an unknown name is echoed: short, and digits starred (it may be a NIK)
        Problem.of(f"{where}.{echo(name)}", "field.unknown") for name in item if name not in _FIELDS
    ]
    for name, (kind, expected) in _FIELDS.items():
        if name not in item:
            if name not in _OPTIONAL:
                found.append(Problem.of(f"{where}.{name}", "field.required"))
            continue
        value = item[name]
        if name in _MONEY:
            problem = amount_problem(f"{where}.{name}", value)
            if problem is not None:
                found.append(problem)
        elif not isinstance(value, kind) or isinstance(value, bool):
            found.append(Problem.of(f"{where}.{name}", "field.type", {"expected": expected}))
    return found


def _structure_problems(index: int, error: Exception) -> list[Problem]:
    from cattrs.errors import ClassValidationError

    where = f"records[{index}]"
    if not isinstance(error, ClassValidationError):
        return [Problem.of(where, "field.type", {"expected": "settlement record"})]
    noted, _ = error.group_exceptions()
    found = []
    for _, note in noted:
        name = note.name
        if name == "periods":
            found.append(Problem.of(f"{where}.periods", "period.format"))
        else:
            expected = _FIELDS[name][1] if name in _FIELDS else "settlement record"
            found.append(Problem.of(f"{where}.{name}", "field.type", {"expected": expected}))
    return found or [Problem.of(where, "field.type", {"expected": "settlement record"})]


def read_json_settlement(path: Path) -> list[SettlementRecord]:
    """Canonical JSON settlement records from the file at ``path``: read as
    :mod:`jamsostek_channels.inputs` reads JSON (its ``file.*`` problems), then
    :func:`settlement_records`."""
    from jamsostek_channels.inputs import read_json

    return settlement_records(read_json(path, max_bytes=MAX_JSON_BYTES))


def settlement_records(data: Any) -> list[SettlementRecord]:
    """Settlement records from a loaded JSON array; raises :class:`InvalidInput` with every
    problem of every record (``field.*``, and ``amount.*`` for amounts and fees out of range)."""
    from jamsostek_channels.channel import SettlementRecord
    from jamsostek_channels.converters import structure

    if not isinstance(data, list):
        raise InvalidInput(
            [Problem.of("file", "field.type", {"expected": "JSON array of settlement records"})]
        )
    records: list[SettlementRecord] = []
    problems: list[Problem] = []
    for index, item in enumerate(data):
        found = _field_problems(index, item)
        if not found:
            try:
                records.append(structure(item, SettlementRecord))
                continue
            except Exception as error:  # cattrs groups the causes: reported, never a traceback
                found = _structure_problems(index, error)
        problems += found
    if problems:
        raise InvalidInput(problems)
    return records


def _read_with_reader(args: argparse.Namespace) -> tuple[dt.date, list[SettlementRecord]]:
    from jamsostek_channels import registry
    from jamsostek_channels.messages import echo

    try:
        reader = registry.spec(args.channel).settlement_reader
    except InvalidInput as error:  # UnknownChannel: it lists the installed channels
        raise _Unreadable(error.problems) from None
    if reader is None:
        readers = [spec.name for spec in registry.channels() if spec.settlement_reader]
        operation = f"settlement files ({', '.join(readers) or '-'}; or --format json)"
        raise _Unreadable(
            [
                Problem.of(
                    "channel",
                    "capability.operation",
                    {"channel": echo(args.channel), "operation": operation},
                )
            ]
        )
    try:
        day, records = reader(args.file)
    except InvalidInput as error:
        raise _Unreadable(error.problems) from None
    except JamsostekError as error:
        raise _Unreadable(
            [Problem(error.field or "file", error.code, error.message_id, error.message_en)]
        ) from None
    except (OSError, ValueError, UnicodeError):
        raise _Unreadable([Problem.of("file", "file.unreadable")]) from None
    if args.day is not None and args.day != day:
        raise _Unreadable(
            [Problem.of("day", "field.type", {"expected": f"{day.isoformat()} (the file's day)"})]
        )
    return day, list(records)


def _read_settlement(args: argparse.Namespace) -> tuple[dt.date, list[SettlementRecord]]:
    if args.format != "json":
        return _read_with_reader(args)
    try:
        records = read_json_settlement(args.file)
    except InvalidInput as error:
        raise _Unreadable(error.problems) from None
    if args.day is not None:
        return args.day, records
    from jamsostek_channels.clock import JAKARTA

    days = {record.paid_at.astimezone(JAKARTA).date() for record in records}
    if len(days) != 1:  # empty, or spanning days: the caller must say which
        raise _Unreadable([Problem.of("day", "field.required")])
    return days.pop(), records


def _open_journal(path: Path) -> Any:
    from jamsostek_channels.cli.journal_file import open_existing

    try:
        return open_existing(path)
    except InvalidInput as error:
        raise _Unreadable(error.problems) from None


# Running -------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> Exit:
    from jamsostek_channels.reconcile import collector_paused

    with collector_paused():  # a day's file is ~100,000 records: see reconcile.py
        return _run(args)


def _run(args: argparse.Namespace) -> Exit:
    from jamsostek_channels.reconcile import reconcile_journal

    try:
        day, records = _read_settlement(args)
        journal = _open_journal(args.journal)
    except _Unreadable as error:
        return _unreadable(args, error.problems)
    try:
        report = reconcile_journal(
            records, journal, channel=args.channel, day=day, scopes=args.scope
        )
    except InvalidInput as error:  # a channel reader let an amount through that reconcile refuses
        return _unreadable(args, error.problems)
    finally:  # a journal failing under the read raises its typed error: main ends with JOURNAL
        journal.close()
    if args.json:
        from jamsostek_channels.cli.output import print_json

        print_json(report.as_dict())
    else:
        print_report(report)
    return Exit.OK if report.balanced else Exit.INVALID


def _unreadable(args: argparse.Namespace, problems: Sequence[Problem]) -> Exit:
    from jamsostek_channels.cli.output import refuse

    return refuse(problems, Exit.USAGE, as_json=args.json)


def _money(amount: int | None) -> str:
    from jamsostek_channels.money import rupiah

    return "-" if amount is None else rupiah(amount)


def print_report(report: ReconciliationReport, out: Any = None) -> None:
    """The readable report: a summary per category, both sides' totals, then the lines of
    every category but ``matched``. Every piece of file or journal text is escaped."""
    from rich.table import Table

    from jamsostek_channels.cli.output import console, print_table, safe

    out = out or console()
    totals = report.totals
    summary = Table(
        title=f"Rekonsiliasi / reconciliation: {safe(report.channel)}, {report.day.isoformat()}",
        title_justify="left",
    )
    summary.add_column("Kategori / category")
    summary.add_column("Baris / lines", justify="right")
    summary.add_column("Berkas iuran / file amount", justify="right")
    summary.add_column("Berkas admin / file fee", justify="right")
    summary.add_column("Jurnal iuran / journal amount", justify="right")
    summary.add_column("Jurnal admin / journal fee", justify="right")
    for name, category in totals.categories.items():
        summary.add_row(
            _LABELS[name],
            str(category.lines),
            _money(category.file.amount),
            _money(category.file.admin_fee),
            _money(category.journal.amount),
            _money(category.journal.admin_fee),
        )
    print_table(summary, out)

    sides = Table(title="Jumlah / totals", title_justify="left")
    for column in ("Sisi / side", "Jumlah / count", "Iuran / amount", "Admin / fee"):
        sides.add_column(column, justify="left" if column.startswith("Sisi") else "right")
    for label, total in (
        ("Berkas dibayar / file paid", totals.file_paid),
        ("Berkas dibatalkan / file reversed", totals.file_reversed),
        ("Jurnal diterapkan / journal applied", totals.journal_applied),
        ("Jurnal dibatalkan / journal reversed", totals.journal_reversed),
        ("Jurnal belum pasti / journal unresolved", totals.journal_unresolved),
        ("Jurnal tidak diterapkan / journal not applied", totals.journal_not_applied),
        ("Jurnal hari lain / journal, other days", totals.journal_other_day),
    ):
        sides.add_row(label, str(total.count), _money(total.amount), _money(total.admin_fee))
    print_table(sides, out)

    for name, lines in report.categories().items():
        if name != "matched" and lines:
            _print_lines(out, f"{_LABELS[name]}: {len(lines)}", lines, report.day)
    if report.balanced:
        out.print("[bold green]SEIMBANG / BALANCED[/]")
    else:
        out.print("[bold red]TIDAK SEIMBANG / NOT BALANCED[/]")


def _print_lines(out: Any, title: str, lines: Sequence[ReconciliationLine], day: dt.date) -> None:
    from rich.table import Table

    from jamsostek_channels.cli.output import print_table, safe

    table = Table(title=title, title_justify="left")
    for column in (
        "Referensi / reference",
        "Alasan / reason",
        "Peserta / customer",
        "Berkas / file",
        "Jurnal / journal",
        "Ref. host (berkas | jurnal)",
    ):
        table.add_column(column)
    for line in lines[:SHOWN]:
        file_side = (
            "-"
            if line.file_state is None
            else f"{line.file_state.value} {_money(line.file_amount)}"
            f" + {_money(line.file_admin_fee)}"
        )
        journal_side = (
            "-"
            if line.journal_state is None
            else f"{line.journal_state.value} {_money(line.journal_amount)}"
            f" + {_money(line.journal_admin_fee)}"
            + (
                f" ({line.journal_day.isoformat()})"
                if line.journal_day is not None and line.journal_day != day
                else ""
            )
        )
        table.add_row(
            safe(line.reference),
            safe(line.reason or ""),
            safe(line.customer_masked),
            safe(file_side),
            safe(journal_side),
            safe(f"{line.file_host_reference or '-'} | {line.journal_host_reference or '-'}"),
        )
    print_table(table, out)
    if len(lines) > SHOWN:
        more = len(lines) - SHOWN
        out.print(f"... dan {more} lagi / and {more} more (--json for all)")
