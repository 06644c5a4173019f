"""``jamsostek-channels recover`` and ``outbox``: the operator's morning round.

``recover --channel NAME --settings FILE --journal FILE`` runs :meth:`Client.recover` for one
channel: every payment whose outcome is unknown is asked about (a payer's live one is left alone),
every queued reversal is delivered. ``--settings`` is the channel's settings as JSON: a
deployment's object for that channel, or a sandbox info file (its ``channels[NAME]`` entry).

``outbox --journal FILE`` lists, without sending anything, what is not settled: queued, refused
and expired reversals, and payments still unknown. What needs a person is marked: a reversal the
host refused or that expired (the money stays taken), a payment still unknown after its settle
window (``--settle-window``, default the profiles' 360 s).

Both exit 0 when nothing needs a person, 1 when something does, 2 when a file cannot be used,
4 when the journal fails; ``recover`` exits 3 when payments are still unknown after it (before 1:
money whose fate is not known comes first). See :mod:`jamsostek_channels.cli.exits`.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from jamsostek_channels.cli.exits import Exit
from jamsostek_channels.errors import InvalidInput, Problem

__all__ = ["add_parsers", "outbox_document", "run_outbox", "run_recover"]

#: The settle window the operator's list assumes when not told (the built profiles' value).
DEFAULT_SETTLE_SECONDS = 360
#: A settings file (or a sandbox info file, keys and all) is a few kilobytes.
_MAX_SETTINGS_BYTES = 1_000_000


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    recover = commands.add_parser(
        "recover",
        parents=[common],
        help="settle unknown payments and deliver queued reversals for one channel",
    )
    recover.add_argument("--channel", required=True, metavar="NAME")
    recover.add_argument("--settings", required=True, type=Path, metavar="FILE")
    recover.add_argument("--journal", required=True, type=Path, metavar="FILE")
    recover.add_argument("--agent-id", default=None, help="default: the settings' agent_id")
    recover.set_defaults(run=run_recover)

    outbox = commands.add_parser(
        "outbox",
        parents=[common],
        help="list queued reversals and unknown payments, marking what needs a person",
    )
    outbox.add_argument("--journal", required=True, type=Path, metavar="FILE")
    outbox.add_argument("--channel", default=None, metavar="NAME")
    outbox.add_argument(
        "--settle-window", type=int, default=DEFAULT_SETTLE_SECONDS, metavar="SECONDS"
    )
    outbox.set_defaults(run=run_outbox)


def _refuse(args: argparse.Namespace, problems: tuple[Problem, ...]) -> Exit:
    from jamsostek_channels.cli.output import refuse

    return refuse(problems, Exit.USAGE, as_json=args.json)


def _settings(path: Path, channel: str) -> dict[str, Any]:
    from jamsostek_channels.inputs import read_json

    document = read_json(path, max_bytes=_MAX_SETTINGS_BYTES)
    if isinstance(document, dict) and isinstance(document.get("channels"), dict):
        document = document["channels"].get(channel)  # a sandbox info file
    if not isinstance(document, dict):
        raise InvalidInput([Problem.of("settings", "field.required")])
    return document


def run_recover(args: argparse.Namespace) -> Exit:
    from jamsostek_channels import registry
    from jamsostek_channels.cli.journal_file import open_existing
    from jamsostek_channels.connection import connect

    try:
        # An unknown channel or unusable settings: every problem, before the journal is opened.
        spec = registry.spec(args.channel)
        settings = spec.parse_settings(_settings(args.settings, args.channel))
        journal = open_existing(args.journal)
    except InvalidInput as error:
        return _refuse(args, error.problems)
    try:
        with connect(args.channel, settings, journal=journal, agent_id=args.agent_id) as client:
            report = client.recover()
    except InvalidInput as error:  # settings the channel's profile refuses (an office)
        return _refuse(args, error.problems)
    # A typed error (the journal failing) goes up to main, which ends with its group's code.
    document: dict[str, Any] = {"channel": args.channel, **_asdict(report)}
    attention = len(report.still_unknown) + len(report.conflicts)
    attention += len(report.reversals_refused) + len(report.reversals_expired)
    attention += len(report.advices_expired)
    document["needs_a_person"] = attention
    _print_recover(args, document)
    if report.still_unknown:
        return Exit.UNKNOWN
    return Exit.INVALID if attention else Exit.OK


def _asdict(report: Any) -> dict[str, Any]:
    import attrs

    return {
        key: dict(value) if isinstance(value, dict) else list(value)
        for key, value in attrs.asdict(report).items()
    }


_RECOVER_LABELS = {
    "applied": "Terbayar / applied",
    "not_applied": "Tidak terbayar / not applied",
    "still_unknown": "Belum pasti / still unknown",
    "in_flight": "Sedang diproses / in flight",
    "conflicts": "Referensi bentrok / conflicts",
    "reversals_delivered": "Pembatalan diterima / reversals delivered",
    "reversals_refused": "Pembatalan ditolak / reversals refused",
    "reversals_expired": "Pembatalan kedaluwarsa / reversals expired",
    "reversals_pending": "Pembatalan antre / reversals pending",
    "reversals_repeated": "Dikirim ulang / sent again as a repeat",
    "reversed": "Dibatalkan / reversed",
    "advices_expired": "Advis kedaluwarsa / advices expired",
}


def _print_recover(args: argparse.Namespace, document: dict[str, Any]) -> None:
    from rich.table import Table

    from jamsostek_channels.cli.output import console, print_json, print_table, safe

    if args.json:
        print_json(document)
        return
    table = Table(title=f"recover: {safe(document['channel'])}", title_justify="left")
    table.add_column("")
    table.add_column("n", justify="right")
    table.add_column("references")
    codes = document["refusal_codes"]
    for key, label in _RECOVER_LABELS.items():
        references = document[key]
        named = [  # a refused reversal with the host's code: what the person looks up
            f"{reference} ({codes[reference]})" if reference in codes else reference
            for reference in references[:10]
        ]
        table.add_row(label, str(len(references)), safe(", ".join(named)))
    out = console()
    print_table(table, out)
    out.print(f"Perlu ditangani petugas / needs a person: {document['needs_a_person']}")


# outbox -----------------------------------------------------------------------------------------


def outbox_document(journal: Any, *, channel: str | None, settle: dt.timedelta) -> dict[str, Any]:
    """What is not settled in ``journal`` (of ``channel``, or all), marked where a person must
    act. Reads only: nothing is sent or changed."""
    from jamsostek_channels.journal import OutboxState

    now = journal.clock()
    items = []
    for item in journal.outbox(channel):
        if item.state is OutboxState.ACCEPTED:
            continue
        items.append(
            {
                "channel": item.channel,
                "kind": item.kind,
                "reference": item.reference,
                "state": item.state.value,
                "attempts": item.attempts,
                "next_attempt_at": item.next_attempt_at.isoformat(),
                "expires_at": item.expires_at.isoformat(),
                "last_error": item.last_error,
                # refused, expired, or past its expiry though nobody has marked it yet
                "needs_a_person": item.state in (OutboxState.REJECTED, OutboxState.EXPIRED)
                or item.expires_at <= now,
            }
        )
    unresolved = []
    for entry in journal.unresolved(channel):
        sent = entry.sent_at or entry.created_at
        unresolved.append(
            {
                "channel": entry.channel,
                "operation": entry.operation,
                "reference": entry.reference,
                "state": entry.state.value,
                "attempts": entry.attempts,
                "sent_at": sent.isoformat(),
                "in_flight": journal.held(entry),
                "needs_a_person": now - sent >= settle and not journal.held(entry),
            }
        )
    attention = sum(row["needs_a_person"] for row in (*items, *unresolved))
    return {"outbox": items, "unresolved": unresolved, "needs_a_person": attention}


def run_outbox(args: argparse.Namespace) -> Exit:
    from jamsostek_channels.cli.journal_file import open_existing

    try:
        journal = open_existing(args.journal)
    except InvalidInput as error:
        return _refuse(args, error.problems)
    try:
        document = outbox_document(
            journal, channel=args.channel, settle=dt.timedelta(seconds=args.settle_window)
        )
    finally:  # a journal failing under the read raises its typed error: main ends with JOURNAL
        journal.close()
    _print_outbox(args, document)
    return Exit.INVALID if document["needs_a_person"] else Exit.OK


def _print_outbox(args: argparse.Namespace, document: dict[str, Any]) -> None:
    from rich.table import Table

    from jamsostek_channels.cli.output import console, print_json, print_table, safe

    if args.json:
        print_json(document)
        return
    out = console()
    outbox = Table(title="Antrean / outbox", title_justify="left")
    for column in ("channel", "kind", "reference", "state", "attempts", "expires", "error", "!"):
        outbox.add_column(column)
    for row in document["outbox"]:
        outbox.add_row(
            safe(row["channel"]),
            safe(row["kind"]),
            safe(row["reference"]),
            row["state"],
            str(row["attempts"]),
            row["expires_at"],
            safe(row["last_error"] or "-"),
            "!" if row["needs_a_person"] else "",
        )
    print_table(outbox, out)
    open_payments = Table(title="Belum pasti / unresolved payments", title_justify="left")
    for column in ("channel", "reference", "state", "attempts", "sent", "in flight", "!"):
        open_payments.add_column(column)
    for row in document["unresolved"]:
        open_payments.add_row(
            safe(row["channel"]),
            safe(row["reference"]),
            row["state"],
            str(row["attempts"]),
            row["sent_at"],
            "yes" if row["in_flight"] else "",
            "!" if row["needs_a_person"] else "",
        )
    print_table(open_payments, out)
    out.print(f"Perlu ditangani petugas / needs a person: {document['needs_a_person']}")
