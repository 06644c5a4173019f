"""``jamsostek-channels check FILE``: validate participants in canonical JSON (or a CSV batch).

Exit 0 when valid, 1 with every problem listed, 2 when the file cannot be read or parsed
(:mod:`jamsostek_channels.cli.exits`).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jamsostek_channels.cli.exits import Exit
from jamsostek_channels.errors import InvalidInput, Problem

__all__ = ["MAX_FILE_BYTES", "add_parser"]

#: A participant is a few hundred bytes; anything over this is refused before parsing.
MAX_FILE_BYTES = 1_000_000
#: CSV batches may be large (one participant per row).
MAX_CSV_BYTES = 2_000_000_000


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser(
        "check",
        parents=[common],
        help="validate a participant (canonical JSON) or a CSV batch",
        description=(
            "Validate one participant in canonical JSON, or a CSV file (.csv) with one "
            "participant per row: UTF-8 with or without BOM, cells separated by ',' or ';' (told "
            "from the header, which names the fields), list fields separated by '|'. Rows are "
            "reported by data row and file line. Exit 0 valid, 1 invalid, 2 unreadable."
        ),
    )
    parser.add_argument("file", metavar="FILE", type=Path)
    parser.set_defaults(run=run)


def _unreadable(args: argparse.Namespace, problems: Sequence[Problem]) -> Exit:
    from jamsostek_channels.cli.output import refuse

    document = {"valid": False, "errors": [p.as_dict() for p in problems], "warnings": []}
    return refuse(problems, Exit.USAGE, as_json=args.json, document=document)


def run(args: argparse.Namespace) -> Exit:
    from jamsostek_channels.inputs import read_json

    if args.file.suffix.lower() == ".csv":
        return _run_csv(args)
    try:
        data = read_json(args.file, max_bytes=MAX_FILE_BYTES)
    except InvalidInput as error:
        return _unreadable(args, error.problems)
    if not isinstance(data, dict):
        return _unreadable(args, [Problem.of("file", "file.not_object")])
    return _report_one(args, data)


def _report_one(args: argparse.Namespace, data: dict[str, Any]) -> Exit:
    from jamsostek_channels.cli.output import console, print_json, print_problems, safe
    from jamsostek_channels.converters import unstructure
    from jamsostek_channels.identifiers import nik, phone
    from jamsostek_channels.shortcuts import check_participant  # the packaged rules

    result = check_participant(data, as_of=args.as_of)
    if args.json:
        document: dict[str, Any] = {
            "valid": result.ok,
            "errors": [p.as_dict() for p in result.problems],
            "warnings": [p.as_dict() for p in result.warnings],
        }
        if result.participant is not None:
            document["participant"] = unstructure(result.participant)
        print_json(document)
    else:
        if result.warnings:
            print_problems(result.warnings, title="Peringatan / warnings")
        if result.problems:
            print_problems(result.problems, title=f"Tidak valid / invalid: {len(result.problems)}")
        else:
            p = result.participant
            assert p is not None
            console().print(
                safe(
                    f"Valid: {nik.mask(p.nik)} {p.name}, {phone.mask(p.phone)}, "
                    f"{', '.join(p.occupations)}, {', '.join(x.value for x in p.programs)}"
                )
            )
    return Exit.OK if result.ok else Exit.INVALID


def _run_csv(args: argparse.Namespace) -> Exit:
    from jamsostek_channels.cli.output import console, print_json, safe
    from jamsostek_channels.rules import default_rules
    from jamsostek_channels.validation import check_csv

    try:
        size = args.file.stat().st_size
        if size > MAX_CSV_BYTES:
            return _unreadable(args, [Problem.of("file", "field.too_long", {"max": MAX_CSV_BYTES})])
        handle = args.file.open("rb")
    except OSError:
        return _unreadable(args, [Problem.of("file", "file.unreadable")])
    failures: list[dict[str, Any]] = []
    rows = 0
    try:
        with handle:
            for row, result in check_csv(handle, as_of=args.as_of, rules=default_rules()):
                rows = row.row
                if not result.ok:
                    failures.append(
                        {
                            "row": row.row,
                            "line": row.line,
                            "errors": [p.as_dict() for p in result.problems],
                        }
                    )
    except InvalidInput as error:
        return _unreadable(args, error.problems)
    except OSError:  # read failing midway (a disk error, a file on a vanished share)
        return _unreadable(args, [Problem.of("file", "file.unreadable")])
    if args.json:
        print_json({"rows": rows, "valid": rows - len(failures), "invalid": failures})
    else:
        out = console()
        out.print(f"{rows} rows: {rows - len(failures)} valid, {len(failures)} invalid")
        for failure in failures[:50]:
            codes = ", ".join(f"{e['field']}:{e['code']}" for e in failure["errors"])
            out.print(safe(f"  row {failure['row']} (line {failure['line']}): {codes}"))
        if len(failures) > 50:
            out.print(f"  ... and {len(failures) - 50} more (use --json for all)")
    return Exit.INVALID if failures else Exit.OK
