"""``jamsostek-channels check FILE``: validate participants in canonical JSON (or a CSV batch).

Exit 0 when valid, 1 with every problem listed, 2 when the file cannot be read or parsed
(:mod:`jamsostek_channels.cli.exits`). A CSV batch shows a progress bar on stderr when it is a
terminal (never when piped or redirected), and ``--rejects FILE`` writes its refused rows with
their reasons (:mod:`jamsostek_channels.cli.rejects`).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jamsostek_channels.cli.exits import Exit
from jamsostek_channels.errors import InvalidInput, Problem

if TYPE_CHECKING:
    from rich.progress import Progress

    from jamsostek_channels.cli.rejects import RejectsFile
    from jamsostek_channels.inputs import CsvRow

__all__ = ["CSV_COLUMNS", "MAX_FILE_BYTES", "add_parser"]

#: A participant is a few hundred bytes; anything over this is refused before parsing.
MAX_FILE_BYTES = 1_000_000
#: CSV batches may be large (one participant per row).
MAX_CSV_BYTES = 2_000_000_000
#: A CSV batch's columns, as ``--help`` and the README describe them (the canonical fields).
CSV_COLUMNS: dict[str, str] = {
    "nik": "16-digit NIK (dots, spaces and hyphens are ignored)",
    "name": "full name, as on the KTP",
    "birth_date": "YYYY-MM-DD",
    "sex": "male or female (must agree with the NIK)",
    "phone": "mobile number, 08... or +628...",
    "email": "optional",
    "address": "street address",
    "postal_code": "5 digits",
    "occupations": "occupation code(s), at most two, '|'-separated, any case (pedagang|petani)",
    "income": "declared monthly income, whole rupiah",
    "programs": "jkk|jkm, or jkk|jkm|jht, any case",
    "kpj": "optional: the member's KPJ number when already registered",
}
#: Rows checked between two updates of the progress bar (drawing is not free).
_PROGRESS_EVERY = 2_000


def _columns_help() -> str:
    width = max(len(name) for name in CSV_COLUMNS)
    return "CSV columns (a header row names them, in any order):\n" + "\n".join(
        f"  {name:<{width}}  {meaning}" for name, meaning in CSV_COLUMNS.items()
    )


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser(
        "check",
        parents=[common],
        help="validate a participant (canonical JSON) or a CSV batch",
        description=(
            "Validate one participant in canonical JSON, or a CSV file (.csv) with one "
            "participant per row: UTF-8 with or without BOM, cells separated by ',' or ';' (told "
            "from the header, which names the fields), list fields separated by '|'. Rows are "
            "reported by data row and file line. Exit 0 valid, 1 invalid, 2 unreadable. A CSV "
            "batch shows a progress bar on stderr when it is a terminal."
        ),
        epilog=_columns_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", metavar="FILE", type=Path)
    parser.add_argument(
        "--rejects",
        metavar="OUT.csv",
        type=Path,
        help=(
            "CSV batch: write the refused rows to this file, each as it was read, after its "
            "row, line and reasons (codes, Indonesian, English)"
        ),
    )
    parser.set_defaults(run=run)


def _unreadable(args: argparse.Namespace, problems: Sequence[Problem]) -> Exit:
    from jamsostek_channels.cli.output import refuse

    document = {"valid": False, "errors": [p.as_dict() for p in problems], "warnings": []}
    return refuse(problems, Exit.USAGE, as_json=args.json, document=document)


def run(args: argparse.Namespace) -> Exit:
    from jamsostek_channels.inputs import read_json

    if args.file.suffix.lower() == ".csv":
        return _run_csv(args)
    if args.rejects is not None:
        problem = Problem.of("--rejects", "cli.usage", {"detail": "--rejects is for a .csv batch"})
        return _unreadable(args, [problem])
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


class _CountedLines:
    """The file's lines, counting the bytes read: the progress bar's measure."""

    def __init__(self, lines: Iterable[bytes]) -> None:
        self._lines = lines
        self.read = 0

    def __iter__(self) -> Iterator[bytes]:
        for line in self._lines:
            self.read += len(line)
            yield line


def _progress(size: int) -> Progress | None:
    """A progress bar on stderr when it is a terminal; ``None`` otherwise (piped, redirected,
    a CI log), where a bar would only be noise."""
    from jamsostek_channels.cli.output import console

    out = console(stderr=True)
    if not out.is_terminal:
        return None
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn("Memeriksa / checking"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.fields[rows]:,} rows"),
        TimeRemainingColumn(),
        console=out,
        transient=False,
    )


def _cannot_write(args: argparse.Namespace, error: OSError) -> Exit:
    problem = Problem.of(
        "--rejects", "cli.cannot_write", {"path": args.rejects, "reason": error.strerror}
    )
    return _unreadable(args, [problem])


def _run_csv(args: argparse.Namespace) -> Exit:
    from jamsostek_channels.cli.rejects import RejectsFile

    try:
        size = args.file.stat().st_size
        if size > MAX_CSV_BYTES:
            return _unreadable(args, [Problem.of("file", "field.too_long", {"max": MAX_CSV_BYTES})])
        handle = args.file.open("rb")
    except OSError:
        return _unreadable(args, [Problem.of("file", "file.unreadable")])
    with handle:
        rejects = None
        if args.rejects is not None:
            try:
                rejects = RejectsFile(args.rejects)
            except OSError as error:
                return _cannot_write(args, error)
        try:
            return _check_rows(args, handle, size, rejects)
        finally:
            if rejects is not None:
                rejects.discard()  # after a commit: nothing left to drop


def _check_rows(
    args: argparse.Namespace, handle: Iterable[bytes], size: int, rejects: RejectsFile | None
) -> Exit:
    from jamsostek_channels.cli.output import console, print_json, safe
    from jamsostek_channels.rules import default_rules
    from jamsostek_channels.validation import check_csv

    failures: list[dict[str, Any]] = []
    rows = 0
    last: CsvRow | None = None
    lines = _CountedLines(handle)
    progress = _progress(size)
    try:
        if progress is not None:
            progress.start()
            task = progress.add_task("check", total=max(size, 1), rows=0)
        for row, result in check_csv(lines, as_of=args.as_of, rules=default_rules()):
            rows, last = row.row, row
            if not result.ok:
                failures.append(
                    {
                        "row": row.row,
                        "line": row.line,
                        "errors": [p.as_dict() for p in result.problems],
                    }
                )
                if rejects is not None:
                    try:
                        rejects.add(row, result.problems)
                    except OSError as error:  # the rejects' disk, not the input, failed
                        return _cannot_write(args, error)
            if progress is not None and rows % _PROGRESS_EVERY == 0:
                progress.update(task, completed=lines.read, rows=rows)
        if progress is not None:
            progress.update(task, completed=max(size, 1), rows=rows)
    except InvalidInput as error:
        return _unreadable(args, error.problems)
    except OSError:  # read failing midway (a disk error, a file on a vanished share)
        return _unreadable(args, [Problem.of("file", "file.unreadable")])
    finally:
        if progress is not None:
            progress.stop()
    if rejects is not None:
        try:
            rejects.commit(last.header if last is not None else ())
        except OSError as error:
            return _cannot_write(args, error)
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
